// Several seeds of one shape: the fits use their median (or mean), the spreads are reported, and
// the run bootstrap redraws seeds within each shape.
import XCTest
import Fit
import Tensor

final class SeedTests: XCTestCase {
    /// Three seeds per shape: the truth L, 1.01 L, and 1.02 L, except one shape whose third seed is
    /// L + 0.1 nats (below the plateau flag's 0.15). Every median is 1.01 L, so the median fit
    /// equals the fit of the sweep scaled by 1.01; the mean is pulled by the far-off seed.
    func testMedianOfSeedsIsFittedAndSpreadsAreReported() throws {
        let base = syntheticSweep(offsets: [-1, -0.5, 0, 0.5, 1])
        var runs: [FitRun] = []
        for (i, r) in base.enumerated() {
            var b = r, c = r
            b.finalLoss *= 1.01
            c.finalLoss += i == 7 ? 0.1 : 0.02 * r.finalLoss
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
        XCTAssertEqual(outlier.highest - outlier.lowest, 0.1, accuracy: 1e-12)
        XCTAssertNil(report.plateauRuns)
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

    /// A seed 0.3 nats above its shape's other two is stuck on the plateau: flagged with its id and
    /// left out, so even the mean of that shape is the mean of the two good seeds; a seed 0.14
    /// above the median is noise and stays.
    func testPlateauRunIsFlaggedAndLeftOut() throws {
        let base = syntheticSweep(offsets: [-1, -0.5, 0, 0.5, 1])
        var runs: [FitRun] = [], clean: [FitRun] = []
        for (i, r) in base.enumerated() {
            var b = r, c = r
            b.id += " seed=2"
            c.id += " seed=3"
            b.finalLoss += 0.02
            clean += [r, b]
            c.finalLoss += i == 4 ? 0.3 : (i == 9 ? 0.02 + 0.14 : 0.01)
            runs += [r, b, c]
            if i != 4 { clean.append(c) }
        }
        var options = FitOptions()
        options.approaches = [2]
        options.seeds = .mean
        let report = try fitScalingLaws(runs, options: options)
        let stuck = try XCTUnwrap(report.plateauRuns)
        XCTAssertEqual(stuck.map(\.id), [base[4].id + " seed=3"])
        XCTAssertEqual(stuck[0].shapeMedian, base[4].finalLoss + 0.02, accuracy: 1e-12)
        XCTAssertEqual(stuck[0].loss - stuck[0].shapeMedian, 0.28, accuracy: 1e-12)
        let note = try XCTUnwrap(report.notes.first { $0.contains("stuck on the early plateau") })
        XCTAssertTrue(note.contains(base[4].id + " seed=3") && note.contains("0.28"), note)
        // The fit is that of the runs without the stuck seed.
        let expected = try fitScalingLaws(clean, options: options)
        XCTAssertEqual(report.exponents[0].a.value, expected.exponents[0].a.value, accuracy: 1e-12)
        XCTAssertNil(expected.plateauRuns)
        // The spread still shows every seed.
        let spread = try XCTUnwrap(report.seedSpreads?.first { $0.budget == base[4].budget && $0.parameters == base[4].parameters })
        XCTAssertEqual(spread.highest - spread.lowest, 0.3, accuracy: 1e-12)
        XCTAssertEqual(spread.seeds, 3)
    }
}
