// The text a study shows people, built in process: `sweep plan`'s table, the live progress
// block, `sweep status`, a worker's account of itself, and what `fit` reads from a store or a CSV.
import Fit
import Foundation
@testable import Study
import Sweep
import Tensor
import XCTest

final class ShownTextTests: XCTestCase {
    /// The tiny sweep planned into a fresh SQLite store, with a throughput model of its own (so
    /// no calibration is read).
    func plannedSweep() throws -> PlannedSweep {
        var cfg = try tinyConfig()
        cfg.flopsPerSecond = 1e9
        return try planIntoStore(cfg, url: try temporaryFolder() + "/sweep.sqlite")
    }

    func testPadAlignsRightForPositiveWidthsAndLeftForNegativeOnes() {
        XCTAssertEqual(pad("ab", 4), "  ab")
        XCTAssertEqual(pad("ab", -4), "ab  ")
        XCTAssertEqual(pad("abcdef", 4), "abcdef", "a longer text is not cut")
    }

    func testPlanTableListsEveryRunAndTotalsTheTrainedOnes() throws {
        var cfg = try tinyConfig()
        cfg.flopsPerSecond = 1e9
        cfg.overheadPerToken = 0
        let plan = try Planner.plan(cfg)
        let lines = planTable(plan, workers: 2).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines[0], "sweep tiny: \(plan.runs.count) result rows (\(plan.trainedRuns.count) runs trained), corpus none, "
                       + "V=512, batch 8×128, fixed cycle \(plan.fixedCycle) steps")
        XCTAssertEqual(lines[1], "budget     d  L head        N N_nonemb   steps    tokens epochs       lr schedule     time")
        // The config's own throughput model, not this machine's calibration.
        let model = ThroughputModel(flopsPerSecond: 1e9, overheadPerToken: 0)
        let rows = lines.dropFirst(2).prefix(plan.runs.count)
        for (row, run) in zip(rows, plan.runs) {
            XCTAssertTrue(row.hasPrefix(pad(formatFLOPs(run.budget), -7) + String(format: " %4d %2d", run.model.d, run.model.layers)), row)
            XCTAssertTrue(row.hasSuffix(" matched  " + pad(formatDuration(model.seconds(run)), 8)), row)
        }
        let seconds = plan.trainedRuns.map(model.seconds)
        XCTAssertTrue(lines[2 + plan.runs.count].hasPrefix("planned \(plan.runs.count) result rows, "), lines[2 + plan.runs.count])
        XCTAssertTrue(lines[3 + plan.runs.count].hasSuffix("estimated \(formatDuration(estimateWallSeconds(seconds, workers: 2))) on 2 workers "
                                                           + "(\(formatDuration(seconds.reduce(0, +))) of single-worker time)"),
                      lines[3 + plan.runs.count])
        XCTAssertEqual(lines.count, 4 + plan.runs.count + plan.warnings.count)
    }

    /// A wsd sweep's summary says how many runs branch from a trunk and counts only the tokens
    /// the branches train (their cooldowns), not their whole length.
    func testAWSDPlansSummaryNamesItsBranchesAndCountsOnlyTheirCooldowns() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let quick = try String(contentsOf: root.appendingPathComponent("configs/quick.toml"), encoding: .utf8)
        XCTAssertTrue(quick.contains("schedules = [\"matched\", \"fixed\"]"))
        let toml = quick.replacingOccurrences(of: "schedules = [\"matched\", \"fixed\"]", with: "schedules = [\"wsd\"]")
        let plan = try Planner.plan(try ConfigDecoder.decode(SweepConfig.self, fromTOML: toml, file: "wsd.toml"))
        let lines = planTable(plan, workers: 2).split(separator: "\n").map(String.init)
        let planned = try XCTUnwrap(lines.first { $0.hasPrefix("planned ") }), trained = try XCTUnwrap(lines.first { $0.hasPrefix("trained ") })
        // Every budget has the same three shapes, so each shape is one trunk and two branches.
        XCTAssertTrue(trained.contains("6 wsd branches train only their cooldown"), trained)
        func tokens(_ line: String) -> Double? {
            guard let comma = line.range(of: " tokens") else { return nil }
            return Double(line[..<comma.lowerBound].split(separator: " ").last ?? "")
        }
        let all = try XCTUnwrap(tokens(planned)), own = try XCTUnwrap(tokens(trained))
        XCTAssertLessThan(own, 0.7 * all, "the branches' shared steps are not counted again")
    }

    func testStatusCountsRunsByStateAndListsThemOnRequest() throws {
        let sweep = try plannedSweep()
        let runs = try sweep.store.runs(sweep: sweep.id)
        var lines = try statusLines(sweep.store, sweep: nil, listRuns: false, window: 300)
        XCTAssertEqual(lines, ["sweep tiny: \(runs.count) runs (planned \(runs.count), running 0, done 0, diverged 0, failed 0)",
                               String(format: "  FLOPs 0 of %@ (0.0%%)", formatFLOPs(SweepProgress(runs).totalFLOPs)),
                               "  throughput no work in the last 5m00s; ETA unknown",
                               "  workers alive: 0"])
        XCTAssertFalse(try statusFinished(sweep.store, sweep: "tiny"))
        try finishRuns(sweep.store, sweep: sweep.id) { _ in 4.5 }
        lines = try statusLines(sweep.store, sweep: "tiny", listRuns: true, window: 60)
        XCTAssertEqual(lines[0], "sweep tiny: \(runs.count) runs (planned 0, running 0, done \(runs.count), diverged 0, failed 0)")
        XCTAssertTrue(lines[1].hasSuffix("(100.0%)"), lines[1])
        XCTAssertEqual(lines[2], "  throughput no work in the last 1m00s; ETA 0s")
        XCTAssertEqual(Array(lines.dropFirst(4)), try sweep.store.runs(sweep: sweep.id).map(statusRunLine))
        XCTAssertTrue(lines[4].hasPrefix(String(format: "  %4d ", Int(runs[0].id)) + pad(runs[0].plan.key, -34) + " done     step "), lines[4])
        XCTAssertTrue(lines[4].hasSuffix("loss 4.5000"), lines[4])
        XCTAssertTrue(try statusFinished(sweep.store, sweep: nil))
        XCTAssertThrowsError(try statusLines(sweep.store, sweep: "other", listRuns: false, window: 60))
    }

    func testProgressLinesCountTheRunsAndTheFLOPsStillToPlan() throws {
        let sweep = try plannedSweep()
        try finishRuns(sweep.store, sweep: sweep.id) { _ in 4 }
        let runs = try sweep.store.runs(sweep: sweep.id)
        let total = SweepProgress(runs).totalFLOPs
        let snapshot = SweepSnapshot(runs: runs, began: Date(), startFLOPs: 0, unplannedFLOPs: total, final: true)
        let lines = progressLines(snapshot)
        XCTAssertEqual(lines.count, 1, "no run is training")
        XCTAssertTrue(lines[0].hasPrefix("runs \(runs.count)/\(runs.count) (0 diverged, 0 failed)  FLOPs \(formatFLOPs(total))/"
                                         + "\(formatFLOPs(total)) (+\(formatFLOPs(total)) to plan) (50.0%)  elapsed "), lines[0])
        XCTAssertTrue(lines[0].hasSuffix("  ETA -"), "a final snapshot has no ETA: \(lines[0])")
    }

    func testProgressViewRedrawsInPlaceOnATerminalAndThrottlesPlainLines() throws {
        let sweep = try plannedSweep()
        let runs = try sweep.store.runs(sweep: sweep.id)
        let snapshot = SweepSnapshot(runs: runs, began: Date(), startFLOPs: 0, unplannedFLOPs: 0, final: false)
        var written: [String] = []
        let plain = ProgressView(live: false) { written.append($0) }
        plain.draw(snapshot)
        plain.draw(snapshot)
        XCTAssertEqual(written.count, 1, "the same summary within 30 s is not repeated")
        XCTAssertEqual(written[0], progressLines(snapshot).joined(separator: "\n") + "\n")
        var done = snapshot
        done.final = true
        plain.draw(done)
        XCTAssertEqual(written.count, 2, "the final state is always shown")

        written = []
        let live = ProgressView(live: true) { written.append($0) }
        live.draw(snapshot)
        live.draw(snapshot)
        XCTAssertEqual(written[0], "\u{1B}[2K" + progressLines(snapshot)[0] + "\n")
        XCTAssertTrue(written[1].hasPrefix("\u{1B}[1A\u{1B}[2K"), "the second frame moves up over the first")
        let hooks = ProgressView.hooks(live: false) { written.append($0) }
        hooks.message("hello")
        XCTAssertEqual(written.last, "hello\n")
    }

    func testWorkerReportLineGivesItsShareOfTimeWritingMetrics() {
        var report = WorkerReport()
        (report.done, report.shared, report.diverged, report.failed, report.stopped) = (3, 2, 1, 0, 1)
        (report.secondsWriting, report.seconds) = (0.5, 100)
        XCTAssertEqual(workerReportLine(WorkerProcessResult(name: "host:12", report: report, stopped: false)),
                       "host:12: 3 done (and 2 read from them), 1 diverged, 0 failed, 1 stopped; 0.50 s of 100.0 s writing metrics (0.50%)")
    }

    func testFitInputFromAStoreIsOneScheduleWithTheSweepsCounting() throws {
        let sweep = try plannedSweep()
        try finishRuns(sweep.store, sweep: sweep.id, loss: parabolicLoss(optimum: 3e4))
        let input = try storeFitInput(sweep.url, sweep: nil, schedule: nil)
        XCTAssertEqual(input.runs.count, try sweep.store.runs(sweep: sweep.id).count)
        XCTAssertEqual(Set(input.runs.compactMap(\.schedule)), ["matched"])
        XCTAssertEqual(input.params, sweep.config.params)
        XCTAssertNil(input.note, "every done run has its eval loss")
        XCTAssertThrowsError(try storeFitInput(sweep.url, sweep: nil, schedule: "fixed")) {
            XCTAssertEqual($0 as? StudyError, .noFinishedRuns(source: sweep.url, sweep: "tiny", schedule: "fixed"))
        }
    }

    func testFitInputFromACSVKeepsOneScheduleAndNamesTheOthersWhenAskedForNone() throws {
        let path = try temporaryFolder() + "/runs.csv"
        try "N,D,loss,schedule\n1e5,1e6,3.1,matched\n2e5,1e6,3.0,fixed\n3e5,1e6,2.9,fixed\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try csvFitRuns(path, schedule: nil).map(\.parameters), [1e5], "matched by default among several")
        XCTAssertEqual(try csvFitRuns(path, schedule: "fixed").map(\.parameters), [2e5, 3e5])
        XCTAssertThrowsError(try csvFitRuns(path, schedule: "wsd")) {
            XCTAssertEqual($0 as? StudyError, .noCSVRuns(path: path, schedule: "wsd", found: ["fixed", "matched"]))
            XCTAssertEqual("\($0)", "\(path): no runs with schedule 'wsd' (the file has fixed, matched); choose one with --schedule")
        }
    }
}
