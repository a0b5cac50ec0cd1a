// The learning-rate pilot's maths: the parabola's vertex, each shape's best LR, and the rule
// fitted to known best LRs.
import Fit
import Foundation
import Tensor
import XCTest

final class LRRuleTests: XCTestCase {
    /// The vertex of y = 3 (x − 0.7)² + 2 from any three points of it, evenly spaced or not.
    func testParabolaMinimumIsTheVertex() throws {
        let f = { (x: Double) in 3 * (x - 0.7) * (x - 0.7) + 2 }
        for xs in [(-1.0, 0.0, 1.0), (0.1, 0.5, 2.3), (-3.0, 0.69, 0.71)] {
            let v = try XCTUnwrap(parabolaMinimum(xs, (f(xs.0), f(xs.1), f(xs.2))))
            XCTAssertEqual(v, 0.7, accuracy: 1e-9)
        }
        XCTAssertNil(parabolaMinimum((0, 1, 2), (1, 2, 3)), "collinear: no minimum")
        XCTAssertNil(parabolaMinimum((0, 1, 2), (1, 2, 1)), "opens downward: no minimum")
    }

    func trials(d: Int, steps: Int, budget: Double = 1e12, lrs: [Double], loss: (Double) -> Double) -> [LRTrial] {
        lrs.map { LRTrial(budget: budget, d: d, layers: 1, headSize: 32, steps: steps, lr: $0, loss: loss(log($0))) }
    }

    func testBestLearningRateFromTheBestAndItsNeighbours() throws {
        // Loss a parabola in ln lr with its minimum at ln(3e-3), tried at ×0.25 … ×4 of 2e-3 in shuffled order;
        // a far-off fifth point that a fit through all would feel must not move the vertex.
        let centre = log(3e-3)
        var t = trials(d: 64, steps: 500, lrs: [8e-3, 1e-3, 2e-3, 4e-3, 5e-4].shuffled()) { 2.5 + 0.1 * ($0 - centre) * ($0 - centre) }
        t[t.firstIndex { $0.lr == 5e-4 }!].loss = 9
        let best = try bestLearningRate(t)
        XCTAssertEqual(best.lnLR, centre, accuracy: 1e-9)
        XCTAssertNil(best.edge)
        XCTAssertEqual(best.trials.map(\.lr), [5e-4, 1e-3, 2e-3, 4e-3, 8e-3])

        // Best at an edge: that LR, flagged; a diverged (infinite) run is never best.
        let rising = try bestLearningRate(trials(d: 64, steps: 500, lrs: [1e-3, 2e-3, 4e-3]) { 3 + $0 })
        XCTAssertEqual(rising.edge, .low)
        XCTAssertEqual(rising.lnLR, log(1e-3), accuracy: 1e-12)
        var falling = trials(d: 64, steps: 500, lrs: [1e-3, 2e-3, 4e-3, 8e-3]) { 3 - $0 }
        falling[3].loss = .infinity
        let high = try bestLearningRate(falling)
        XCTAssertNil(high.edge, "the diverged 8e-3 lies beyond 4e-3, so 4e-3 is between two trials")
        XCTAssertEqual(high.lnLR, log(4e-3), accuracy: 1e-12, "no parabola through a diverged neighbour")
        let top = try bestLearningRate(Array(falling.prefix(3)))
        XCTAssertEqual(top.edge, .high)
        XCTAssertThrowsError(try bestLearningRate(trials(d: 64, steps: 500, lrs: [1e-3, 2e-3]) { _ in .infinity }))
    }

    /// Best LRs drawn from a known rule (with and without small noise) at two budgets' shapes:
    /// the fit recovers c, w and s.
    func testRuleFitRecoversAKnownRule() throws {
        let (c, w, s, batchTerm) = (-5.5, -0.6, 0.3, -0.402)
        var rng = SplitMix64(seed: 5)
        func points(noise: Double) -> [BestLR] {
            var out: [BestLR] = []
            for (budget, scale) in [(3e11, 1.0), (6e11, 2.0)] {
                for (d, steps) in [(16, 4000), (32, 1800), (48, 1100), (64, 700), (96, 300)] {
                    let runSteps = Int(Double(steps) * scale)
                    let ln = c + w * log(Double(d) / 128) + s * log(Double(runSteps) / 300) + batchTerm + noise * rng.normal()
                    out.append(BestLR(budget: budget, d: d, layers: 1, headSize: 32, steps: runSteps, lnLR: ln, loss: 3,
                                      edge: nil, trials: []))
                }
            }
            return out
        }
        let exact = try fitLRRule(points(noise: 0), batchTerm: batchTerm)
        XCTAssertEqual(exact.intercept, c, accuracy: 1e-9)
        XCTAssertEqual(exact.width, w, accuracy: 1e-9)
        XCTAssertEqual(exact.steps, s, accuracy: 1e-9)
        XCTAssertEqual(exact.rms, 0, accuracy: 1e-9)
        XCTAssertEqual(exact.residuals.count, 10)

        let noisyPoints = points(noise: 0.05)
        let noisy = try fitLRRule(noisyPoints, batchTerm: batchTerm)
        XCTAssertEqual(noisy.width, w, accuracy: 0.15)
        XCTAssertEqual(noisy.steps, s, accuracy: 0.15)
        XCTAssertGreaterThan(noisy.rms, 0.01)
        XCTAssertLessThan(noisy.rms, 0.1)
        // The residuals are the points less the fitted rule.
        for (point, residual) in zip(noisyPoints, noisy.residuals) {
            let rule = noisy.intercept + noisy.width * log(Double(point.d) / 128) + noisy.steps * log(Double(point.steps) / 300) + batchTerm
            XCTAssertEqual(residual, point.lnLR - rule, accuracy: 1e-9)
        }
        let p = points(noise: 0)

        // One budget: steps fall exactly as d grows (steps ∝ 1/FLOPs per token here tied to d), so
        // the two slopes are not separable; too few points is an error too.
        let one = (0..<4).map { k -> BestLR in
            let d = 32 << k
            return BestLR(budget: 1e12, d: d, layers: 1, headSize: 32, steps: 19200 / d, lnLR: -6, loss: 3, edge: nil, trials: [])
        }
        XCTAssertThrowsError(try fitLRRule(one, batchTerm: 0)) { XCTAssertTrue("\($0)".contains("two budgets"), "\($0)") }
        XCTAssertThrowsError(try fitLRRule(Array(p.prefix(2)), batchTerm: 0))
    }
}
