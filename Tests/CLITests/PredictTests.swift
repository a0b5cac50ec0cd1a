// `isoflop predict --train` end to end: a quick sweep's law forecast at a larger budget, trained,
// scored, killed with SIGKILL while it trains and resumed to the same result; a second budget's
// forecast trained beside the first in the same store.
import Foundation
import Sweep
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class PredictTests: XCTestCase {
    func testPredictTrainsScoresAndResumesAfterSIGKILL() throws {
        try CLI.requirePydocs(vocab: 512)
        let dir = try temporaryFolder()
        let config = dir + "/quick.toml"
        try CLI.quickConfig([(old: "schedules = [\"matched\", \"fixed\"]", new: "schedules = [\"matched\"]")], absolutePaths: true)
            .write(toFile: config, atomically: true, encoding: .utf8)
        for sub in ["clean", "killed"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        let clean = dir + "/clean/sweep.sqlite", killed = dir + "/killed/sweep.sqlite"
        XCTAssertEqual(try CLI.run(["sweep", "run", config, "--store", clean, "--workers", "2"]), 0)
        // The store with its write-ahead log, which may hold the sweep's last commits.
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: clean + suffix) {
            try FileManager.default.copyItem(atPath: clean + suffix, toPath: killed + suffix)
        }

        let args = ["--budget", "6e11", "--bootstrap", "50", "--workers", "2"]
        let forecast = try CLI.capture(["predict", "--store", clean] + args)
        XCTAssertEqual(forecast.status, 0, forecast.stderr)
        XCTAssertTrue(forecast.stdout.contains("to train: sweep quick-predict-6e11"), forecast.stdout)
        let readOnly = try SQLiteRunStore(path: clean, readOnly: true)
        XCTAssertNil(try readOnly.sweepID(named: "quick-predict-6e11"), "a forecast without --train planned a sweep")

        let reference = try CLI.capture(["predict", "--store", clean, "--train"] + args)
        XCTAssertEqual(reference.status, 0, reference.stderr)
        XCTAssertTrue(reference.stdout.contains("outcome at C = 6e11"), reference.stdout)
        XCTAssertTrue(reference.stdout.contains("approach 3: loss forecast"), reference.stdout)
        // The report of the store (no --sweep: the forecast sweep beside its parent is not a
        // choice) draws the trained forecast against its runs and says how it fared.
        let report = try CLI.capture(["report", "--store", clean, "--out", dir + "/report", "--bootstrap", "20"])
        XCTAssertEqual(report.status, 0, report.stderr)
        let html = try String(contentsOfFile: dir + "/report/index.html", encoding: .utf8)
        XCTAssertTrue(html.contains("matched: trained forecast at 6e11 (the law fitted to every budget) against its 3 runs"), html)
        let figure = try String(contentsOfFile: dir + "/report/fig-holdout.svg", encoding: .utf8)
        XCTAssertTrue(figure.contains("approach 2, trained forecast") && figure.contains("trained forecast: best run"))

        // Regression: a forecast at a second budget was refused ("the store already holds this
        // sweep with a different plan"), as every budget's forecast took the one name
        // "quick-predict". Each budget now has its sweep, and the report scores both.
        let second = try CLI.capture(["predict", "--store", clean, "--train", "--budget", "4e11", "--bootstrap", "20", "--workers", "2"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("outcome at C = 4e11"), second.stdout)
        let both = try CLI.capture(["report", "--store", clean, "--out", dir + "/report2", "--bootstrap", "20"])
        XCTAssertEqual(both.status, 0, both.stderr)
        let html2 = try String(contentsOfFile: dir + "/report2/index.html", encoding: .utf8)
        for budget in ["4e11", "6e11"] {
            XCTAssertTrue(html2.contains("matched: trained forecast at \(budget) (the law fitted to every budget)"), html2)
        }

        // The same forecast trained in the copy, killed once the predict sweep has a checkpoint.
        let first = try CLI.process(["predict", "--store", killed, "--train"] + args)
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        let killedMidRun = CLI.killOnceCheckpointed(first, checkpoints: dir + "/killed/checkpoints", within: 300)
        XCTAssertTrue(killedMidRun, "no checkpoint of the predict sweep appeared")
        let resumed = try CLI.capture(["predict", "--store", killed, "--train"] + args)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        // The score is computed from the runs' final losses, which resume bit for bit.
        func scoreLines(_ text: String) -> [String] {
            text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("outcome at") || $0.hasPrefix("  approach ") && $0.contains("measured/forecast") }
        }
        XCTAssertEqual(scoreLines(resumed.stdout), scoreLines(reference.stdout))
        XCTAssertEqual(scoreLines(reference.stdout).count, 3, reference.stdout)
    }
}
