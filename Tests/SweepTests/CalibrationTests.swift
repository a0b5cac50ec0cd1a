// The plan's measured time estimate: seconds from a measured rate (evaluations included), and
// the per-machine cache that spares later plans the measurement.
import Foundation
import Model
import Sweep
import XCTest

final class CalibrationTests: XCTestCase {
    func testSecondsFromAMeasuredRateCountEvaluations() throws {
        var run = try XCTUnwrap(smallPlan(budgets: [1e10], schedules: [.matched]).first)
        run.steps = 1000
        run.evalEvery = 500
        run.evalBatches = 24
        let shape = MeasuredShape(model: run.model, batch: run.batchSize)
        let model = ThroughputModel(flopsPerSecond: 1, overheadPerToken: 0, measured: [shape: 10_000])
        // 1000 steps + 3 evaluations × 24 forward passes at a third of a step = 1024 steps of 8 × 128 tokens.
        XCTAssertEqual(model.seconds(run), 1024 * 1024 / 10_000, accuracy: 1e-9)
        // A shape not measured falls back to the FLOP rate, over the same 1024 steps: the
        // evaluations count there too (they were left out, and a plan of eval_batches = 100000
        // said "6 s" for a run that never ended).
        let other = ThroughputModel(flopsPerSecond: 1e9, overheadPerToken: 0)
        XCTAssertEqual(other.seconds(run), 1024 * 1024 * run.model.trainingFLOPsPerToken / 1e9, accuracy: 1e-9)
        // A branch of a wsd trunk is timed by the steps it trains itself.
        run.branchStep = 800
        XCTAssertEqual(model.seconds(run), (200 + 2 * 8) * 1024 / 10_000, accuracy: 1e-9)
    }

    func testRatesAreMeasuredOnceAndThenReadFromTheCache() throws {
        let runs = try smallPlan(budgets: [1e10], schedules: [.matched])
        let cache = temporaryDirectory() + "/cache/throughput.json"
        let measured = Calibration.throughput(for: runs, cache: cache)
        let shape = MeasuredShape(model: runs[0].model, batch: runs[0].batchSize)
        let rate = try XCTUnwrap(measured.measured[shape])
        XCTAssertGreaterThan(rate, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache))
        // A second plan reads the cached rate: the same number to the bit, not a new measurement.
        XCTAssertEqual(Calibration.throughput(for: runs, cache: cache).measured[shape], rate)
    }

    /// Rates cached before workers were measured side by side (one process alone, scaled by a
    /// constant) are measured again rather than trusted.
    func testRatesOfOneProcessAloneAreMeasuredAgain() throws {
        let runs = try smallPlan(budgets: [1e10], schedules: [.matched])
        let shape = MeasuredShape(model: runs[0].model, batch: runs[0].batchSize)
        let cache = temporaryDirectory() + "/throughput.json"
        struct Entry: Codable, Equatable { var shape: MeasuredShape; var tokensPerSecond: Double }
        let old = [Benchmark.machine: [Entry(shape: shape, tokensPerSecond: 1)]]
        try JSONEncoder().encode(old).write(to: URL(fileURLWithPath: cache))
        let rate = try XCTUnwrap(Calibration.throughput(for: runs, cache: cache).measured[shape])
        XCTAssertGreaterThan(rate, 100, "the old entry's rate was used")
        let kept = try JSONDecoder().decode([String: [Entry]].self, from: Data(contentsOf: URL(fileURLWithPath: cache)))
        XCTAssertEqual(kept[Benchmark.machine], old[Benchmark.machine], "the old entry is left as it was")
        XCTAssertEqual(kept.count, 2)
    }
}
