// Bootstrap: reproducible resamples, and the coverage of its intervals on noisy synthetic sweeps.
import XCTest
import Fit

final class BootstrapTests: XCTestCase {
    func testResamplesStayInsideTheirBudgetAndAreSeeded() {
        let runs = syntheticSweep(offsets: [-1, -0.5, 0, 0.5, 1])
        let groups = groupByBudget(runs)
        let w = bootstrapWeights(groups: groups, runCount: runs.count, seed: 42, index: 3)
        for g in groups { XCTAssertEqual(g.members.reduce(0) { $0 + w[$1] }, Double(g.members.count)) }
        XCTAssertEqual(w, bootstrapWeights(groups: groups, runCount: runs.count, seed: 42, index: 3))
        XCTAssertNotEqual(w, bootstrapWeights(groups: groups, runCount: runs.count, seed: 42, index: 4))
    }

    func testIntervalsDependOnTheSeedAndNotOnTheThreads() throws {
        let runs = syntheticSweep(noise: 0.01, seed: 5)
        var options = FitOptions()
        options.approaches = [2]
        options.bootstrapResamples = 50
        options.seed = 9
        options.threads = 1
        let one = try fitScalingLaws(runs, options: options)
        options.threads = 2
        let two = try fitScalingLaws(runs, options: options)
        XCTAssertEqual(one.exponents, two.exponents)
        options.seed = 10
        let other = try fitScalingLaws(runs, options: options)
        XCTAssertNotEqual(one.exponents[0].a.interval95, other.exponents[0].a.interval95)
        // The point estimate does not depend on the bootstrap, and lies inside its intervals here.
        XCTAssertEqual(one.exponents[0].a.value, other.exponents[0].a.value)
        XCTAssertTrue(one.exponents[0].a.interval95!.contains(one.exponents[0].a.value))
        XCTAssertTrue(one.exponents[0].a.interval95!.contains(one.exponents[0].a.interval80!.lower))
    }

    /// The hat matrix of a parabola through x = −2…2 by hand: h = 1/5 + x²/10 + (x² − 2)²/14,
    /// and its trace is the 3 fitted coefficients.
    func testParabolaLeveragesMatchTheHatMatrixByHand() throws {
        let h = try XCTUnwrap(parabolaLeverages(x: [-2, -1, 0, 1, 2].map { $0 + 7.5 }))
        let expected = [-2.0, -1, 0, 1, 2].map { (x: Double) -> Double in
            let q: Double = x * x - 2
            return 0.2 + x * x / 10 + q * q / 14
        }
        for (a, b) in zip(h, expected) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        XCTAssertEqual(h.reduce(0, +), 3, accuracy: 1e-12)
        XCTAssertNil(parabolaLeverages(x: [1, 2, 2, 1]))
    }

    func testResidualPoolIsInflatedByLeverageAndCentred() {
        let pool = residualPool([0.3, -0.1], leverages: [0.75, 0], inflation: 2)
        // 0.3 · 2 / √0.25 = 1.2 and −0.2, centred on their mean 0.5.
        XCTAssertEqual(pool[0], 0.7, accuracy: 1e-12)
        XCTAssertEqual(pool[1], -0.7, accuracy: 1e-12)
        let a = residualResample(fitted: [10, 20, 30], pool: pool, seed: 1, index: 0)
        XCTAssertEqual(a, residualResample(fitted: [10, 20, 30], pool: pool, seed: 1, index: 0))
        for (v, f) in zip(a, [10.0, 20, 30]) { XCTAssertTrue(pool.contains { abs(f + $0 - v) < 1e-12 }) }
    }

