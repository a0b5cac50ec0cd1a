// L-BFGS and its Wolfe line search on problems with known minima.
import XCTest
import Fit

final class LBFGSTests: XCTestCase {
    func testRosenbrockReachesOneOne() {
        // f = (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1), from the classic start (−1.2, 1).
        let r = minimizeLBFGS(from: [-1.2, 1]) { x, g in
            let a = 1 - x[0], b = x[1] - x[0] * x[0]
            g[0] = -2 * a - 400 * x[0] * b
            g[1] = 200 * b
            return a * a + 100 * b * b
        }
        XCTAssertTrue(r.converged, "stopped by \(r.stop)")
        XCTAssertEqual(r.x[0], 1, accuracy: 1e-8)
        XCTAssertEqual(r.x[1], 1, accuracy: 1e-8)
        XCTAssertLessThan(r.value, 1e-16)
    }

    func testIllConditionedQuadraticReachesItsMinimum() {
        // f = ½ Σ λ_i (x_i − c_i)², λ from 1 to 1e4: minimum at c.
        let n = 20
        let lambda = (0..<n).map { pow(10, 4 * Double($0) / Double(n - 1)) }
        let centre = (0..<n).map { Double($0) - 7.5 }
        let r = minimizeLBFGS(from: [Double](repeating: 0, count: n)) { x, g in
            var f = 0.0
            for i in 0..<n {
                let d = x[i] - centre[i]
                f += 0.5 * lambda[i] * d * d
                g[i] = lambda[i] * d
            }
            return f
        }
        XCTAssertTrue(r.converged, "stopped by \(r.stop)")
        for i in 0..<n { XCTAssertEqual(r.x[i], centre[i], accuracy: 1e-9) }
    }

    func testStopsOnNonFiniteStart() {
        let r = minimizeLBFGS(from: [0]) { _, g in g[0] = 0; return .nan }
        XCTAssertEqual(r.stop, .nonFinite)
        XCTAssertFalse(r.converged)
    }
}
