// Variable projection for approach 3: its exact inner solve, agreement with the L-BFGS grid on the
// same objective, and recovery of a known law from points with no isoFLOP structure.
import XCTest
import Fit

final class VarProTests: XCTestCase {
    func testNonNegativeLeastSquaresMatchesHandCases() {
        // G = I, b = (1, −2, 3): the unconstrained minimum (1, −2, 3) is clipped to (1, 0, 3).
        var g = Symmetric3()
        g.a00 = 1; g.a11 = 1; g.a22 = 1
        XCTAssertEqual(nonNegativeLeastSquares3(g, SIMD3(1, -2, 3)), SIMD3(1, 0, 3))
        // Coupled: G = [[2, 1, 0], [1, 2, 0], [0, 0, 1]], b = (3, 3, 1): interior solution (1, 1, 1).
        g = Symmetric3(a00: 2, a01: 1, a02: 0, a11: 2, a12: 0, a22: 1)
        let x = nonNegativeLeastSquares3(g, SIMD3(3, 3, 1))
        XCTAssertEqual(x.x, 1, accuracy: 1e-14); XCTAssertEqual(x.y, 1, accuracy: 1e-14); XCTAssertEqual(x.z, 1, accuracy: 1e-14)
        // b = (3, −3, 1): with y pinned at 0, x = 3/2 (the face's minimum); brute force agrees.
        let y = nonNegativeLeastSquares3(g, SIMD3(3, -3, 1))
        var best = Double.infinity, arg = SIMD3<Double>.zero
        for i in 0...300 { for j in 0...300 {
            let t = SIMD3(Double(i) / 100, Double(j) / 100, 1)
            let q = 2 * t.x * t.x + 2 * t.x * t.y + 2 * t.y * t.y + t.z * t.z - 2 * (3 * t.x - 3 * t.y + t.z)
            if q < best { best = q; arg = t }
        }}
        XCTAssertEqual(y.x, arg.x, accuracy: 0.01); XCTAssertEqual(y.y, 0); XCTAssertEqual(y.z, 1, accuracy: 1e-14)
    }

    /// The profile's gradient (from the envelope theorem) against central differences of φ.
    func testProfileGradientMatchesFiniteDifferences() {
        let runs = syntheticSweep(noise: 0.01, seed: 11)
        let objective = Approach3Objective(parameters: runs.map(\.parameters), tokens: runs.map(\.tokens),
                                           losses: runs.map(\.finalLoss))
        let solver = ProfileSolver(objective)
        for (alpha, beta) in [(0.3, 0.3), (0.5, 0.2), (0.25, 0.4)] {
            let p = solver.profile(alpha: alpha, beta: beta)
            let h = 1e-5
            let fa = (solver.profile(alpha: alpha + h, beta: beta).value - solver.profile(alpha: alpha - h, beta: beta).value) / (2 * h)
            let fb = (solver.profile(alpha: alpha, beta: beta + h).value - solver.profile(alpha: alpha, beta: beta - h).value) / (2 * h)
            XCTAssertEqual(p.dAlpha, fa, accuracy: 1e-4 * max(abs(fa), 1e-6), "∂φ/∂α at (\(alpha), \(beta))")
            XCTAssertEqual(p.dBeta, fb, accuracy: 1e-4 * max(abs(fb), 1e-6), "∂φ/∂β at (\(alpha), \(beta))")
        }
    }

