// `isoflop worker` as real processes on one store (SQLite, and PostgreSQL where the test server
// can start): three workers on the quick sweep, one killed with SIGKILL mid-run; its run is
// taken over when the lease runs out and resumed from its checkpoint. Also the one-line
// refusals of a checkpoint folder that cannot be used, and `sweep slurm`.
import Foundation
import Sweep
import XCTest
#if canImport(Glibc)
import Glibc
#endif
#if canImport(PostgresFixture)
import PostgresFixture
#endif

struct ReferenceSweepFailed: Error { var message: String }

final class WorkerProcessTests: XCTestCase {
    static var root: URL { CLI.root }
    var isoflop: String { CLI.binary }


    /// The quick config at a tenth of its budgets (the takeover needs runs, not fittable
    /// optima) with a checkpoint every 10 steps, written into `dir`.
    func quickConfig(in dir: String) throws -> String {
        let path = dir + "/quick.toml"
        try CLI.quickConfig([("checkpoint_every = 50", "checkpoint_every = 10"),
                             ("budgets = [1e11, 2e11, 3e11]", "budgets = [1e10, 2e10, 3e10]")])
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testThreeWorkersOneKilledOnSQLite() throws {
        let dir = try temporaryFolder()
        try threeWorkersOneKilled(store: "sqlite:" + dir + "/workers/sweep.sqlite", dir: dir)
    }

    #if canImport(PostgresFixture)
    func testThreeWorkersOneKilledOnPostgreSQL() throws {
        let url = try PostgresFixture.shared().createDatabase("three_workers")
        try threeWorkersOneKilled(store: url, dir: try temporaryFolder())
    }
    #endif

    /// The uninterrupted single-worker sweep on SQLite, trained once for both backends' tests.
    nonisolated(unsafe) static var reference: String?
    nonisolated(unsafe) static var referenceDirectory: String?

    func referenceSweep() throws -> String {
        if let done = Self.reference { return done }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("isoflop-reference-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        Self.referenceDirectory = dir
        let store = dir + "/sweep.sqlite"
        let r = try CLI.capture(["sweep", "run", try quickConfig(in: dir), "--store", store, "--workers", "1"])
        guard r.status == 0 else { throw ReferenceSweepFailed(message: r.stderr) }
        Self.reference = store
        return store
    }

    override class func tearDown() {
        if let dir = referenceDirectory { try? FileManager.default.removeItem(atPath: dir) }
        super.tearDown()
    }

    /// Three `isoflop worker` processes on one store; one is SIGKILLed once its run is past a
    /// checkpoint. The other two finish every run, taking the killed one's over after its 3 s
    /// lease and resuming it from the checkpoint: its final loss equals an uninterrupted
    /// single-worker sweep's bit for bit, and its metric rows are one per step, never duplicated.
    func threeWorkersOneKilled(store url: String, dir: String) throws {
        let config = try quickConfig(in: dir)
        let reference = try referenceSweep()
        XCTAssertEqual(try CLI.capture(["sweep", "plan", config, "--store", url]).status, 0)

        let checkpoints = dir + "/shared-checkpoints"
        let workers = try (0..<3).map { _ in
            try CLI.process(["worker", "--store", url, "--checkpoints", checkpoints, "--processes", "1", "--lease", "3"])
        }
        for w in workers { try w.run() }
        defer { for w in workers where w.isRunning { kill(w.processIdentifier, SIGKILL) } }

        let store = try openRunStore(url)
        let sweep = try XCTUnwrap(store.sweepID(named: "quick"))
        var victim: RunRecord?
        var deadline = Date().addingTimeInterval(60)
        while victim == nil && Date() < deadline {
            // A run whose rows through a checkpoint are stored (the checkpoint is written
            // before its rows are flushed) and with most of its steps still to go.
            victim = try store.runs(sweep: sweep).first {
                $0.status == .running && $0.step >= 10 && $0.step <= $0.plan.steps - 50
                    && FileManager.default.fileExists(atPath: "\(checkpoints)/run-\($0.id)/state.json")
            }
            if victim == nil { usleep(2_000) }
        }
        let killed = try XCTUnwrap(victim, "no worker was caught mid-run past a checkpoint")
        let killedAt = Date()
        kill(pid_t(try XCTUnwrap(killed.pid)), SIGKILL)
        while processExists(killed.pid!) && Date().timeIntervalSince(killedAt) < 5 { usleep(1_000) }

        // Mark the rows the dead worker left (lr = -1): a takeover that restarted from step 0
        // would overwrite every one of them; one resumed from the checkpoint leaves those
        // up to the checkpoint as they are. The run must still be the dead worker's once they
        // are marked (its lease holds it), so that only the new worker's writes can unmark them.
        let left = try store.metrics(run: killed.id)
        XCTAssertGreaterThanOrEqual(left.count, 10)
        try store.appendMetrics(left.map { var r = $0; r.lr = -1; return r })
        let held = try XCTUnwrap(store.runs(sweep: sweep).first { $0.id == killed.id })
        let since = Date().timeIntervalSince(killedAt)
        let leaseLeft = (held.leaseExpiry ?? 0) - killedAt.timeIntervalSince1970
        XCTAssertEqual(held.status, .running, "the lease still holds the run \(since) s after the kill")
        XCTAssertEqual(held.worker, killed.worker,
                       "\(since) s after the kill the run was taken over already; its lease had \(leaseLeft) s left at the kill")

        deadline = Date().addingTimeInterval(90)
        while workers.contains(where: { $0.isRunning }) && Date() < deadline { usleep(20_000) }
        XCTAssertFalse(workers.contains { $0.isRunning }, "workers still running after 90 s")
        // The killed process's own supervisor reports the lost process; the other two end cleanly.
        XCTAssertEqual(workers.map(\.terminationStatus).sorted().filter { $0 == 0 }.count, 2)

        let referenceStore = try SQLiteRunStore(path: reference)
        let expected = Dictionary(uniqueKeysWithValues: try referenceStore.runs(
            sweep: try XCTUnwrap(referenceStore.sweepID(named: "quick"))).map { ($0.plan.key, $0) })
        let runs = try store.runs(sweep: sweep)
        XCTAssertEqual(runs.count, 18)
        for r in runs {
            XCTAssertEqual(r.status, .done, "\(r.plan.key) ended \(r.status)")
            // A run read from a shared run is never claimed on its own.
            XCTAssertEqual(r.attempts, r.id == killed.id ? 2 : r.sharedFrom == nil ? 1 : 0, "\(r.plan.key) claimed \(r.attempts) times")
            let finalLoss = try XCTUnwrap(r.finalEvalLoss, r.plan.key)
            XCTAssertEqual(finalLoss.bitPattern, expected[r.plan.key]?.finalEvalLoss?.bitPattern,
                           "\(r.plan.key): \(finalLoss) against the uninterrupted \(String(describing: expected[r.plan.key]?.finalEvalLoss))")
            let rows = try store.metrics(run: r.id)
            XCTAssertEqual(rows.map(\.step), Array(1...r.plan.steps), "\(r.plan.key): one row per step, no duplicates")
        }

        let taken = try XCTUnwrap(runs.first { $0.id == killed.id })
        XCTAssertNotEqual(taken.worker, killed.worker, "another worker finished the killed one's run")
        let rows = try store.metrics(run: killed.id)
        let kept = rows.filter { $0.lr == -1 }.map(\.step)
        XCTAssertGreaterThanOrEqual(kept.count, 10, "the rows up to the checkpoint were not trained again")
        XCTAssertEqual(kept, Array(stride(from: 1, through: kept.count, by: 1)), "only a prefix (up to the resumed checkpoint) is left unrewritten")
        XCTAssertTrue(rows.dropFirst(kept.count).allSatisfy { $0.lr > 0 }, "every step after it was trained by the new worker")
        let referenceRows = try referenceStore.metrics(run: try XCTUnwrap(expected[killed.plan.key]).id)
        XCTAssertEqual(rows.dropFirst(kept.count).map(\.trainLoss), referenceRows.dropFirst(kept.count).map(\.trainLoss),
                       "the resumed steps' losses equal the uninterrupted run's")
    }

    func processExists(_ pid: Int) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    /// A checkpoint folder that cannot be created: one line naming it, non-zero exit, and
    /// nothing claimed (worker) or created (sweep run).
    func testUnusableCheckpointFolderIsRefusedBeforeAnything() throws {
        let dir = try temporaryFolder()
        let config = try quickConfig(in: dir)
        let db = dir + "/planned.sqlite"
        XCTAssertEqual(try CLI.capture(["sweep", "plan", config, "--store", db]).status, 0)
        let file = dir + "/a-file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))

        for bad in [file + "/checkpoints", file] {
            let r = try CLI.capture(["worker", "--store", db, "--checkpoints", bad, "--processes", "1"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("checkpoint directory \(bad) "), r.stderr)
        }
        let store = try SQLiteRunStore(path: db)
        let runs = try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "quick")))
        XCTAssertEqual(runs.count, 18)
        XCTAssertTrue(runs.allSatisfy { $0.status == .planned && $0.attempts == 0 }, "nothing claimed")

        let fresh = dir + "/fresh/sweep.sqlite"
        let r = try CLI.capture(["sweep", "run", config, "--store", fresh, "--checkpoints", file + "/x"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("checkpoint directory \(file)/x cannot be created"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh), "no store was created")

        let pg = try CLI.capture(["worker", "--store", "postgresql://nobody@127.0.0.1:1/none"])
        XCTAssertNotEqual(pg.status, 0)
        XCTAssertTrue(pg.stderr.contains("--checkpoints DIR is required"), pg.stderr)

        // An unreachable server store is found before the checkpoint folder is made (it once
        // left an empty folder behind on this error).
        let unreachable = "postgresql://nobody@127.0.0.1:1/none"
        let ladder = dir + "/ladder.toml"
        try "name = \"l\"\nbase = \"\(config)\"\n[[rungs]]\nname = \"a\"\nschedule = \"matched\"\n"
            .write(toFile: ladder, atomically: true, encoding: .utf8)
        for (i, args) in [["sweep", "slurm", config], ["worker"], ["ladder", "--config", ladder, "--slurm"]].enumerated() {
            let folder = dir + "/server-checkpoints-\(i)"
            let r = try CLI.capture(args + ["--store", unreachable, "--checkpoints", folder])
            XCTAssertNotEqual(r.status, 0, args.joined(separator: " "))
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("127.0.0.1"), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder), "\(args.joined(separator: " ")) made \(folder)")
        }
    }

    /// Two stores in one folder share its checkpoint folder, and run ids repeat between them: a
    /// run of the second sweep would find the first sweep's checkpoint of the same id. The folder
    /// records the store that owns it, so the second sweep (here trained under another seed) is
    /// refused before it writes anything, and the first sweep's checkpoints are left as they were.
    func testACheckpointOfAnotherRunIsRefused() throws {
        let dir = try temporaryFolder()
        let config = try quickConfig(in: dir)
        let text = try String(contentsOfFile: config, encoding: .utf8)
        let other = text.replacingOccurrences(of: "seed = 1 ", with: "seed = 2 ")
        XCTAssertNotEqual(other, text)
        let otherConfig = dir + "/quick-seed2.toml"
        try other.write(toFile: otherConfig, atomically: true, encoding: .utf8)
        let first = try CLI.capture(["sweep", "run", config, "--store", dir + "/a.sqlite", "--workers", "2"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let checkpoints = dir + "/checkpoints"
        let before = try FileManager.default.subpathsOfDirectory(atPath: checkpoints).sorted()
        XCTAssertFalse(before.isEmpty)
        let second = try CLI.capture(["sweep", "run", otherConfig, "--store", dir + "/b.sqlite", "--workers", "2"])
        XCTAssertNotEqual(second.status, 0, "a second store trained into the first one's checkpoint folder")
        XCTAssertTrue(second.stderr.contains("b.sqlite") && second.stderr.contains("checkpoint"), second.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/b.sqlite"), "the refused store was created")
        XCTAssertEqual(try FileManager.default.subpathsOfDirectory(atPath: checkpoints).sorted(), before)
    }

    /// `sweep run --wait-for-others` (what every task of a ladder's Slurm job runs per rung)
    /// returns only when every run of the sweep has ended, one that another machine's worker
    /// claimed after it started included; without the flag it would return as soon as its own
    /// worker found nothing left to claim.
    func testWaitForOthersReturnsOnlyWhenEveryRunHasEnded() throws {
        let dir = try temporaryFolder()
        // Matched runs only: a held fixed run would hold the shorter runs read from it too.
        let config = dir + "/quick.toml"
        try CLI.quickConfig([("budgets = [1e11, 2e11, 3e11]", "budgets = [1e10, 2e10, 3e10]"),
                             ("schedules = [\"matched\", \"fixed\"]", "schedules = [\"matched\"]")])
            .write(toFile: config, atomically: true, encoding: .utf8)
        let db = dir + "/sweep.sqlite"
        let run = try CLI.process(["sweep", "run", config, "--store", db, "--workers", "1", "--wait-for-others"])
        try run.run()
        defer { if run.isRunning { CLI.killTree(run.processIdentifier) } }
        // Once its worker trains, another machine's worker takes a run and holds it.
        var held: RunRecord?
        let deadline = Date().addingTimeInterval(120)
        while held == nil && run.isRunning && Date() < deadline {
            if FileManager.default.fileExists(atPath: db), let s = try? SQLiteRunStore(path: db, readOnly: true),
               let id = try? s.sweepID(named: "quick"), let runs = try? s.runs(sweep: id),
               runs.contains(where: { $0.status == .running }) {
                held = try SQLiteRunStore(path: db).claimNextRun(sweep: id, worker: "other-node", host: "elsewhere", pid: 1, lease: 600)
            }
            usleep(20_000)
        }
        let other = try XCTUnwrap(held, "no run was left to hold")
        let store = try SQLiteRunStore(path: db)
        // Every other run ends; the sweep keeps waiting for the held one.
        func othersLeft() throws -> Bool {
            try store.runs(sweep: other.sweep).contains { $0.id != other.id && ($0.status == .planned || $0.status == .running) }
        }
        while run.isRunning && Date() < deadline, try othersLeft() { usleep(50_000) }
        XCTAssertFalse(try othersLeft(), "the sweep's own runs did not end in time")
        sleep(2)
        XCTAssertTrue(run.isRunning, "sweep run returned while another machine's worker still held a run")
        try store.finishRun(other.id, worker: "other-node", outcome: .done(finalTrainLoss: 5, finalEvalLoss: 5, tokensPerSecond: 1),
                            wallSeconds: 1)
        let end = Date().addingTimeInterval(30)
        while run.isRunning && Date() < end { usleep(50_000) }
        XCTAssertFalse(run.isRunning, "sweep run did not return once the held run had ended")
        run.waitUntilExit()
        XCTAssertEqual(run.terminationStatus, 0)
    }

    /// `sweep slurm` plans the sweep and writes a script that runs this binary's worker.
    func testSweepSlurmPlansAndWritesTheScript() throws {
        let dir = try temporaryFolder()
        let config = try quickConfig(in: dir)
        let db = dir + "/sweep.sqlite", script = dir + "/job.sbatch"
        let r = try CLI.capture(["sweep", "slurm", config, "--store", db, "--checkpoints", dir + "/ck",
                                 "--nodes", "3", "--processes-per-node", "2", "--output", script])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: script, encoding: .utf8)
        XCTAssertTrue(text.contains("#SBATCH --array=0-2\n"))
        XCTAssertTrue(text.contains("#SBATCH --cpus-per-task=2\n"))
        XCTAssertTrue(text.contains("#SBATCH --chdir=\(Self.root.path)\n"))
        XCTAssertTrue(text.contains("exec \(URL(fileURLWithPath: isoflop).resolvingSymlinksInPath().path) worker --store sqlite:\(db) --checkpoints \(dir)/ck"), text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/slurm-logs"), "log folder made before sbatch")
        let store = try SQLiteRunStore(path: db)
        XCTAssertEqual(try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "quick"))).count, 18)
    }
}
