// Central finite differences for the kernel tests: the scalar probe is L = Σ wᵢ·outᵢ with
// fixed random weights w, so dL/dout = w is what each backward receives.
import Foundation
import Tensor
import XCTest

/// Random values in [-scale, scale) from a fixed seed.
func randomValues(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = RNG(seed: seed)
    return (0..<n).map { _ in (2 * rng.nextFloat() - 1) * scale }
}

/// Σ w·y accumulated in Float64.
func dot(_ w: [Float], _ y: UnsafePointer<Float>) -> Double {
    var s = 0.0
    for i in 0..<w.count { s += Double(w[i]) * Double(y[i]) }
    return s
}

/// Compares `analytic` with central differences of `probe` in each coordinate of `x` listed
/// by `stride` and asserts ‖fd − analytic‖ / ‖analytic‖ < tolerance over those coordinates.
/// With Float32 kernels and eps = 1e-2 the truncation error is O(eps²) and the rounding
/// error about 1e-7·|L|/eps, both well under the 1e-2 bounds the tests use.
func assertGradient(_ name: String, x: UnsafeMutablePointer<Float>, count: Int, analytic: UnsafePointer<Float>,
                    eps: Float = 1e-2, tolerance: Double = 1e-2, stride: Int = 1,
                    file: StaticString = #filePath, line: UInt = #line, probe: () -> Double) {
    var diff = 0.0, norm = 0.0
    var i = 0
    while i < count {
        let saved = x[i]
        x[i] = saved + eps
        let up = probe()
        x[i] = saved - eps
        let down = probe()
        x[i] = saved
        let fd = (up - down) / (2 * Double(eps))
        diff += (fd - Double(analytic[i])) * (fd - Double(analytic[i]))
        norm += Double(analytic[i]) * Double(analytic[i])
        i += stride
    }
    XCTAssertGreaterThan(norm, 0, "\(name): gradient is identically zero", file: file, line: line)
    let rel = (diff / max(norm, 1e-30)).squareRoot()
    XCTAssertLessThan(rel, tolerance, "\(name): relative gradient error \(rel)", file: file, line: line)
}