    /// Noise-free: both fits recover the truth. Noisy: both minimise the same Huber objective, and
    /// VarPro's minimum is at most 1e-6 (relative) above the L-BFGS grid's, with the same law.
    func testVarProAndLBFGSGridFindTheSameOptimum() throws {
        for noise in [0.0, 0.01] {
            let runs = syntheticSweep(noise: noise, seed: 4)
            let objective = Approach3Objective(parameters: runs.map(\.parameters), tokens: runs.map(\.tokens),
                                               losses: runs.map(\.finalLoss))
            let grid = try fitApproach3(parameters: runs.map(\.parameters), tokens: runs.map(\.tokens), losses: runs.map(\.finalLoss))
            let vp = try fitApproach3VarPro(objective)
            // Evaluate VarPro's law with the L-BFGS fit's own objective code.
            let again = objective.valueAndGradient(vp.law.theta).value
            // (At an objective of 1e-24 the round trip through log A, log B, log E alone moves it by 1e-28.)
            XCTAssertEqual(again, vp.objective, accuracy: 1e-9 * vp.objective + 1e-26)
            print("noise \(noise): L-BFGS grid objective \(grid.objective), VarPro \(vp.objective) "
                  + "(\(vp.profileEvaluations) profile evaluations); α \(grid.law.alpha) vs \(vp.law.alpha)")
            if noise == 0 {
                XCTAssertLessThan(vp.objective, 1e-20)
                for (got, truth) in [(vp.law.E, chinchillaLaw.E), (vp.law.A, chinchillaLaw.A), (vp.law.B, chinchillaLaw.B),
                                     (vp.law.alpha, chinchillaLaw.alpha), (vp.law.beta, chinchillaLaw.beta)] {
                    XCTAssertLessThan(relativeError(got, truth), 1e-6)
                }
            } else {
                XCTAssertLessThanOrEqual(vp.objective, grid.objective * (1 + 1e-6))
                XCTAssertGreaterThanOrEqual(vp.objective, grid.objective * (1 - 1e-6))
                XCTAssertEqual(vp.law.alpha, grid.law.alpha, accuracy: 1e-3)
                XCTAssertEqual(vp.law.beta, grid.law.beta, accuracy: 1e-3)
                XCTAssertEqual(vp.law.E, grid.law.E, accuracy: 1e-3 * grid.law.E)
            }
        }
    }

    /// Points with no isoFLOP structure at all: N and D drawn independently, log-uniform, with 1%
    /// noise. The law is recovered to within a few percent, and exactly without noise.
    func testRecoversALawFromRandomPoints() throws {
        for noise in [0.0, 0.01] {
            let runs = randomPoints(count: 300, noise: noise, seed: 21)
            let fit = try fitApproach3VarPro(Approach3Objective(parameters: runs.map(\.parameters), tokens: runs.map(\.tokens),
                                                                losses: runs.map(\.finalLoss)))
            let f = fit.law, t = chinchillaLaw
            print("random points, noise \(noise): E=\(f.E) A=\(f.A) B=\(f.B) α=\(f.alpha) β=\(f.beta)")
            let tolerance = noise == 0 ? 1e-6 : 0.05
            XCTAssertLessThan(relativeError(f.E, t.E), tolerance)
            XCTAssertLessThan(relativeError(f.alpha, t.alpha), tolerance * 2)
            XCTAssertLessThan(relativeError(f.beta, t.beta), tolerance * 2)
            XCTAssertLessThan(relativeError(f.a, t.a), tolerance)
            if noise == 0 {
                XCTAssertLessThan(relativeError(f.A, t.A), 1e-5)
                XCTAssertLessThan(relativeError(f.B, t.B), 1e-5)
            }
        }
    }

    /// Coverage of approach 3's 95% intervals (residual bootstrap, VarPro) on random points with
    /// 1% noise: over 20 seeded trials, the intervals of a, α and the optimal N at 1e21 FLOPs
    /// contain the truth in at least 18 (90%).
    func testNinetyFivePercentIntervalsOfApproach3CoverTheTruthOnRandomPoints() throws {
        var options = FitOptions()
        options.approaches = [3]
        options.bootstrapResamples = 100
        options.allocationBudgets = [1e21]
        let truthN = chinchillaLaw.optimalAllocation(flops: 1e21, flopsPerParameterToken: 6).parameters
        var covered = (a: 0, alpha: 0, n: 0)
        let trials = 20
        for trial in 0..<trials {
            options.seed = UInt64(500 + trial)
            let report = try fitScalingLaws(randomPoints(count: 80, noise: 0.01, seed: UInt64(900 + trial)), options: options)
            let p = try XCTUnwrap(report.approach3)
            if try XCTUnwrap(report.exponents[0].a.interval95).contains(chinchillaLaw.a) { covered.a += 1 }
            if try XCTUnwrap(p.alpha.interval95).contains(chinchillaLaw.alpha) { covered.alpha += 1 }
            if try XCTUnwrap(p.allocations[0].parametersInterval95).contains(truthN) { covered.n += 1 }
            XCTAssertNotNil(p.alphaBetaCorrelation)
        }
        print("approach 3 (VarPro, residual bootstrap), random points: 95% intervals covered a in \(covered.a)/\(trials), "
              + "α in \(covered.alpha)/\(trials), N_opt(1e21) in \(covered.n)/\(trials)")
        XCTAssertGreaterThanOrEqual(covered.a, 18)
        XCTAssertGreaterThanOrEqual(covered.alpha, 18)
        XCTAssertGreaterThanOrEqual(covered.n, 18)
    }
}
