// The pure parts of running on a cluster: the sweep's progress and ETA from hand-made runs,
// and the Slurm job-array script, down to what a shell makes of its command line.
import Foundation
import Sweep
import XCTest

final class ClusterTests: XCTestCase {
    func testProgressCountsRecentWorkAndETA() {
        let now = 10_000.0
        let runs = [
            // Done, evenly over [9600, 9900]: 200 of its 300 s fall in the window [9700, 10000] → 400.
            RunProgress(status: .done, flops: 600, steps: 60, step: 60, started: 9_600, ended: 9_900),
            // Running, half done since 9900 → all 500 inside the window; its lease is live.
            RunProgress(status: .running, flops: 1000, steps: 100, step: 50, started: 9_900, worker: "h1:11",
                        host: "h1", pid: 11, leaseExpiry: 10_060),
            RunProgress(status: .planned, flops: 2000, steps: 100),
            // Failed long before the window: counts as finished, adds nothing recent.
            RunProgress(status: .failed, flops: 100, steps: 100, step: 10, started: 9_000, ended: 9_100),
            // Running but its lease ran out: its 100 FLOPs over [9800, 10000] count, its worker is not alive.
            RunProgress(status: .running, flops: 400, steps: 100, step: 25, started: 9_800, worker: "h2:22",
                        host: "h2", pid: 22, leaseExpiry: 9_990),
            // Diverged at 40%: 120 FLOPs over [9650, 9750], half of it in the window → 60.
            RunProgress(status: .diverged, flops: 300, steps: 100, step: 40, started: 9_650, ended: 9_750),
        ]
        let p = SweepProgress(runs, now: now, window: 300)
        XCTAssertEqual(p.total, 6)
        XCTAssertEqual(p.byStatus, [.done: 1, .running: 2, .planned: 1, .failed: 1, .diverged: 1])
        XCTAssertEqual(p.totalFLOPs, 4400)
        XCTAssertEqual(p.doneFLOPs, 600 + 500 + 100 + 100 + 300)
        XCTAssertEqual(p.windowSeconds, 300)
        let rate = (400.0 + 500 + 100 + 60) / 300
        XCTAssertEqual(try XCTUnwrap(p.recentFLOPsPerSecond), rate, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(p.etaSeconds), 2800 / rate, accuracy: 1e-9)
        XCTAssertEqual(p.workers, [LiveWorker(name: "h1:11", host: "h1", pid: 11, runs: 1)])
    }

    func testProgressEarlyInASweepUsesTheTimeSinceTheFirstClaim() {
        // One minute in: 300 FLOPs in 60 s is 5 FLOP/s, not 300 / 300 s.
        let runs = [
            RunProgress(status: .running, flops: 900, steps: 90, step: 30, started: 940, worker: "a:1", host: "a",
                        pid: 1, leaseExpiry: 1100),
            RunProgress(status: .running, flops: 900, steps: 90, step: 0, started: 990, worker: "a:2", host: "a",
                        pid: 2, leaseExpiry: 1100),
            RunProgress(status: .planned, flops: 1200, steps: 10),
        ]
        let p = SweepProgress(runs, now: 1000, window: 300)
        XCTAssertEqual(p.windowSeconds, 60)
        XCTAssertEqual(try XCTUnwrap(p.recentFLOPsPerSecond), 5, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(p.etaSeconds), (3000 - 300) / 5, accuracy: 1e-9)
        XCTAssertEqual(p.workers.map(\.pid), [1, 2])
    }

    func testProgressEdges() {
        let untouched = SweepProgress([RunProgress(status: .planned, flops: 10, steps: 5)], now: 50)
        XCTAssertNil(untouched.recentFLOPsPerSecond)
        XCTAssertNil(untouched.etaSeconds, "no rate yet: no ETA")
        let finished = SweepProgress([RunProgress(status: .done, flops: 10, steps: 5, step: 5, started: 0, ended: 1)],
                                     now: 10_000)
        XCTAssertNil(finished.recentFLOPsPerSecond, "nothing happened in the last five minutes")
        XCTAssertEqual(finished.etaSeconds, 0, "nothing left")
        XCTAssertEqual(finished.doneFLOPs, finished.totalFLOPs)
    }

    func job(executable: String = "/opt/isoflop/bin/isoflop", partition: String? = "cpu") -> SlurmJob {
        SlurmJob(sweep: "big", nodes: 4, processesPerNode: 8, time: "02:00:00", partition: partition,
                 executable: executable, workingDirectory: "/home/me/isoflop",
                 store: "postgresql://me@db.cluster:5432/sweeps", checkpoints: "/shared/ck big",
                 logDirectory: "/home/me/isoflop/runs/big/slurm-logs", lease: 90)
    }

