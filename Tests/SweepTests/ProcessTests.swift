// The real thing: `isoflop sweep run --dry-run` as processes, killed with SIGKILL mid-sweep
// (coordinator and workers), then rerun: every run done once more at most, no row lost or
// duplicated, interrupted runs resumed from their checkpoints.
import Foundation
import Sweep
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class ProcessTests: XCTestCase {
    /// The isoflop binary built beside this test bundle.
    var isoflop: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("isoflop").path
    }

    func childPIDs(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { name -> Int32? in
            guard let pid = Int32(name),
                  let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent ? pid : nil
        }
    }

    func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    func sweepProcess(_ db: String, config: String = ConfigDecoderTests.configs.appendingPathComponent("quick.toml").path) -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: isoflop)
        p.arguments = ["sweep", "run", config, "--db", db, "--workers", "2", "--dry-run", "20"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        return p
    }

    /// Kills `sweep` and its workers with SIGKILL and waits until they are gone; returns the workers.
    func killAll(_ sweep: Process) -> [Int32] {
        let workers = childPIDs(of: sweep.processIdentifier)
        kill(sweep.processIdentifier, SIGKILL)
        for w in workers { kill(w, SIGKILL) }
        sweep.waitUntilExit()
        // SIGKILL is asynchronous: wait until the workers are gone (or zombies) before rerunning.
        let gone = Date().addingTimeInterval(5)
        while Date() < gone, workers.contains(where: { isRunning($0) }) { Thread.sleep(forTimeInterval: 0.02) }
        return workers
    }

    /// Runs the sweep again to its end (exit 0) and reads its runs back.
    func rerun(_ db: String, config: String = ConfigDecoderTests.configs.appendingPathComponent("quick.toml").path)
        throws -> (RunStore, [RunRecord]) {
        let second = sweepProcess(db, config: config)
        try second.run()
        second.waitUntilExit()
        XCTAssertEqual(second.terminationStatus, 0)
        let store = try SQLiteRunStore(path: db)
        return (store, try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "quick"))))
    }

    /// Every run done, each step logged once with the dry run's loss.
    func assertEveryStepOnce(_ runs: [RunRecord], _ store: RunStore) throws {
        for run in runs {
            XCTAssertEqual(run.status, .done, run.plan.key)
            let rows = try store.metrics(run: run.id)
            XCTAssertEqual(rows.map(\.step), Array(1...run.plan.steps), "every step logged once: \(run.plan.key)")
            let expected = (1...run.plan.steps).map {
                DryRunExecutor.loss(parameters: run.plan.parameters, tokens: $0 * run.plan.batchSize * run.plan.model.context, step: $0)
            }
            XCTAssertEqual(rows.map(\.trainLoss), expected, run.plan.key)
        }
    }

    /// quick.toml's grid under wsd alone, killed while a trunk or a branch (or both) runs, then
    /// rerun: each resumes from its own checkpoint (a branch's, or its start), every row once.
    func testKilledWSDTrunkAndBranchResumeWhenRerun() throws {
        guard FileManager.default.isExecutableFile(atPath: isoflop) else {
            throw XCTSkip("the isoflop binary is not built beside the tests (\(isoflop))")
        }
        let dir = temporaryDirectory()
        let db = (dir as NSString).appendingPathComponent("quick.sqlite")
        let text = try String(contentsOf: ConfigDecoderTests.configs.appendingPathComponent("quick.toml"), encoding: .utf8)
            .replacingOccurrences(of: #"schedules = ["matched", "fixed"]"#, with: #"schedules = ["wsd"]"#)
        let config = dir + "/wsd.toml"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let first = sweepProcess(db, config: config)
        try first.run()
        // A trunk past a checkpoint or a branch past its start, running (both at once where the
        // timing allows: under load the sweep may hold only one of them at a time).
        var caught: [Int64] = []
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, caught.isEmpty {
            Thread.sleep(forTimeInterval: 0.05)
            guard FileManager.default.fileExists(atPath: db), let store = try? SQLiteRunStore(path: db, readOnly: true),
                  let id = try? store.sweepID(named: "quick"), let runs = try? store.runs(sweep: id) else { continue }
            let running = runs.filter { $0.status == .running }
            caught = running.filter {
                $0.branchOf == nil ? $0.step > $0.plan.checkpointEvery : $0.step > ($0.branchStep ?? 0)
            }.map(\.id)
        }
        _ = killAll(first)
        XCTAssertFalse(caught.isEmpty, "caught a trunk or a branch mid-run")
        // Only those the kill left running count as interrupted (one may have ended just before).
        let killed = try SQLiteRunStore(path: db, readOnly: true)
        let interrupted = try killed.runs(sweep: try XCTUnwrap(killed.sweepID(named: "quick")))
            .filter { caught.contains($0.id) && $0.status == .running }.map(\.id)
        XCTAssertFalse(interrupted.isEmpty)
        let (store, runs) = try rerun(db, config: config)
        XCTAssertEqual(runs.count, 9)
        XCTAssertEqual(runs.filter { $0.branchOf != nil }.count, 6)
        try assertEveryStepOnce(runs, store)
        for run in runs where interrupted.contains(run.id) { XCTAssertEqual(run.attempts, 2, "resumed: \(run.plan.key)") }
    }

    func testKilledSweepResumesWhenRerun() throws {
        guard FileManager.default.isExecutableFile(atPath: isoflop) else {
            throw XCTSkip("the isoflop binary is not built beside the tests (\(isoflop))")
        }
        let dir = temporaryDirectory()
        let db = (dir as NSString).appendingPathComponent("quick.sqlite")
        let first = sweepProcess(db)
        try first.run()
        // Wait until some runs are finished, one of them read from a shared run, and others
        // are part-way (past a checkpoint).
        var interrupted: [Int64] = []
        var recorded: [Int64: Double] = [:]
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            guard FileManager.default.fileExists(atPath: db), let store = try? SQLiteRunStore(path: db),
                  let id = try? store.sweepID(named: "quick"), let runs = try? store.runs(sweep: id) else { continue }
            let midway = runs.filter { $0.status == .running && $0.step > $0.plan.checkpointEvery }
            let shared = runs.filter { $0.sharedFrom != nil && $0.status == .done }
            if !shared.isEmpty && !midway.isEmpty {
                interrupted = midway.map(\.id)
                recorded = Dictionary(uniqueKeysWithValues: shared.map { ($0.id, $0.ended ?? 0) })
                break
            }
        }
        let workers = killAll(first)
        // A run seen mid-way may still have finished before the kill landed: only those the kill
        // left running count as interrupted.
        let killed = try SQLiteRunStore(path: db)
        let stillRunning = Set(try killed.runs(sweep: try XCTUnwrap(killed.sweepID(named: "quick")))
            .filter { $0.status == .running }.map(\.id))
        interrupted = interrupted.filter { stillRunning.contains($0) }
        XCTAssertFalse(interrupted.isEmpty, "caught the sweep mid-run")
        XCTAssertFalse(recorded.isEmpty, "caught the sweep after it recorded a run read from a shared run")
        XCTAssertEqual(workers.count, 2)

        let (store, runs) = try rerun(db)
        XCTAssertEqual(runs.count, 18)
        try assertEveryStepOnce(runs, store)
        for run in runs {
            let expected = DryRunExecutor.loss(parameters: run.plan.parameters,
                                               tokens: run.plan.steps * run.plan.batchSize * run.plan.model.context, step: run.plan.steps)
            XCTAssertEqual(run.finalTrainLoss, expected)
            XCTAssertEqual(run.sharedFrom, run.plan.sharedFrom)
            if let ended = recorded[run.id] {
                XCTAssertEqual(run.ended, ended, "recorded before the kill and left as it was: \(run.plan.key)")
                XCTAssertEqual(run.attempts, 0)
            }
            if interrupted.contains(run.id) {
                XCTAssertEqual(run.attempts, 2, "resumed: \(run.plan.key)")
                let checkpoint = (dir as NSString).appendingPathComponent("checkpoints/run-\(run.id)/state.json")
                XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint))
            }
        }
    }
}
