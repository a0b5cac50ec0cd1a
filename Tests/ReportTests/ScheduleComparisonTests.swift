// Any two schedules of a sweep compared (best run per budget, the loss between them, FLOPs and
// wall time of each), and the report's schedules figure drawing wsd beside the others.
import Foundation
import Model
import Report
import Sweep
import XCTest

final class ScheduleComparisonTests: XCTestCase {
    /// A store whose matched and wsd runs (three budgets, two shapes) are done, each wsd run
    /// 0.01 nats worse than its matched twin and taking twice the worker seconds of a matched one.
    func results() throws -> SweepResults {
        var config = SweepConfig(name: "cmp", corpus: "c", trainTokens: "t", evalTokens: "e", tokenizer: "k", vocab: 512,
                                 budgets: [1e10, 2e10, 3e10], family: FamilyConfig(widths: [32], shapes: [ShapeSpec(d: 16, L: 1, head: 16)]),
                                 batch: 8)
        config.schedules = [.matched, .wsd, .fixed]
        config.grid = GridConfig(sizes: 3, width: 1000)
        let dir = NSTemporaryDirectory() + "isoflop-compare-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try openRunStore(dir + "/s.sqlite")
        let sweep = try store.createSweep(name: "cmp", configJSON: "{}", runs: try Planner.plan(config).runs)
        let stored = try store.runs(sweep: sweep)
        for b in stored {
            guard let trunk = stored.first(where: { $0.plan.key == b.branchOf }), let step = b.branchStep else { continue }
            try store.markBranchesReady(of: trunk, step: step)
        }
        while let r = try store.claimNextRun(sweep: sweep, worker: "w", host: "h", pid: 1, lease: 60) {
            guard r.plan.schedule != .fixed else {
                try store.failRun(r.id, worker: "w", message: "left out")
                continue
            }
            let loss = 3 + Double(r.plan.parameters) / 1e6 - r.plan.budget / 1e11 + (r.plan.schedule == .wsd ? 0.01 : 0)
            try store.finishRun(r.id, worker: "w", outcome: .done(finalTrainLoss: loss, finalEvalLoss: loss, tokensPerSecond: 1),
                                wallSeconds: r.plan.schedule == .wsd ? 2 : 1)
        }
        return try store.results(sweep: "cmp")
    }

    func testTwoSchedulesSideBySide() throws {
        let results = try results()
        let both = try ScheduleComparison(results, schedules: ["matched", "wsd"])
        XCTAssertEqual(both.best.map(\.budget), [1e10, 2e10, 3e10])
        for (_, runs) in both.best {
            let m = try XCTUnwrap(runs["matched"]), w = try XCTUnwrap(runs["wsd"])
            XCTAssertEqual(m.plan.model, w.plan.model, "the same shape is best under both")
            XCTAssertEqual(try XCTUnwrap(w.finalEvalLoss) - (try XCTUnwrap(m.finalEvalLoss)), 0.01, accuracy: 1e-12)
        }
        let wsd = results.finishedRuns(schedule: "wsd")
        XCTAssertEqual(both.trainedFLOPs["wsd"], wsd.reduce(0) { $0 + $1.plan.trainedFLOPs })
        XCTAssertLessThan(try XCTUnwrap(both.trainedFLOPs["wsd"]), try XCTUnwrap(both.trainedFLOPs["matched"]),
                          "branches train only their cooldowns")
        XCTAssertEqual(both.wallSeconds["wsd"], 2 * Double(wsd.count))
        let lines = both.lines()
        XCTAssertTrue(lines[0].hasPrefix("budget") && lines[0].contains("wsd − matched"), lines[0])
        XCTAssertTrue(lines[1].hasSuffix("+0.0100"), lines[1])
        XCTAssertTrue(lines.last!.contains("% of matched's FLOPs, 200% of its time"), lines.last!)

        // In the other order the difference turns round; a schedule without finished runs is named.
        XCTAssertTrue(try ScheduleComparison(results, schedules: ["wsd", "matched"]).lines()[1].hasSuffix("-0.0100"))
        XCTAssertEqual(try ScheduleComparison(results).schedules.sorted(), ["matched", "wsd"])
        XCTAssertThrowsError(try ScheduleComparison(results, schedules: ["matched", "fixed"])) {
            XCTAssertEqual($0 as? ComparisonError, .noRuns(schedule: "fixed", sweep: "cmp", available: ["matched", "wsd"]))
        }
    }

    func testSchedulesFigureDrawsWSD() throws {
        var model = Synthetic.model()
        var wsd = try XCTUnwrap(model.schedules.first)
        wsd.schedule = "wsd"
        model.schedules.append(wsd)
        XCTAssertEqual(model.schedulesHeading, "Schedules side by side: \(model.schedules.map(\.schedule).dropLast().joined(separator: ", ")) and wsd")
        let svg = try model.scheduleFigure().svg()
        XCTAssertTrue(svg.contains("wsd: a = "), "wsd's exponent is drawn")
        XCTAssertTrue(svg.contains(">wsd<") || svg.contains(">wsd ("), "wsd is in the legend")
        XCTAssertEqual(Synthetic.model().schedulesHeading, "Matched against fixed schedules")
    }
}