    func testSlurmScriptText() throws {
        let lines = job().script().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, "#!/bin/bash")
        let directives = lines.filter { $0.hasPrefix("#SBATCH ") }
        XCTAssertEqual(directives, [
            "#SBATCH --job-name=isoflop-big",
            "#SBATCH --array=0-3",
            "#SBATCH --nodes=1",
            "#SBATCH --ntasks=1",
            "#SBATCH --cpus-per-task=8",
            "#SBATCH --time=02:00:00",
            "#SBATCH --partition=cpu",
            "#SBATCH --chdir=/home/me/isoflop",
            "#SBATCH --output=/home/me/isoflop/runs/big/slurm-logs/%x-%A_%a.out",
        ])
        // sbatch reads directives only before the first command.
        let firstCommand = try XCTUnwrap(lines.firstIndex { !$0.isEmpty && !$0.hasPrefix("#") })
        XCTAssertLessThan(try XCTUnwrap(lines.lastIndex { $0.hasPrefix("#SBATCH") }), firstCommand)
        XCTAssertTrue(lines.contains("export OPENBLAS_NUM_THREADS=1"))
        XCTAssertTrue(lines.contains("cd /home/me/isoflop"))
        XCTAssertTrue(lines.contains(
            "exec /opt/isoflop/bin/isoflop worker --store postgresql://me@db.cluster:5432/sweeps --checkpoints '/shared/ck big' \\"))
        XCTAssertTrue(lines.contains("    --processes 8 --sweep big --lease 90"))
        XCTAssertFalse(job(partition: nil).script().contains("--partition"))
    }

    /// Runs the script with bash, a stand-in executable recording its arguments: the quoting
    /// must deliver every argument intact, and the environment must hold one BLAS thread.
    func testSlurmScriptRunsTheWorkerWithItsArguments() throws {
        let dir = try temporaryFolder()
        try FileManager.default.createDirectory(atPath: dir + "/bin dir", withIntermediateDirectories: true)
        let fake = dir + "/bin dir/isoflop"
        try "#!/bin/sh\nprintf '%s\\n' \"$PWD\" \"$OPENBLAS_NUM_THREADS\" \"$ISOFLOP_STORE\" \"$@\" > \"$(dirname \"$0\")/args\"\n"
            .write(toFile: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
        var j = job(executable: fake)
        j.workingDirectory = dir
        j.store = "postgresql://me:it's@db/x"
        let script = dir + "/job.sbatch"
        try j.script().write(toFile: script, atomically: true, encoding: .utf8)
        let bash = Process()
        bash.executableURL = URL(fileURLWithPath: "/bin/bash")
        bash.arguments = [script]
        try bash.run()
        bash.waitUntilExit()
        XCTAssertEqual(bash.terminationStatus, 0)
        let args = try String(contentsOfFile: dir + "/bin dir/args", encoding: .utf8).split(separator: "\n").map(String.init)
        // A URL with a password reaches the worker in its environment, not on its command line.
        XCTAssertEqual(args, [dir, "1", "postgresql://me:it's@db/x", "worker", "--checkpoints", "/shared/ck big",
                              "--processes", "8", "--sweep", "big", "--lease", "90"])
        XCTAssertFalse(try String(contentsOfFile: script, encoding: .utf8).contains("--store 'postgresql://me:it"))
    }

    /// A ladder's job runs `isoflop ladder` in every task, waiting for the other tasks at the end
    /// of each rung; bash must deliver every argument intact.
    func testLadderSlurmScriptRunsTheLadderWithItsArguments() throws {
        let dir = try temporaryFolder()
        let fake = dir + "/isoflop"
        try "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$(dirname \"$0\")/args\"\n".write(toFile: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
        var j = job(executable: fake)
        j.workingDirectory = dir
        j.sweep = "ladder"
        j.ladder = SlurmLadder(config: "/home/me/my ladder.toml", out: "/shared/out/ladder")
        let text = j.script()
        XCTAssertTrue(text.contains("#SBATCH --job-name=isoflop-ladder-ladder\n"), text)
        let exec = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("exec ") })
        XCTAssertTrue(exec.hasPrefix("exec \(fake) ladder --config"), "a ladder's task runs the ladder, not a bare worker: \(exec)")
        try text.write(toFile: dir + "/job.sbatch", atomically: true, encoding: .utf8)
        let bash = Process()
        bash.executableURL = URL(fileURLWithPath: "/bin/bash")
        bash.arguments = [dir + "/job.sbatch"]
        try bash.run()
        bash.waitUntilExit()
        XCTAssertEqual(bash.terminationStatus, 0)
        let args = try String(contentsOfFile: dir + "/args", encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(args, ["ladder", "--config", "/home/me/my ladder.toml", "--store", "postgresql://me@db.cluster:5432/sweeps",
                              "--checkpoints", "/shared/ck big", "--workers", "8", "--out", "/shared/out/ladder",
                              "--lease", "90", "--wait-for-others"])
    }

    func testSlurmJobValidation() {
        XCTAssertNoThrow(try job().validate())
        for bad in ["2:00", "02:60:00", "1-2:00:0", "x", "02:00:00 "] {
            var j = job()
            j.time = bad
            XCTAssertThrowsError(try j.validate(), bad) { XCTAssertEqual($0 as? SlurmError, .badTime(bad)) }
        }
        var long = job()
        long.time = "3-12:00:00"
        XCTAssertNoThrow(try long.validate())
        var none = job()
        none.nodes = 0
        XCTAssertThrowsError(try none.validate()) { XCTAssertEqual($0 as? SlurmError, .badCount(name: "nodes", value: 0)) }
        var relative = job()
        relative.logDirectory = "runs/logs"
        XCTAssertThrowsError(try relative.validate()) {
            XCTAssertEqual($0 as? SlurmError, .badPath(name: "log directory", value: "runs/logs"))
        }
        var spaced = job()
        spaced.partition = "a b"
        XCTAssertThrowsError(try spaced.validate())
    }
}
