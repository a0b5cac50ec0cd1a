// Workers on one store: every run done once with all its metric rows, diverged runs recorded,
// a stopped run and a crashed run (lease expired) resumed from their checkpoints. Written once,
// run on SQLite here and on PostgreSQL by PostgresWorkerTests.
import Foundation
import Sweep
import XCTest

final class WorkerTests: XCTestCase {
    let contract = WorkerContract(backend: .sqlite)

    func testTwoWorkersDoEveryRunOnceWithAllRows() throws { try contract.twoWorkersDoEveryRunOnceWithAllRows() }
    func testStoppedRunGoesBackToPlannedAndResumes() throws { try contract.stoppedRunGoesBackToPlannedAndResumes() }
    func testCrashedRunIsTakenOverAfterLeaseAndResumesFromCheckpoint() throws {
        try contract.crashedRunIsTakenOverAfterLeaseAndResumesFromCheckpoint()
    }
    func testBufferedSinkBatchesRows() throws { try contract.bufferedSinkBatchesRows() }
    func testSharedRunRecordsItsShorterRunsAcrossAStop() throws { try contract.sharedRunRecordsItsShorterRunsAcrossAStop() }
    func testSharedRunThatDivergesOrFailsEndsItsShorterRuns() throws { try contract.sharedRunThatDivergesOrFailsEndsItsShorterRuns() }
}

struct WorkerContract {
    var backend: StoreBackend

    func twoWorkersDoEveryRunOnceWithAllRows() throws {
        let dir = temporaryDirectory()
        let url = try backend.newStoreURL(#function)
        let runs = try smallPlan(steps: 80)
        let setup = try openRunStore(url)
        let sweep = try setup.createSweep(name: "two", configJSON: "{}", runs: runs)

        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var reports = [WorkerReport?](repeating: nil, count: 2)
            var errors: [Error] = []
        }
        let results = Results()
        let group = DispatchGroup()
        let executor = CounterExecutor(divergeKey: "C=2e10 d=16", stepMicroseconds: 200)
        for k in 0..<2 {
            group.enter()
            Thread {
                defer { group.leave() }
                do {
                    var worker = Worker(store: try openRunStore(url), executor: executor, name: "w\(k)",
                                        checkpointRoot: dir, sweep: sweep)
                    worker.maxRows = 16  // many small transactions: more chances to interleave
                    let report = try worker.runUntilDone()
                    results.lock.lock(); results.reports[k] = report; results.lock.unlock()
                } catch {
                    results.lock.lock(); results.errors.append(error); results.lock.unlock()
                }
            }.start()
        }
        group.wait()
        XCTAssertTrue(results.errors.isEmpty, "\(results.errors)")
        let r = results.reports.compactMap { $0 }
        XCTAssertEqual(r.count, 2)
        XCTAssertGreaterThan(r[0].done + r[0].diverged, 0, "both workers took runs")
        XCTAssertGreaterThan(r[1].done + r[1].diverged, 0, "both workers took runs")
        XCTAssertEqual(r.map { $0.done + $0.diverged }.reduce(0, +), runs.count)

        let stored = try setup.runs(sweep: sweep)
        XCTAssertEqual(stored.filter { $0.status == .diverged }.map(\.plan.key).sorted(),
                       runs.filter { $0.key.contains("C=2e10 d=16") }.map(\.key).sorted())
        for run in stored {
            XCTAssertEqual(run.attempts, 1, "run \(run.plan.key) claimed once")
            let rows = try setup.metrics(run: run.id)
            if run.status == .diverged {
                XCTAssertEqual(rows.map(\.step), Array(1...4))
                continue
            }
            XCTAssertEqual(run.status, .done)
            XCTAssertEqual(rows.map(\.step), Array(1...run.plan.steps), "no lost rows")
            XCTAssertEqual(rows.map(\.trainLoss), CounterExecutor.expectedLosses(run.plan))
            XCTAssertEqual(run.finalTrainLoss, rows.last?.trainLoss)
        }
        let summary = SweepProgress(try setup.runs(sweep: sweep))
        XCTAssertEqual(summary.doneFLOPs, summary.totalFLOPs, accuracy: 1)
    }

