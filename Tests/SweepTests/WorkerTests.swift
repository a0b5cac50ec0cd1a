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
