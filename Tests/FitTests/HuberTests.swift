// Huber loss by hand, and the approach-3 objective's gradient against finite differences.
import XCTest
import Fit

final class HuberTests: XCTestCase {
    func testHuberAgainstHandValues() {
        let delta = 1e-3
        // Inside: r²/2. 5e-4 → 1.25e-7.
        XCTAssertEqual(huber(5e-4, delta: delta), 1.25e-7, accuracy: 1e-20)
        XCTAssertEqual(huber(-5e-4, delta: delta), 1.25e-7, accuracy: 1e-20)
        // Outside: δ(|r| − δ/2). r = 0.01 → 1e-3 × 0.0095 = 9.5e-6.
        XCTAssertEqual(huber(0.01, delta: delta), 9.5e-6, accuracy: 1e-18)
        XCTAssertEqual(huber(-0.01, delta: delta), 9.5e-6, accuracy: 1e-18)
        // Continuous at the joint: both pieces give δ²/2.
        XCTAssertEqual(huber(delta, delta: delta), 5e-7, accuracy: 1e-20)
        XCTAssertEqual(huber(0, delta: delta), 0)
        XCTAssertEqual(huberDerivative(5e-4, delta: delta), 5e-4)
        XCTAssertEqual(huberDerivative(0.01, delta: delta), 1e-3)
        XCTAssertEqual(huberDerivative(-0.01, delta: delta), -1e-3)
    }

    func testObjectiveAtHandComputedPoint() {
        // One run, N = e², D = e³, L = 2; θ = (a, b, e, α, β) = (1, 1, 0, 0.5, 0.5):
        // terms 1 − 1, 1 − 1.5, 0 → LSE = log(1 + e^-0.5 + 1); r = LSE − log 2.
        let obj = Approach3Objective(parameters: [exp(2)], tokens: [exp(3)], losses: [2], delta: 1)
        let lse = log(2 + exp(-0.5))
        let r = lse - log(2)
        let (v, g) = obj.valueAndGradient([1, 1, 0, 0.5, 0.5])
        XCTAssertEqual(v, 0.5 * r * r, accuracy: 1e-15)
        let s = 2 + exp(-0.5)
        XCTAssertEqual(g[0], r / s, accuracy: 1e-15)
        XCTAssertEqual(g[1], r * exp(-0.5) / s, accuracy: 1e-15)
        XCTAssertEqual(g[2], r / s, accuracy: 1e-15)
        XCTAssertEqual(g[3], -r / s * 2, accuracy: 1e-15)
        XCTAssertEqual(g[4], -r * exp(-0.5) / s * 3, accuracy: 1e-15)
    }

    func testObjectiveGradientMatchesFiniteDifferences() {
        // Noisy runs so residuals fall on both sides of δ; points where no residual sits at ±δ.
        let runs = syntheticSweep(noise: 0.01, seed: 7)
        var obj = Approach3Objective(parameters: runs.map(\.parameters), tokens: runs.map(\.tokens),
                                     losses: runs.map(\.finalLoss))
        obj.weights = runs.indices.map { Double($0 % 3) }  // bootstrap-like multiplicities 0, 1, 2
        for theta in [[6.0, 6.0, 0.5, 0.34, 0.28], [3.0, 8.0, 0.2, 0.2, 0.4], [10.0, 2.0, -1.0, 0.9, 0.1]] {
            let (_, g) = obj.valueAndGradient(theta)
            for k in 0..<5 {
                let h = 1e-6
                var up = theta, down = theta
                up[k] += h
                down[k] -= h
                let fd = (obj.valueAndGradient(up).value - obj.valueAndGradient(down).value) / (2 * h)
                XCTAssertEqual(g[k], fd, accuracy: 1e-7 * max(1, abs(fd)), "component \(k) at \(theta)")
            }
        }
    }
}
