// Branched wsd runs with the real trainer: a branch started from its trunk's checkpoint gets the
// bits its run gets alone (one BLAS thread), with two workers side by side, and after a kill
// in the trunk or in a branch; a branch is never started before its checkpoint is written.
import Foundation
import Sweep
import Tensor
import Training
import XCTest

/// Checks, as a branch starts, that its starting checkpoint is written, and passes the run on.
/// With `killAt`, the run of that key stops dead (the first time) after logging that step, as a kill -9 would
/// leave it: running in the store, its last checkpoint on disk, nothing else recorded.
final class WatchingExecutor: RunExecutor, @unchecked Sendable {
    let inner = TrainerExecutor()
    let killAt: (key: String, step: Int)?
    private let lock = NSLock()
    private(set) var startedBeforeCheckpoint: [String] = []
    private(set) var branchesStarted = 0
    /// Kills once: the run taken over afterwards trains on.
    private var killed = false

    init(killAt: (key: String, step: Int)? = nil) { self.killAt = killAt }

    func execute(_ run: PlannedRun, checkpointDirectory: String, log: MetricSink,
                 shouldStop: () -> Bool) throws -> RunOutcome {
        if let start = run.startingCheckpoint(checkpointDirectory) {
            lock.lock()
            branchesStarted += 1
            if !start.hasCheckpoint { startedBeforeCheckpoint.append(run.key) }
            lock.unlock()
        }
        lock.lock()
        let kill = killAt.map { $0.key == run.key && !killed } ?? false
        if kill { killed = true }
        lock.unlock()
        guard kill, let killAt else {
            return try inner.execute(run, checkpointDirectory: checkpointDirectory, log: log, shouldStop: shouldStop)
        }
        return try inner.execute(run, checkpointDirectory: checkpointDirectory, log: Killing(log, at: killAt.step),
                                 shouldStop: shouldStop)
    }

    /// Passes everything on to the worker's sink until the row of `step`, then throws what a
    /// worker takes for a lost lease, leaving the run as it stands.
    final class Killing: MetricSink {
        let inner: MetricSink
        let step: Int
        init(_ inner: MetricSink, at step: Int) { (self.inner, self.step) = (inner, step) }
        func log(_ row: MetricRow) throws {
            if row.step == step { throw StoreError.notOwner(run: 0, worker: "killed") }
            try inner.log(row)
        }
        func flush() throws { try inner.flush() }
        var resultSteps: Set<Int> { inner.resultSteps }
        func record(_ outcome: RunOutcome, after step: Int) throws { try inner.record(outcome, after: step) }
        var branchStarts: [Int: [String]] { inner.branchStarts }
        func branchReady(step: Int) throws { try inner.branchReady(step: step) }
        func history(through step: Int) throws -> [MetricRow] { try inner.history(through: step) }
    }
}

final class BranchedTrainingTests: XCTestCase {
    /// The tiny sweep's wsd runs on a chain corpus: per shape three lengths, the longest the trunk.
    func plan() throws -> [PlannedRun] {
        let files = try chainTokenFiles(temporaryDirectory())
        var config = tinyConfig(schedules: [.wsd])
        config.trainTokens = files.train
        config.evalTokens = files.eval
        config.evalEvery = 25
        config.evalBatches = 2
        config.cooldownShape = .sqrt
        return try Planner.plan(config).runs
    }

    /// Trains `runs` in a new store with `workers` workers side by side (each its own store
    /// connection). A run `killAt` left dead is taken over when its lease (short here) runs out
    /// and resumed from its checkpoint, as after a kill -9.
    func train(_ runs: [PlannedRun], _ name: String, workers: Int = 1, executor: WatchingExecutor = WatchingExecutor())
        throws -> (RunStore, Int64) {
        let dir = temporaryDirectory(name)
        let path = dir + "/s.sqlite"
        let store = try openRunStore(path)
        let sweep = try store.createSweep(name: name, configJSON: "{}", runs: runs)
        let failures = NSLock()
        var errors: [String] = []
        DispatchQueue.concurrentPerform(iterations: workers) { i in
            do {
                var worker = Worker(store: try openRunStore(path), executor: executor, name: "w\(i)",
                                    checkpointRoot: dir + "/checkpoints", sweep: sweep)
                worker.branchPollSeconds = 0.05
                worker.lease = 5
                worker.maxSeconds = 0.5
                worker.waitForLeases = true
                worker.pollSeconds = 0.1
                let report = try worker.runUntilDone()
                if report.failed + report.diverged > 0 { throw SimulatedCrash() }
            } catch {
                failures.lock()
                errors.append("\(error)")
                failures.unlock()
            }
        }
        XCTAssertEqual(errors, [])
        if let killAt = executor.killAt {
            let killed = try XCTUnwrap(try store.runs(sweep: sweep).first { $0.plan.key == killAt.key })
            XCTAssertEqual(killed.attempts, 2, "taken over after the kill: \(killAt.key)")
        }
        return (store, sweep)
    }

