// What a study's child processes are given: the store reaches them through the environment,
// never their command line, where every user of the machine can read it with `ps`.
import Foundation
import Study
import Sweep
import XCTest

final class ChildProcessTests: XCTestCase {
    let secret = "postgresql://isoflop:s3cret-pw@db.example:5432/sweeps"

    func testWorkersGetTheStoreInTheirEnvironmentOnly() throws {
        var launch = WorkerLaunch(store: secret, checkpoints: "/ck", sweep: "quick", lease: 60)
        launch.waitForLeases = true
        XCTAssertFalse(launch.arguments.contains { $0.contains("s3cret") || $0.contains("postgresql://") }, "\(launch.arguments)")
        XCTAssertFalse(launch.arguments.contains("--store"))
        XCTAssertEqual(launch.command.environment[storeEnvironmentVariable], secret)
        let p = launch.command.process()
        XCTAssertFalse((p.arguments ?? []).joined(separator: " ").contains("s3cret"))
        XCTAssertEqual(p.environment?[storeEnvironmentVariable], secret)
    }

    func testReproduceStagesCarryNoStoreAndFitEverySchedulePlanned() throws {
        var cfg = try tinyConfig()
        cfg.schedules = [.matched]
        var job = ReproduceJob(configFile: "one.toml", config: cfg, store: secret, out: try temporaryFolder())
        job.bootstrap = 10
        let stages = job.stages
        XCTAssertFalse(stages.joined().contains { $0.contains("s3cret") || $0 == "--store" }, "\(stages)")
        let fits = stages.filter { $0.first == "fit" }
        XCTAssertEqual(fits.map { $0[$0.firstIndex(of: "--schedule")! + 1] }, ["matched", "matched"],
                       "a one-schedule study fits what it planned, with both bootstrap designs")
        cfg.schedules = [.matched, .fixed]
        job.config = cfg
        XCTAssertEqual(job.stages.filter { $0.first == "fit" }.count, 4)
    }

    func testASlurmScriptKeepsThePasswordOffTheCommandLine() throws {
        let job = SlurmJob(sweep: "quick", nodes: 2, processesPerNode: 4, time: "01:00:00", executable: "/opt/isoflop",
                           workingDirectory: "/project", store: secret, checkpoints: "/ck", logDirectory: "/project/logs")
        let script = job.script()
        let exec = script.split(separator: "\n").filter { $0.hasPrefix("exec") || $0.hasPrefix("    ") }
        XCTAssertFalse(exec.joined().contains("s3cret"), script)
        XCTAssertTrue(script.contains("export ISOFLOP_STORE='\(secret)'") || script.contains("export ISOFLOP_STORE=\(secret)"), script)
        XCTAssertEqual(script.components(separatedBy: "s3cret").count, 2, "the password appears once, in the export")
    }
}
