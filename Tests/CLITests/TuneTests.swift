// `isoflop tune` end to end on a tiny copy of the quick config: a real pilot (the engine trains
// every run), the rule written into the config with its comments kept, a rerun that trains
// nothing, and the report's LR panel beside the sweep itself.
import Foundation
import Sweep
import XCTest

final class TuneTests: XCTestCase {
    func testTinyPilotWritesTheRuleAndTheReportDrawsIt() throws {
        try CLI.requirePydocs(vocab: 512)
        let dir = try temporaryFolder()
        // The quick config at a fifth of its budgets (36–140 steps a run), matched only.
        let text = try CLI.quickConfig([("name = \"quick\"", "name = \"tiny\""), ("budgets = [1e11, 2e11, 3e11]", "budgets = [2e10, 4e10, 6e10]"),
                                        ("schedules = [\"matched\", \"fixed\"]", "schedules = [\"matched\"]")], absolutePaths: true)
        let config = dir + "/tiny.toml", store = dir + "/s.sqlite", json = dir + "/tune.json"
        try text.write(toFile: config, atomically: true, encoding: .utf8)

        // Issue 25, item 1: the user edits the config while the pilot trains (once the store
        // exists, the config has been read); the edits stay, only the rule is written.
        // The tiny pilot's rule fits its six shapes poorly (rms about 0.4 in ln lr): --force writes it.
        let tune = try CLI.process(["tune", config, "--store", store, "--workers", "2", "--write", "--force", "--json", json])
        try tune.run()
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: store), tune.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertTrue(tune.isRunning, "the pilot ended before the config could be edited")
        let edited = "# edited while the pilot ran\n" + text.replacingOccurrences(of: "seed = 1 ", with: "seed = 7 ")
        try edited.write(toFile: config, atomically: true, encoding: .utf8)
        tune.waitUntilExit()
        XCTAssertEqual(tune.terminationStatus, 0)
        let result = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let rule = result["rule"] as! [String: Any]
        let best = result["best"] as! [[String: Any]]
        XCTAssertEqual(best.count, 6, "three shapes at each of the two smallest budgets")
        for b in best {
            let lrs = (b["trials"] as! [[String: Any]]).map { $0["lr"] as! Double }
            XCTAssertGreaterThanOrEqual(lrs.count, 3)
            let ln = b["lnLR"] as! Double
            XCTAssertTrue(log(lrs.min()!) - 1e-9 <= ln && ln <= log(lrs.max()!) + 1e-9, "best ln lr \(ln) within the LRs tried \(lrs)")
        }
        // Written: the three values changed, every other line (comments and the edits included) as it was.
        let written = try String(contentsOfFile: config, encoding: .utf8)
        let before = edited.components(separatedBy: "\n"), after = written.components(separatedBy: "\n")
        XCTAssertEqual(before.count, after.count)
        let changed = zip(before, after).filter { $0.0 != $0.1 }.map(\.1)
        XCTAssertTrue(changed.allSatisfy { $0.hasPrefix("intercept = ") || $0.hasPrefix("width = ") || $0.hasPrefix("steps = ") }, "\(changed)")
        var cfg = try SweepConfig.load(path: config)
        XCTAssertEqual(cfg.seed, 7)
        XCTAssertEqual(cfg.lr.intercept, rule["intercept"] as! Double, accuracy: 5e-4)
        XCTAssertEqual(cfg.lr.width, rule["width"] as! Double, accuracy: 5e-4)
        XCTAssertEqual(cfg.lr.steps, rule["steps"] as! Double, accuracy: 5e-4)

