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

    /// Item 4: `corpus add` of other text under a registered name needs --replace; token files
    /// of the old text are then refused by `sweep run` and `train` until rebuilt.
    func testReplacingACorpusNeedsReplaceAndStaleTokensAreRefused() throws {
        try CLI.requirePydocs(vocab: 512)
        let dir = try temporaryFolder()
        let pydocs = try Data(contentsOf: CLI.root.appendingPathComponent("data/corpora/pydocs.txt"))
        try pydocs.prefix(300_000).write(to: URL(fileURLWithPath: dir + "/a.txt"))
        try pydocs.suffix(300_000).write(to: URL(fileURLWithPath: dir + "/b.txt"))
        let data = dir + "/data"
        XCTAssertEqual(try run(["corpus", "add", "mine", dir + "/a.txt", "--data", data]).status, 0)
        XCTAssertEqual(try run(["tokenizer", "train", "--corpus", "mine", "--vocab", "512", "--data", data, "--threads", "2"], timeout: 300).status, 0)
        let text = data + "/corpora/mine.txt"
        let before = try Data(contentsOf: URL(fileURLWithPath: text))

        assertRefused(try run(["corpus", "add", "mine", dir + "/b.txt", "--data", data]), mentions: ["'mine'", "--replace"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: text)), before, "the corpus text was replaced")
        // The same text again changes nothing and needs no flag.
        XCTAssertEqual(try run(["corpus", "add", "mine", dir + "/a.txt", "--data", data]).status, 0)
        XCTAssertEqual(try run(["corpus", "add", "mine", dir + "/b.txt", "--data", data, "--replace"]).status, 0)

        let train = data + "/tokens/mine-v512/train.u16"
        let config = dir + "/mine.toml"
        try CLI.quickConfig([("corpus = \"pydocs\"", "corpus = \"mine\""),
                             ("data/tokens/pydocs-v512/train.u16", train),
                             ("data/tokens/pydocs-v512/validation.u16", data + "/tokens/mine-v512/validation.u16"),
                             ("data/tokenizers/pydocs-v512/tokenizer.json", data + "/tokenizers/mine-v512/tokenizer.json")])
            .write(toFile: config, atomically: true, encoding: .utf8)
        let store = dir + "/runs/sweep.sqlite"
        assertRefused(try run(["sweep", "run", config, "--store", store]), mentions: [train, "corpus mine", "--corpus mine --vocab 512 --data \(data)"])
        XCTAssertEqual(entries(dir), ["a.txt", "b.txt", "data", "mine.toml"], "a refused sweep leaves nothing behind")
        let run = dir + "/run.toml"
        try tinyRun(tokens: train).write(toFile: run, atomically: true, encoding: .utf8)
        assertRefused(try self.run(["train", run, "--out", dir + "/out"]), mentions: [train, "corpus mine"])

        // Rebuilt, the sweep's inputs pass (a dry run trains nothing).
        XCTAssertEqual(try self.run(["tokenizer", "train", "--corpus", "mine", "--vocab", "512", "--data", data, "--threads", "2"], timeout: 300).status, 0)
        let dry = try self.run(["sweep", "run", config, "--store", store, "--dry-run", "1000"], timeout: 300)
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertEqual(try self.run(["train", run, "--out", dir + "/out"], timeout: 300).status, 0)
    }

    /// Item 5: `export-hf` into a folder holding a user's files is refused (nothing written),
    /// into a new folder or an earlier export it works, and --force writes beside the user's files.
    func testExportHFLeavesAUsersFolderAlone() throws {
        try CLI.requirePydocs(vocab: 512)
        let dir = try temporaryFolder()
        try tinyRun(tokens: "data/tokens/pydocs-v512/train.u16").write(toFile: dir + "/run.toml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(["train", dir + "/run.toml", "--out", dir + "/out"], timeout: 300).status, 0)
        let checkpoint = dir + "/out/checkpoint"
        let mine = dir + "/mine"
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: true)
        try Data("{\"mine\": true}\n".utf8).write(to: URL(fileURLWithPath: mine + "/config.json"))
        try Data("notes\n".utf8).write(to: URL(fileURLWithPath: mine + "/notes.txt"))
        assertRefused(try run(["export-hf", checkpoint, mine]), mentions: [mine, "notes.txt", "config.json", "--force"])
        XCTAssertEqual(entries(mine), ["config.json", "notes.txt"])
        XCTAssertEqual(try String(contentsOfFile: mine + "/config.json", encoding: .utf8), "{\"mine\": true}\n")
        // A lone config.json that is not GPT-2's is a user's too.
        try FileManager.default.removeItem(atPath: mine + "/notes.txt")
        assertRefused(try run(["export-hf", checkpoint, mine]), mentions: [mine, "config.json"])

        let fresh = dir + "/fresh"
        XCTAssertEqual(try run(["export-hf", checkpoint, fresh]).status, 0)
        let exported = entries(fresh)
        XCTAssertEqual(exported.count, 5)
        XCTAssertEqual(try run(["export-hf", checkpoint, fresh]).status, 0, "an earlier export is rewritten")
        XCTAssertEqual(entries(fresh), exported)

        try Data("notes\n".utf8).write(to: URL(fileURLWithPath: mine + "/notes.txt"))
        XCTAssertEqual(try run(["export-hf", checkpoint, mine, "--force"]).status, 0)
        XCTAssertEqual(entries(mine), (exported + ["notes.txt"]).sorted())
    }

    /// Item 15: a text too small for the vocabulary, or for a validation split, is refused and
    /// no tokenizer folder named for a size it lacks is written.
    func testTokenizerTrainRefusesTextsTooSmall() throws {
        try CLI.requirePydocs(vocab: 512)
        let dir = try temporaryFolder()
        let data = dir + "/data"
        try Data("hello world, this is tiny.\n".utf8).write(to: URL(fileURLWithPath: dir + "/tiny.txt"))
        XCTAssertEqual(try run(["corpus", "add", "tiny", dir + "/tiny.txt", "--data", data]).status, 0)
        assertRefused(try run(["tokenizer", "train", "--corpus", "tiny", "--vocab", "512", "--data", data]),
                      mentions: ["corpus tiny", "27 bytes", "validation"])
        XCTAssertEqual(entries(data), ["corpora"], "no tokenizer or token files")
        assertRefused(try run(["tokenizer", "train", "--input", dir + "/tiny.txt", "--output", dir + "/t.json", "--vocab", "512"]),
                      mentions: [dir + "/tiny.txt", "vocabulary of 512", "ran out of pairs"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/t.json"))

        // Enough text for a validation split, too little for the vocabulary.
        let pydocs = try Data(contentsOf: CLI.root.appendingPathComponent("data/corpora/pydocs.txt"))
        try pydocs.prefix(5_000).write(to: URL(fileURLWithPath: dir + "/small.txt"))
        XCTAssertEqual(try run(["corpus", "add", "small", dir + "/small.txt", "--data", data]).status, 0)
        assertRefused(try run(["tokenizer", "train", "--corpus", "small", "--vocab", "8192", "--data", data]),
                      mentions: ["corpus small", "vocabulary of 8192", "at most"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/tokenizers/small-v8192"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/tokens"))
    }

    /// Item 16: inputs that are not regular files, names that are not UTF-8, decoding errors and
    /// negative counts each end in one line naming the input and the real reason; none hangs.
    func testInputErrorsNameTheInputAndTheReason() throws {
        try CLI.requirePydocs(vocab: 512)
        let dir = try temporaryFolder()
        let tokenizer = CLI.root.appendingPathComponent("data/tokenizers/pydocs-v512/tokenizer.json").path
        let fifo = dir + "/fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let out = dir + "/out.u16"
        assertRefused(try run(["tokenizer", "encode", "--tokenizer", tokenizer, "--input", fifo, "--output", out]),
                      mentions: [fifo, "a FIFO", "not a regular file"])
        assertRefused(try run(["tokenizer", "encode", "--tokenizer", tokenizer, "--input", "/dev/zero", "--output", out], timeout: 20),
                      mentions: ["/dev/zero", "character device"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written")
        assertRefused(try run(["tokenizer", "train", "--input", "/dev/zero", "--output", dir + "/t.json", "--vocab", "300"], timeout: 20),
                      mentions: ["/dev/zero", "character device"])

        // A name with byte 0xFF reaches the tool as U+FFFD: the reason says so.
        var name = Array("\(dir)/a".utf8)
        name += [0xFF] + Array("b.txt".utf8)
        let fd = open(name.map { CChar(bitPattern: $0) } + [0], O_CREAT | O_WRONLY, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = "some text\n".withCString { write(fd, $0, 10) }
        close(fd)
        let args = ["tokenizer", "encode", "--tokenizer", tokenizer, "--input", String(decoding: name, as: UTF8.self), "--output", out]
        assertRefused(try run(args), mentions: ["not UTF-8", "rename"])

        // A token id beyond the tokenizer: the token file, the id and the tokenizer in one line.
        let bad = dir + "/bad.u16"
        try Data([1, 0, 2, 0, 0x58, 0x02]).write(to: URL(fileURLWithPath: bad))
        assertRefused(try run(["tokenizer", "decode", "--tokenizer", tokenizer, "--input", bad]), mentions: [bad, "600", tokenizer])
        assertRefused(try run(["tokenizer", "decode", "--tokenizer", tokenizer, "--input", fifo]), mentions: [fifo, "not a regular file"])

        // `--count -5` is a count, refused as such (not "missing value").
        let r = try run(["sample", dir + "/none", "--ids", "1", "--count", "-5"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertTrue(r.stderr.contains("--count -5 must be in"), r.stderr)
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
