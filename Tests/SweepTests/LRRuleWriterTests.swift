// `tune --write`: the rule goes into the config's [lr] table and nothing else in the file moves.
import Foundation
import Sweep
import XCTest

final class LRRuleWriterTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every shipped config: only the three lines change, their comments stay, and the file
    /// decodes to the written rule with every other value as before.
    func testShippedConfigsRoundTrip() throws {
        for name in ["quick", "laptop", "gcide"] {
            let path = Self.root.appendingPathComponent("configs/\(name).toml").path
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let out = try LRRuleWriter.write(intercept: -6.1234, width: -0.5, steps: 0.39951, into: text, file: path)
            let a = text.components(separatedBy: "\n"), b = out.components(separatedBy: "\n")
            XCTAssertEqual(a.count, b.count, name)
            let changed = zip(a, b).filter { $0.0 != $0.1 }
            XCTAssertEqual(changed.count, 3, name)
            for (old, new) in changed {
                // The comment after the value is kept byte for byte.
                XCTAssertEqual(old.firstIndex(of: "#").map { String(old[$0...]) }, new.firstIndex(of: "#").map { String(new[$0...]) })
            }
            let before = try ConfigDecoder.decode(SweepConfig.self, fromTOML: text, file: path)
            var after = try ConfigDecoder.decode(SweepConfig.self, fromTOML: out, file: path)
            XCTAssertEqual(after.lr.intercept, -6.123)
            XCTAssertEqual(after.lr.width, -0.5)
            XCTAssertEqual(after.lr.steps, 0.400)
            after.lr = before.lr
            XCTAssertEqual(after, before, "\(name): nothing but the rule changed")
            // Writing the old values back gives the file again, up to how they were spelled.
            let back = try LRRuleWriter.write(intercept: before.lr.intercept, width: before.lr.width, steps: before.lr.steps,
                                              into: out, file: path)
            XCTAssertEqual(back, text, name)
        }
    }

    func testMissingKeysTableAndBadValues() throws {
        let head = "name = \"x\"  # a sweep\r\n[grid]\r\nsizes = 3\r\n"
        // A table lacking `steps`: added after its last key; CRLF kept.
        let partial = head + "[lr]\r\nintercept = -5.0 # c\r\nwidth = -0.4\r\nmax = 1e-2\r\n[family]\r\nwidths = [32]\r\n"
        let out = try LRRuleWriter.write(intercept: -6, width: -0.3, steps: 0.25, into: partial, file: "p.toml")
        XCTAssertEqual(out, head + "[lr]\r\nintercept = -6.000 # c\r\nwidth = -0.300\r\nmax = 1e-2\r\nsteps = 0.250\r\n[family]\r\nwidths = [32]\r\n")
        // No table: one at the end.
        XCTAssertEqual(try LRRuleWriter.write(intercept: -6, width: -0.3, steps: 0.25, into: "name = \"x\"", file: "p.toml"),
                       "name = \"x\"\n\n[lr]\nintercept = -6.000\nwidth = -0.300\nsteps = 0.250\n")
        // Inline tables and values that are not numbers are refused, naming file and key.
        for (text, key) in [("lr = { intercept = -5 }\n", "lr"), ("[lr]\nwidth = \"wide\"\n", "lr.width")] {
            XCTAssertThrowsError(try LRRuleWriter.write(intercept: -6, width: -0.3, steps: 0.25, into: text, file: "p.toml")) {
                XCTAssertTrue("\($0)".contains("p.toml") && "\($0)".contains(key), "\($0)")
            }
        }
        XCTAssertThrowsError(try LRRuleWriter.write(intercept: .nan, width: 0, steps: 0, into: partial, file: "p.toml"))
    }

    /// Issue 25, item 1: the rule goes into the config as it is when the fit ends, so a user's
    /// edits made while the pilot ran (a changed seed, a new comment) are kept; a changed [lr]
    /// table is refused and the file left alone.
    func testRuleGoesIntoTheFileAsItIsNow() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/quick.toml"
        let original = try String(contentsOfFile: Self.root.appendingPathComponent("configs/quick.toml").path, encoding: .utf8)
        let edited = "# tuned overnight\n" + original.replacingOccurrences(of: "seed = 1 ", with: "seed = 7 ")
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
        try LRRuleFile.write(intercept: -6.1, width: -0.3, steps: 0.35, to: path, startedFrom: original)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(written, try LRRuleWriter.write(intercept: -6.1, width: -0.3, steps: 0.35, into: edited, file: path))
        let cfg = try SweepConfig.load(path: path)
        XCTAssertEqual(cfg.seed, 7)
        XCTAssertEqual(cfg.lr.intercept, -6.1)

        // Someone changed the rule meanwhile: one line naming the file and the table, the fitted
        // values in it, and the file as it was.
        let changed = written.replacingOccurrences(of: "width = -0.300", with: "width = -0.250")
        try changed.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LRRuleFile.write(intercept: -5, width: -0.2, steps: 0.3, to: path, startedFrom: written)) {
            let message = "\($0)"
            XCTAssertTrue(message.contains(path) && message.contains("'lr'") && message.contains("changed")
                          && message.contains("intercept = -5.000"), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), changed)
        // An edit that breaks the config: refused by the decoder, the file left alone.
        let broken = "unknown_key = 1\n" + written
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LRRuleFile.write(intercept: -5, width: -0.2, steps: 0.3, to: path, startedFrom: written)) {
            XCTAssertTrue("\($0)".contains("unknown_key"), "\($0)")
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), broken)
    }

    /// Issue 25, item 2: through a symbolic link (to a link, here) the target is rewritten, the
    /// links stay links, and the target keeps its mode (600).
    func testRuleGoesThroughLinksAndKeepsTheMode() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/real", withIntermediateDirectories: true)
        let target = dir + "/real/quick.toml", link = dir + "/link.toml", chain = dir + "/chain.toml"
        let original = try String(contentsOfFile: Self.root.appendingPathComponent("configs/quick.toml").path, encoding: .utf8)
        try original.write(toFile: target, atomically: true, encoding: .utf8)
        try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target)
        try fm.createSymbolicLink(atPath: link, withDestinationPath: "real/quick.toml")
        try fm.createSymbolicLink(atPath: chain, withDestinationPath: link)
        try LRRuleFile.write(intercept: -6.1, width: -0.3, steps: 0.35, to: chain, startedFrom: original)
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: chain), link)
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: link), "real/quick.toml")
        XCTAssertEqual(try SweepConfig.load(path: target).lr.intercept, -6.1)
        XCTAssertEqual((try fm.attributesOfItem(atPath: target)[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: dir + "/real"), ["quick.toml"], "no temporary file left")
    }
}