        // The pilot resumes: run again, it trains nothing new and finds the same best LRs.
        let stored = try SQLiteRunStore(path: store)
        let pilot = try XCTUnwrap(stored.sweepID(named: "tiny-tune"))
        let runs = try stored.runs(sweep: pilot)
        XCTAssertTrue(runs.allSatisfy { $0.status == .done || $0.status == .diverged })
        // Without --force a rule that fits this poorly is not written: one line, the config untouched.
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let refused = try CLI.capture(["tune", config, "--store", store, "--workers", "2", "--write"])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("not written") && refused.stderr.contains("rms"), refused.stderr)
        // (The workers' own end-of-run lines come before it: stderr is not a terminal here.)
        let errors = refused.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        XCTAssertEqual(errors.count, 1, refused.stderr)
        XCTAssertTrue(errors.first?.contains("not written") ?? false, refused.stderr)
        XCTAssertEqual(try String(contentsOfFile: config, encoding: .utf8), text)
        // Issue 25, item 2: run through a symbolic link to the config, whose mode is 600: the
        // link stays a link, the config gets the rule and keeps its mode.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: config)
        let link = dir + "/link.toml"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: config)
        XCTAssertEqual(try CLI.run(["tune", link, "--store", store, "--workers", "2", "--write", "--force", "--json", json]), 0)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), config)
        XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: config)[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        cfg = try SweepConfig.load(path: config)
        XCTAssertEqual(cfg.lr.intercept, rule["intercept"] as! Double, accuracy: 5e-4)
        XCTAssertEqual(try stored.runs(sweep: pilot).count, runs.count)
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let again = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        XCTAssertEqual((again["rule"] as! [String: Any])["intercept"] as! Double, rule["intercept"] as! Double)

        // The sweep itself beside its pilot: the report reads the sweep (the pilot does not make
        // the store ambiguous) and draws the pilot as figure 5.
        XCTAssertEqual(try CLI.run(["sweep", "run", config, "--store", store, "--workers", "2"]), 0)
        let out = dir + "/report"
        XCTAssertEqual(try CLI.run(["report", "--store", store, "--out", out, "--bootstrap", "0"]), 0)
        let html = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        XCTAssertTrue(html.contains("Learning-rate pilot") && html.contains("Figure 5"))
        let svg = try String(contentsOfFile: out + "/fig5-lr.svg", encoding: .utf8)
        XCTAssertTrue(svg.contains("d=32 L=1 h=32"))
    }

    /// A rule far too low (1/64 of the quick config's): every shape is best at the top edge of
    /// ×0.5–×2 and stays there, so each gets exactly --max-extensions more multipliers, ×4 and ×8,
    /// one round at a time; a rerun adds nothing.
    func testExtensionsContinueUntilTheLimit() throws {
        try CLI.requirePydocs(vocab: 512)
        let dir = try temporaryFolder()
        let low = String(format: "intercept = %.3f", -5.944 - log(64.0))
        let text = try CLI.quickConfig([("name = \"quick\"", "name = \"low\""), ("budgets = [1e11, 2e11, 3e11]", "budgets = [2e10, 4e10]"),
                                        ("schedules = [\"matched\", \"fixed\"]", "schedules = [\"matched\"]"),
                                        ("intercept = -5.944", low)], absolutePaths: true)
        let config = dir + "/low.toml", store = dir + "/s.sqlite"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let args = ["tune", config, "--store", store, "--workers", "2", "--max-extensions", "2"]
        let first = try CLI.capture(args)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(first.stdout.components(separatedBy: "had their best LR at an edge").count - 1, 2, first.stdout)
        let stored = try SQLiteRunStore(path: store)
        let pilotConfig = try LRPilot.config(try SweepConfig.load(path: config), budgets: 2)
        let runs = try stored.runs(sweep: try XCTUnwrap(stored.sweepID(named: "low-tune")))
        let byShape = Dictionary(grouping: runs) { LRPilot.baseKey($0.plan.key) }
        XCTAssertEqual(byShape.count, 6, "three shapes at each of two budgets")
        for (key, members) in byShape {
            XCTAssertEqual(members.map { LRPilot.multiplier(of: $0.plan, config: pilotConfig) }.sorted(), [0.5, 1, 2, 4, 8], key)
        }
        XCTAssertEqual(try CLI.run(args), 0)
        XCTAssertEqual(try stored.runs(sweep: try XCTUnwrap(stored.sweepID(named: "low-tune"))).count, runs.count, "the rerun adds nothing")
    }
}