    func assertSameRows(_ got: (RunStore, Int64), as alone: (RunStore, Int64), _ what: String) throws {
        let reference = Dictionary(uniqueKeysWithValues: try alone.0.runs(sweep: alone.1).map { ($0.plan.key, $0) })
        for r in try got.0.runs(sweep: got.1) {
            let ref = try XCTUnwrap(reference[r.plan.key])
            XCTAssertEqual(r.status, .done, "\(what): \(r.plan.key)")
            XCTAssertEqual(r.finalEvalLoss?.bitPattern, ref.finalEvalLoss?.bitPattern, "\(what): \(r.plan.key)")
            XCTAssertEqual(r.finalTrainLoss?.bitPattern, ref.finalTrainLoss?.bitPattern, "\(what): \(r.plan.key)")
            let rows = try got.0.metrics(run: r.id), expected = try alone.0.metrics(run: ref.id)
            XCTAssertEqual(rows.map(\.step), Array(1...r.plan.steps), "\(what): every step once, \(r.plan.key)")
            XCTAssertEqual(expected.count, rows.count)
            for (a, b) in zip(rows, expected) {
                XCTAssertEqual([a.trainLoss.bitPattern, a.lr.bitPattern, a.flops.bitPattern],
                               [b.trainLoss.bitPattern, b.lr.bitPattern, b.flops.bitPattern], "\(what): \(r.plan.key) step \(a.step)")
                XCTAssertEqual(a.evalLoss?.bitPattern, b.evalLoss?.bitPattern, "\(what): \(r.plan.key) step \(a.step)")
            }
        }
    }

    func testBranchesEqualWSDRunsOfTheirOwnBitForBit() throws {
        BLAS.setThreads(1)
        let runs = try plan()
        // d=16: 68, 137 and 205 steps; d=32: 30, 60 and 91. The longest of each shape is the trunk.
        let branches = runs.filter { $0.branchOf != nil }
        XCTAssertEqual(branches.map(\.steps).sorted(), [30, 60, 68, 137])
        for b in branches { XCTAssertEqual(b.branchStep, b.steps - b.cooldownSteps, b.key) }

        let alone = try train(runs.map { var r = $0; r.branchOf = nil; r.branchStep = nil; return r }, "alone")
        let watch = WatchingExecutor()
        let branched = try train(runs, "branched", workers: 2, executor: watch)
        try assertSameRows(branched, as: alone, "two workers")
        XCTAssertEqual(watch.branchesStarted, 4)
        XCTAssertEqual(watch.startedBeforeCheckpoint, [], "no branch started before its trunk's checkpoint")
        XCTAssertLessThan(try XCTUnwrap(try alone.0.runs(sweep: alone.1).compactMap(\.finalEvalLoss).max()), log(512) - 0.1,
                          "the runs learned something")

        // Killed in the d=16 trunk between its branches' starts (54 and 110; past its checkpoint
        // at 100), and in the 137-step branch inside its cooldown (past its checkpoint at 120).
        let trunk = try XCTUnwrap(runs.first { $0.model.d == 16 && $0.branchOf == nil })
        let branch = try XCTUnwrap(runs.first { $0.model.d == 16 && $0.steps == 137 })
        XCTAssertEqual([runs.first { $0.model.d == 16 && $0.steps == 68 }?.branchStep, branch.branchStep], [54, 110])
        try assertSameRows(try train(runs, "trunk-killed", executor: WatchingExecutor(killAt: (trunk.key, 105))), as: alone, "trunk killed")
        try assertSameRows(try train(runs, "branch-killed", executor: WatchingExecutor(killAt: (branch.key, 127))), as: alone, "branch killed")
    }

    /// The dry run's pretend trainer branches too: each branch starts at its trunk's step and
    /// every run logs each of its steps once, with the losses of a run of its own.
    func testDryRunBranchesStartAtTheirTrunksStep() throws {
        let runs = try Planner.plan(tinyConfig(schedules: [.wsd])).runs
        let dir = temporaryDirectory()
        let store = try openRunStore(dir + "/s.sqlite")
        let sweep = try store.createSweep(name: "dry", configJSON: "{}", runs: runs)
        let executor = DryRunExecutor(throughput: ThroughputModel(flopsPerSecond: 1e15, overheadPerToken: 0), speedup: 1e6)
        var worker = Worker(store: store, executor: executor, name: "w", checkpointRoot: dir + "/checkpoints", sweep: sweep)
        worker.branchPollSeconds = 0.01
        XCTAssertEqual(try worker.runUntilDone().done, runs.count)
        for r in try store.runs(sweep: sweep) {
            XCTAssertEqual(r.status, .done, r.plan.key)
            let rows = try store.metrics(run: r.id)
            XCTAssertEqual(rows.map(\.step), Array(1...r.plan.steps), r.plan.key)
            XCTAssertEqual(rows.map(\.trainLoss), rows.map {
                DryRunExecutor.loss(parameters: r.plan.parameters, tokens: $0.tokens, step: $0.step)
            }, r.plan.key)
            if let step = r.plan.branchStep {
                let start = branchStartDirectory(worker.checkpointDirectory(run: r.id))
                XCTAssertTrue(FileManager.default.fileExists(atPath: start + "/state.json"), r.plan.key)
                XCTAssertGreaterThan(step, 0)
            }
        }
    }
}
