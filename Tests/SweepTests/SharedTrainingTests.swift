// The shared fixed cycle with the real trainer: a run read from a longer run of its group gets
// the bits a run of its own gets (one BLAS thread), also when the shared run was stopped and
// resumed from its checkpoint in between.
import Foundation
import Sweep
import Tensor
import XCTest

final class SharedTrainingTests: XCTestCase {
    func train(_ runs: [PlannedRun], _ name: String, stopAfter: Int? = nil) throws -> (RunStore, Int64) {
        let dir = temporaryDirectory(name)
        let store = try openRunStore(dir + "/s.sqlite")
        let sweep = try store.createSweep(name: name, configJSON: "{}", runs: runs)
        let worker = Worker(store: store, executor: TrainerExecutor(), name: "w", checkpointRoot: dir + "/checkpoints", sweep: sweep)
        if let stopAfter {
            var polls = 0
            XCTAssertEqual(try worker.runUntilDone(shouldStop: { polls += 1; return polls > stopAfter }).stopped, 1)
            let midway = try store.runs(sweep: sweep).filter { $0.plan.model.d == 16 }.sorted { $0.plan.steps < $1.plan.steps }
            XCTAssertEqual(midway.map(\.status), [.done, .planned, .planned], "stopped after recording the 68-step run")
            XCTAssertEqual(midway.map(\.step), [68, 0, 100])
        }
        let report = try worker.runUntilDone()
        XCTAssertEqual(report.failed + report.diverged, 0)
        return (store, sweep)
    }

    func testRunsReadFromASharedRunEqualRunsOfTheirOwnBitForBit() throws {
        BLAS.setThreads(1)
        let files = try chainTokenFiles(temporaryDirectory())
        var config = tinyConfig(schedules: [.fixed])
        config.trainTokens = files.train
        config.evalTokens = files.eval
        config.evalEvery = 25
        config.evalBatches = 2
        let runs = try Planner.plan(config).runs
        // d=16: 68, 137 and 205 steps; d=32: 30, 60 and 91. Each shape trains its longest run.
        XCTAssertEqual(runs.filter { $0.sharedFrom != nil }.map(\.steps).sorted(), [30, 60, 68, 137])

        let alone = try train(runs.map { var r = $0; r.sharedFrom = nil; return r }, "alone")
        let reference = Dictionary(uniqueKeysWithValues: try alone.0.runs(sweep: alone.1).map { ($0.plan.key, $0) })
        // Stopped after 100 steps of the d=16 run (claimed first, the larger FLOPs), then resumed.
        for (store, sweep) in [try train(runs, "shared"), try train(runs, "stopped", stopAfter: 101)] {
            for r in try store.runs(sweep: sweep) {
                let ref = try XCTUnwrap(reference[r.plan.key])
                XCTAssertEqual(r.status, .done, r.plan.key)
                XCTAssertEqual(r.sharedFrom, r.plan.sharedFrom)
                XCTAssertEqual(r.finalEvalLoss?.bitPattern, ref.finalEvalLoss?.bitPattern, r.plan.key)
                XCTAssertEqual(r.finalTrainLoss?.bitPattern, ref.finalTrainLoss?.bitPattern, r.plan.key)
                let rows = try store.metrics(run: r.id), expected = try alone.0.metrics(run: ref.id)
                XCTAssertEqual(rows.count, r.plan.steps)
                for (a, b) in zip(rows, expected) {
                    XCTAssertEqual(a.trainLoss.bitPattern, b.trainLoss.bitPattern, "\(r.plan.key) step \(a.step)")
                    XCTAssertEqual(a.lr.bitPattern, b.lr.bitPattern, "\(r.plan.key) step \(a.step)")
                    XCTAssertEqual([a.step, a.tokens], [b.step, b.tokens])
                    // A shorter run has exactly its own evaluations; the shared run has those of
                    // its shorter runs' ends besides, and each evaluation it shares, equal.
                    if r.sharedFrom != nil || b.evalLoss != nil {
                        XCTAssertEqual(a.evalLoss?.bitPattern, b.evalLoss?.bitPattern, "\(r.plan.key) step \(a.step)")
                    }
                }
            }
        }
        XCTAssertLessThan(try XCTUnwrap(reference.values.map { $0.finalEvalLoss ?? 9 }.max()), log(512) - 0.3,
                          "the runs learned something")
    }
}
