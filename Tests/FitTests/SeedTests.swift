// Several seeds of one shape: the fits use their median (or mean), the spreads are reported, and
// the run bootstrap redraws seeds within each shape.
import XCTest
import Fit
import Tensor

final class SeedTests: XCTestCase {
    /// Three seeds per shape: the truth L, 1.01 L, and 1.02 L, except one shape whose third seed is
    /// L + 0.5 nats. Every median is 1.01 L, so the median fit equals the fit of the sweep scaled by
    /// 1.01; the mean is pulled by the far-off seed.
    func testMedianOfSeedsIsFittedAndSpreadsAreReported() throws {
        let base = syntheticSweep(offsets: [-1, -0.5, 0, 0.5, 1])
        var runs: [FitRun] = []
        for (i, r) in base.enumerated() {
            var b = r, c = r
            b.finalLoss *= 1.01
            c.finalLoss += i == 7 ? 0.5 : 0.02 * r.finalLoss
            runs += [r, b, c]
        }
        var options = FitOptions()
        options.approaches = [2, 3]
        let report = try fitScalingLaws(runs, options: options)
        var scaled = base
        for i in scaled.indices { scaled[i].finalLoss *= 1.01 }
        let expected = try fitScalingLaws(scaled, options: options)
        XCTAssertEqual(report.runs, 75)
        XCTAssertEqual(report.points, 25)
        XCTAssertEqual(report.exponents[0].a.value, expected.exponents[0].a.value, accuracy: 1e-12)
        XCTAssertEqual(report.approach3!.law.alpha, expected.approach3!.law.alpha, accuracy: 1e-6)
        XCTAssertEqual(report.seedAggregate, .median)
        let spreads = try XCTUnwrap(report.seedSpreads)
        XCTAssertEqual(spreads.count, 25)
        let outlier = try XCTUnwrap(spreads.first { $0.parameters == base[7].parameters && $0.budget == base[7].budget })
        XCTAssertEqual(outlier.seeds, 3)
        XCTAssertEqual(outlier.highest - outlier.lowest, 0.5, accuracy: 1e-12)
        XCTAssertTrue(report.notes.contains { $0.contains("25 shapes have several seeds") }, "\(report.notes)")
        XCTAssertTrue(renderTable([report]).contains("3 seeds, loss"))

        options.seeds = .mean
        let mean = try fitScalingLaws(runs, options: options)
        XCTAssertNotEqual(mean.exponents[0].a.value, report.exponents[0].a.value)
    }

    /// Seed noise enters the run bootstrap: the same sweep with its seeds 3% apart instead of 0.01%
    /// gives a much wider interval of a.
    func testRunBootstrapRedrawsSeeds() throws {
        let base = syntheticSweep(offsets: [-1, -0.5, 0, 0.5, 1], noise: 0.002, seed: 8)
        func sweep(spread: Double) -> [FitRun] {
            var rng = SplitMix64(seed: 77)
            return base.flatMap { r -> [FitRun] in
                (0..<3).map { k in
                    var s = r
                    if k > 0 { s.finalLoss *= 1 + spread * rng.normal() }
                    return s
                }
            }
        }
        var options = FitOptions()
        options.approaches = [2]
        options.bootstrapMethod = .runs
        options.bootstrapResamples = 200
        options.seed = 3
        let tight = try fitScalingLaws(sweep(spread: 0.0001), options: options)
        let loose = try fitScalingLaws(sweep(spread: 0.03), options: options)
        let wt = tight.exponents[0].a.interval95!, wl = loose.exponents[0].a.interval95!
        print("run bootstrap with seeds: width of a's 95% interval \(wt.upper - wt.lower) (seeds agree) vs \(wl.upper - wl.lower) (3% seed noise)")
        XCTAssertGreaterThan(wl.upper - wl.lower, 1.5 * (wt.upper - wt.lower))
        XCTAssertTrue(loose.notes.contains { $0.contains("redraws the seeds") })
    }
}
