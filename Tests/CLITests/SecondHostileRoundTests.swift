// The second hostile round (issue 25) through the real tool: nothing a user had is replaced or
// mixed without being told, inputs the tool cannot use are refused with their real reason, and
// a refused or read-only command leaves nothing behind.
import Foundation
import Sweep
import XCTest

final class SecondHostileRoundTests: XCTestCase {
    /// Runs isoflop to its end; a refusal takes seconds, so a minute catches a hang early.
    func run(_ args: [String], in dir: String? = nil, timeout: Double = 60) throws -> CLI.Output {
        try CLI.capture(args, in: dir, timeout: timeout)
    }

    /// A clean refusal: no signal, exit 1, one line holding every string of `mentions`.
    func assertRefused(_ r: CLI.Output, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.signalled, "crashed: \(r.stderr)", file: file, line: line)
        XCTAssertEqual(r.status, 1, "stderr: \(r.stderr)", file: file, line: line)
        let message = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(message.split(separator: "\n").count, 1, "not one line: \(message)", file: file, line: line)
        for m in mentions { XCTAssertTrue(message.contains(m), "'\(m)' missing from: \(message)", file: file, line: line) }
    }

    func entries(_ dir: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() }

    /// The tests' small run config, training on `tokens`.
    func tinyRun(tokens: String) -> String {
        CLI.smallRun.replacingOccurrences(of: "data/tokens/pydocs-v512/train.u16", with: tokens)
    }

    /// Item 17: refused sweeps (a bad token file, the wrong vocabulary, a store that is not
    /// one) leave no checkpoint folder; read-only commands leave no -wal or -shm beside a store.
    func testRefusedAndReadOnlyCommandsLeaveNothingBehind() throws {
        try CLI.requirePydocs(vocab: 512)
        let dir = try temporaryFolder()
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/odd.u16"))
        try Data("not a store\n".utf8).write(to: URL(fileURLWithPath: dir + "/text.sqlite"))
        let cases: [([(String, String)], String, [String])] = [
            ([("eval_tokens = \"data/tokens/pydocs-v512/validation.u16\"", "eval_tokens = \"\(dir)/odd.u16\"")], "s1/sweep.sqlite", ["odd.u16"]),
            ([("vocab = 512", "vocab = 600")], "s2/sweep.sqlite", ["600"]),
            ([], "text.sqlite", ["text.sqlite"]),
        ]
        for (i, (edits, store, mentions)) in cases.enumerated() {
            let config = dir + "/c\(i).toml"
            try CLI.quickConfig(edits.map { (old: $0.0, new: $0.1) }, absolutePaths: true).write(toFile: config, atomically: true, encoding: .utf8)
            assertRefused(try run(["sweep", "run", config, "--store", dir + "/" + store], timeout: 300), mentions: mentions)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/checkpoints"), "case \(i)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/s1"), "case \(i)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/s2"), "case \(i)")
        }

        // A store with results, closed by its writer: the readers add nothing beside it.
        let store = dir + "/runs/sweep.sqlite"
        let sweep = try run(["sweep", "run", "configs/quick.toml", "--store", store, "--dry-run", "1000"], timeout: 300)
        XCTAssertEqual(sweep.status, 0, sweep.stderr)
        let folder = dir + "/runs"
        XCTAssertEqual(entries(folder), ["checkpoints", "sweep.sqlite"])
        let readers: [[String]] = [["sweep", "status", "--store", store], ["report", "--store", store, "--out", dir + "/report", "--bootstrap", "0"],
                                   ["export", "--store", store, "--out", dir + "/export"], ["fit", "--store", store, "--bootstrap", "0"],
                                   ["compare", "--store", store, "--bootstrap", "0"]]
        for args in readers {
            let r = try run(args, timeout: 300)
            XCTAssertEqual(r.status, 0, "\(args): \(r.stderr)")
            XCTAssertEqual(entries(folder), ["checkpoints", "sweep.sqlite"], "\(args)")
        }
    }
}