    func stoppedRunGoesBackToPlannedAndResumes() throws {
        let dir = temporaryDirectory()
        let store = try openRunStore(try backend.newStoreURL(#function))
        let runs = try smallPlan(budgets: [1e10], schedules: [.matched], steps: 50, checkpointEvery: 20)
        let sweep = try store.createSweep(name: "s", configJSON: "{}", runs: [runs[0]])
        // Ctrl-C after 34 steps: the executor checkpoints at 34 and reports stopped.
        var polls = 0
        let worker = Worker(store: store, executor: CounterExecutor(), name: "w", checkpointRoot: dir, sweep: sweep)
        let first = try worker.runUntilDone(shouldStop: {
            polls += 1
            return polls > 35  // one poll by the worker loop, then one before each step
        })
        XCTAssertEqual(first.stopped, 1)
        let paused = try store.runs(sweep: sweep)[0]
        XCTAssertEqual(paused.status, .planned)
        XCTAssertNil(paused.worker)
        XCTAssertEqual(paused.step, 34)

        let second = try worker.runUntilDone()
        XCTAssertEqual(second.done, 1)
        let done = try store.runs(sweep: sweep)[0]
        let rows = try store.metrics(run: done.id)
        XCTAssertEqual(rows.map(\.step), Array(1...50))
        XCTAssertEqual(rows.map(\.trainLoss), CounterExecutor.expectedLosses(done.plan))
        XCTAssertEqual(done.finalTrainLoss, CounterExecutor.expectedLosses(done.plan).last)
    }

    func crashedRunIsTakenOverAfterLeaseAndResumesFromCheckpoint() throws {
        let dir = temporaryDirectory()
        let store = try openRunStore(try backend.newStoreURL(#function))
        let runs = try smallPlan(budgets: [1e10], schedules: [.matched], steps: 70, checkpointEvery: 20)
        let sweep = try store.createSweep(name: "k", configJSON: "{}", runs: [runs[0]])

        // A worker that dies after step 47: it logged up to 40 (its last checkpoint) and then
        // some rows that never reached the store; its lease runs out.
        let claimed = try XCTUnwrap(store.claimNextRun(sweep: sweep, worker: "dead", host: "h", pid: 1, lease: 0.3))
        let worker = Worker(store: store, executor: CounterExecutor(), name: "live", checkpointRoot: dir, sweep: sweep)
        let sink = StoreSink(store: store, run: claimed.id)
        try FileManager.default.createDirectory(atPath: worker.checkpointDirectory(run: claimed.id),
                                                withIntermediateDirectories: true)
        XCTAssertThrowsError(try CounterExecutor(crashAfter: 47).execute(
            claimed.plan, checkpointDirectory: worker.checkpointDirectory(run: claimed.id), log: sink, shouldStop: { false })) {
            XCTAssertTrue($0 is SimulatedCrash, "\($0)")
        }
        XCTAssertEqual(try store.metrics(run: claimed.id).count, 40)

        XCTAssertEqual(try worker.runUntilDone().done, 0, "the lease has not expired yet")
        Thread.sleep(forTimeInterval: 0.4)
        XCTAssertEqual(try worker.runUntilDone().done, 1)
        let done = try store.runs(sweep: sweep)[0]
        XCTAssertEqual(done.attempts, 2)
        XCTAssertEqual(done.worker, "live")
        let rows = try store.metrics(run: done.id)
        XCTAssertEqual(rows.map(\.step), Array(1...70))
        XCTAssertEqual(rows.map(\.trainLoss), CounterExecutor.expectedLosses(done.plan),
                       "the resumed run continues the uninterrupted one exactly")
    }

    /// Trains `runs` in a new store of this backend with one worker; returns the store and the sweep.
    func train(_ runs: [PlannedRun], executor: RunExecutor = CounterExecutor(), test: String = #function) throws -> (RunStore, Int64) {
        let store = try openRunStore(try backend.newStoreURL(test))
        let sweep = try store.createSweep(name: "s", configJSON: "{}", runs: runs)
        let worker = Worker(store: store, executor: executor, name: "w", checkpointRoot: temporaryDirectory(test), sweep: sweep)
        _ = try worker.runUntilDone()
        return (store, sweep)
    }

    /// The fixed runs of a shape are one run read at several lengths: the longest is trained,
    /// and each shorter one ends done with the rows, final losses and evaluations that a run of
    /// its own gives (eval points only every `evalEvery` steps and at its end), also when the
    /// shared run was stopped after recording one of them and resumed from its checkpoint.
    func sharedRunRecordsItsShorterRunsAcrossAStop() throws {
        var config = tinyConfig(schedules: [.fixed])
        config.evalEvery = 7
        let runs = try Planner.plan(config).runs
        let shared = runs.filter { $0.sharedFrom != nil }
        // d=16 runs 68, 137 and 205 steps, d=32 30, 60 and 91: two shorter runs of each shape.
        XCTAssertEqual(shared.count, 4)
        let alone = try train(runs.map { var r = $0; r.sharedFrom = nil; return r }, test: "alone" + #function)
        let reference = Dictionary(uniqueKeysWithValues: try alone.0.runs(sweep: alone.1).map { ($0.plan.key, $0) })

        let (store, sweep) = try train(runs, test: "shared" + #function)
        // The d=16 run is claimed first (2.991e10 FLOPs against d=32's 2.988e10) and stopped
        // after 100 of its 205 steps: it has recorded its 68-step run, not its 137-step one.
        let (stopped, stoppedSweep) = try {
            let store = try openRunStore(try backend.newStoreURL("stopped" + #function))
            let sweep = try store.createSweep(name: "s", configJSON: "{}", runs: runs)
            let worker = Worker(store: store, executor: CounterExecutor(), name: "w",
                                checkpointRoot: temporaryDirectory("stopped" + #function), sweep: sweep)
            var polls = 0
            XCTAssertEqual(try worker.runUntilDone(shouldStop: { polls += 1; return polls > 101 }).stopped, 1)
            let midway = try store.runs(sweep: sweep)
            let d16 = midway.filter { $0.plan.model.d == 16 }.sorted { $0.plan.steps < $1.plan.steps }
            XCTAssertEqual(d16.map(\.status), [.done, .planned, .planned])
            XCTAssertEqual(d16.map(\.step), [68, 0, 100])
            XCTAssertEqual(d16[0].sharedFrom, d16[2].plan.key)
            XCTAssertEqual(d16[0].attempts, 0, "never claimed on its own")
            XCTAssertEqual(try worker.runUntilDone().done, 2, "the two longest runs")
            return (store, sweep)
        }()
        for (s, id) in [(stopped, stoppedSweep), (store, sweep)] {
            let records = try s.runs(sweep: id)
            XCTAssertEqual(records.count, runs.count)
            for r in records {
                let ref = try XCTUnwrap(reference[r.plan.key])
                XCTAssertEqual(r.status, .done, r.plan.key)
                XCTAssertEqual(r.sharedFrom, r.plan.sharedFrom, r.plan.key)
                XCTAssertEqual(r.finalTrainLoss, ref.finalTrainLoss, r.plan.key)
                XCTAssertEqual(r.finalEvalLoss, ref.finalEvalLoss, r.plan.key)
                var rows = try s.metrics(run: r.id), expected = try alone.0.metrics(run: ref.id)
                for i in rows.indices { rows[i].run = 0 }
                for i in expected.indices { expected[i].run = 0 }
                if r.sharedFrom != nil {
                    XCTAssertEqual(rows, expected, "\(r.plan.key): the rows of a run of its own")
                } else {
                    // The shared run evaluated at its shorter runs' ends too, and otherwise the same.
                    XCTAssertEqual(rows.map(\.trainLoss), expected.map(\.trainLoss), r.plan.key)
                    let extra = Set(runs.filter { $0.sharedFrom == r.plan.key }.map(\.steps))
                    XCTAssertEqual(rows.filter { $0.evalLoss != nil }.map(\.step),
                                   expected.filter { $0.evalLoss != nil || extra.contains($0.step) }.map(\.step), r.plan.key)
                }
            }
            let progress = SweepProgress(records)
            XCTAssertEqual(progress.totalFLOPs, runs.filter { $0.sharedFrom == nil }.map(\.flops).reduce(0, +),
                           "progress counts the FLOPs trained")
        }
    }

    /// A shared run that diverges at step 5 diverges every run read from it at step 5; one
    /// whose executor throws fails them with its message; retrying trains them again.
    func sharedRunThatDivergesOrFailsEndsItsShorterRuns() throws {
        let runs = try Planner.plan(tinyConfig(schedules: [.fixed])).runs
        let (store, sweep) = try train(runs, executor: CounterExecutor(divergeKey: "d=16"))
        for r in try store.runs(sweep: sweep) {
            XCTAssertEqual(r.status, r.plan.model.d == 16 ? .diverged : .done, r.plan.key)
        }
        let (failing, failed) = try train(runs, executor: CounterExecutor(crashAfter: 40), test: "crash" + #function)
        let records = try failing.runs(sweep: failed)
        for r in records {
            // d=32's 30-step run was recorded before its shared run crashed after step 40.
            XCTAssertEqual(r.status, r.plan.model.d == 32 && r.plan.steps == 30 ? .done : .failed, r.plan.key)
            if r.status == .failed, r.sharedFrom != nil {
                XCTAssertEqual(r.message, "read from \(r.sharedFrom!), which failed: SimulatedCrash()")
            }
        }
        XCTAssertEqual(try failing.retryFailedRuns(sweep: failed), 5)
        _ = try Worker(store: failing, executor: CounterExecutor(), name: "w2", checkpointRoot: temporaryDirectory("retry" + #function),
                       sweep: failed).runUntilDone()
        XCTAssertEqual(try failing.runs(sweep: failed).map(\.status), Array(repeating: .done, count: runs.count))
    }

    func bufferedSinkBatchesRows() throws {
        let store = try openRunStore(try backend.newStoreURL(#function))
        let sweep = try store.createSweep(name: "b", configJSON: "{}", runs: try smallPlan())
        let run = try XCTUnwrap(store.claimNextRun(sweep: sweep, worker: "w", host: "h", pid: 1, lease: 30))
        let sink = BufferedMetricSink(store: store, run: run.id, worker: "w", lease: 30, maxRows: 10, maxSeconds: 1000)
        for step in 1...25 {
            try sink.log(MetricRow(run: 0, step: step, tokens: step, flops: 1, lr: 1, trainLoss: 1))
        }
        XCTAssertEqual(try store.metrics(run: run.id).count, 20, "two full batches written, five buffered")
        try sink.flush()
        XCTAssertEqual(try store.metrics(run: run.id).map(\.run), Array(repeating: run.id, count: 25))
    }
}
