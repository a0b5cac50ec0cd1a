// The whole pipeline through the real command-line tool: the quick sweep trained with the
// engine, killed with SIGKILL mid-run and resumed, then fitted and reported.
import Foundation
import Sweep
import XCTest

final class EndToEndTests: XCTestCase {
    static var root: URL { CLI.root }

    func finalLosses(_ db: String) throws -> [String: Double] {
        let store = try SQLiteRunStore(path: db)
        let runs = try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "quick")))
        var out: [String: Double] = [:]
        for r in runs {
            XCTAssertEqual(r.status, .done, "run \(r.plan.key) ended \(r.status)")
            out[r.plan.key] = r.finalEvalLoss
        }
        return out
    }

    /// A real sweep (the engine trains every run) killed with SIGKILL after a run has written
    /// a checkpoint, then rerun: the same runs finish, and every final eval loss equals that
    /// of an uninterrupted sweep bit for bit (one BLAS thread, seeded data order, resumed
    /// optimizer and sampler state). Then the fitter and the report run on the store.
    func testQuickSweepKilledAndResumedMatchesUninterrupted() throws {
        let dir = try temporaryFolder()
        // The quick config: runs of a few hundred to two thousand steps, long enough to be
        // caught between checkpoints.
        let config = Self.root.appendingPathComponent("configs/quick.toml").path
        // Each store keeps its checkpoints beside it, so the two sweeps get folders of their own.
        for sub in ["clean", "killed"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        let clean = dir + "/clean/sweep.sqlite", killed = dir + "/killed/sweep.sqlite"
        XCTAssertEqual(try CLI.run(["sweep", "run", config, "--store", clean, "--workers", "2"]), 0)
        let reference = try finalLosses(clean)
        XCTAssertEqual(reference.count, 18)
        for (key, loss) in reference {
            // V = 512: a uniform guess costs ln 512 = 6.24 nats; every run must have learned.
            XCTAssertLessThan(loss, 5.5, key)
            XCTAssertGreaterThan(loss, 2.0, key)
        }

        let first = try CLI.process(["sweep", "run", config, "--store", killed, "--workers", "2"])
        first.standardError = FileHandle.standardError   // errors stay visible in the test log
        try first.run()
        // Killed once the sweep's first checkpoint (step 50 of its largest run) is written.
        let killedMidRun = CLI.killOnceCheckpointed(first, checkpoints: dir + "/killed/checkpoints", within: 120)
        XCTAssertTrue(killedMidRun, "no checkpoint appeared within two minutes")
        let interrupted = try SQLiteRunStore(path: killed)
        let midRun = try interrupted.runs(sweep: try XCTUnwrap(interrupted.sweepID(named: "quick")))
            .filter { $0.status == .running }
        XCTAssertFalse(midRun.isEmpty, "the kill left no run mid-way")
        XCTAssertEqual(try CLI.run(["sweep", "run", config, "--store", killed, "--workers", "2"]), 0)
        XCTAssertEqual(try finalLosses(killed), reference)

        // Fit and report on the finished store.
        let json = dir + "/fit.json"
        XCTAssertEqual(try CLI.run(["fit", "--store", clean, "--approach", "2", "--bootstrap", "20", "--json", json]), 0)
        let fit = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
        XCTAssertNotNil(fit as? [Any])
        let out = dir + "/report"
        XCTAssertEqual(try CLI.run(["report", "--store", clean, "--out", out, "--bootstrap", "20"]), 0)
        let html = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<svg"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/fig1-isoflop.svg"))
    }

    func testBadInputsGiveOneLineErrors() throws {
        let dir = try temporaryFolder()
        let odd = dir + "/odd.u16"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: odd))
        XCTAssertNotEqual(try CLI.run(["train", "--d", "48", "--layers", "1", "--tokens", odd, "--validation-tokens", odd]), 0)
        XCTAssertNotEqual(try CLI.run(["train", "--d", "64", "--layers", "1", "--tokens", odd, "--validation-tokens", odd]), 0)
        let bad = dir + "/bad.toml"
        try "name = \"x\"\nbudgetz = [1e10]\n".write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try CLI.run(["sweep", "plan", bad]), 0)
        XCTAssertNotEqual(try CLI.run(["fit", dir + "/missing.csv"]), 0)
    }
}