    /// Approach 2's residuals: on a budget whose losses lie exactly on a parabola in ln N the
    /// residuals vanish; a bump on one run shows up as that run's residual, less its share of the fit.
    func testApproach2ResidualsAreTheParabolaMisfit() {
        var runs = syntheticSweep(offsets: [-1, -0.5, 0, 0.5, 1])
        let groups = groupByBudget(runs)
        let exact = runs.indices.map { i -> Double in
            let x = log(runs[i].parameters)
            return 3 + 0.2 * (x - 20) * (x - 20)
        }
        for i in runs.indices { runs[i].finalLoss = exact[i] }
        let r = approach2Residuals(runs, groups: groups, convention: .total)
        for i in runs.indices {
            XCTAssertEqual(r.residuals[i], 0, accuracy: 1e-9)
            XCTAssertEqual(r.fitted[i], exact[i], accuracy: 1e-9)
        }
        let i = groups[0].members[2]
        runs[i].finalLoss += 0.1
        let bumped = approach2Residuals(runs, groups: groups, convention: .total)
        XCTAssertEqual(bumped.residuals[i], 0.1 * (1 - bumped.leverages[i]), accuracy: 1e-9)
    }

    func testQuantileInterpolates() {
        XCTAssertEqual(quantile([1, 2, 3, 4, 5], 0.5), 3)
        XCTAssertEqual(quantile([1, 2, 3, 4, 5], 0.1), 1.4, accuracy: 1e-12)
        XCTAssertEqual(quantile([0, 10], 0.975), 9.75, accuracy: 1e-12)
    }

    /// Coverage with 1% multiplicative noise: over 12 seeded noisy sweeps, the 95% bootstrap
    /// interval of a contains the true a in most trials (at least 9 of 12) for approaches 2 and 3.
    /// Not all: percentile intervals from 60 runs are approximate, and a trial may miss by chance.
    func testNinetyFivePercentIntervalOfAContainsTruthInMostSeededTrialsWithOnePercentNoise() throws {
        // Twelve sizes per budget, and five (the smallest profiles of the laptop sweep).
        let twelve = stride(from: -1.5, through: 1.5, by: 3.0 / 11).map { $0 }, five = [-1.0, -0.5, 0, 0.5, 1]
        // On these synthetic sweeps (independent noise, a law the parabolas fit well) both methods
        // cover and give intervals of similar width; on real sweeps they can differ (see README).
        for method in BootstrapMethod.allCases {
            for offsets in [twelve, five] { try checkCoverage(method, offsets: offsets) }
        }
    }

    func checkCoverage(_ method: BootstrapMethod, offsets: [Double]) throws {
        var options = FitOptions()
        options.approaches = [2, 3]
        options.bootstrapMethod = method
        options.bootstrapResamples = 100
        // A small grid keeps the test quick; the noisy optimum is found from it as from the full one.
        options.approach3.grid = InitialGrid(a: [5, 10], b: [5, 10], e: [0, 1], alpha: [0.5], beta: [0.5])
        var covered = [2: 0, 3: 0]
        var width = 0.0
        let trials = 12
        for trial in 0..<trials {
            options.seed = UInt64(100 + trial)
            let runs = syntheticSweep(offsets: offsets, noise: 0.01, seed: UInt64(trial + 1))
            let report = try fitScalingLaws(runs, options: options)
            for row in report.exponents {
                let i = try XCTUnwrap(row.a.interval95)
                if i.contains(chinchillaLaw.a) { covered[row.approach]! += 1 }
                if row.approach == 2 { width += (i.upper - i.lower) / Double(trials) }
                // Resampled runs can leave a budget with too few sizes to refit; a fixed design cannot.
                XCTAssertGreaterThanOrEqual(row.bootstrapUsed, method == .residuals ? 95 : 80)
            }
        }
        print("\(method) bootstrap, \(offsets.count) sizes per budget: 95% interval of a covered the truth in \(covered[2]!)/\(trials) trials (approach 2, mean width \(String(format: "%.4f", width))), \(covered[3]!)/\(trials) (approach 3)")
        XCTAssertGreaterThanOrEqual(covered[2]!, 9)
        XCTAssertGreaterThanOrEqual(covered[3]!, 9)
    }
}
