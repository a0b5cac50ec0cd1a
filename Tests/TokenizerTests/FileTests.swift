// tokenizer.json round trips and rejects, SHA-256 vectors, token files, and prepareCorpus on a
// user corpus (what it builds, what it keeps, what it rebuilds or reports).
import XCTest
import Corpus
#if canImport(Glibc)
import Glibc
#endif
import Tokenizer

final class FileTests: XCTestCase {
    func testSHA256KnownValues() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        XCTAssertEqual(SHA256.hex(long), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var s = SHA256()
        for b in long { s.update([b]) }
        XCTAssertEqual(s.hexDigest, SHA256.hex(long))
    }

    func testTokenizerJSONRoundTrip() throws {
        let text = sampleText(bytes: 50_000, seed: 3)
        let tok = try BPETokenizer.train(text, vocabSize: 500)
        let dir = temporaryDirectory()
        try tok.save(to: dir + "/t/tokenizer.json")
        let back = try BPETokenizer.load(from: dir + "/t/tokenizer.json")
        XCTAssertEqual(back.vocab, tok.vocab)
        XCTAssertEqual(back.merges, tok.merges)
        XCTAssertEqual(back.specialTokens, [SpecialToken(content: "<|endoftext|>", id: 499)])
        XCTAssertEqual(back.encode(text), tok.encode(text))
        XCTAssertEqual(back.jsonData(), tok.jsonData())
        // Byte tokens are written with GPT-2's byte-to-unicode map: space is "Ġ", newline "Ċ".
        let json = tok.jsonString()
        XCTAssertTrue(json.contains("\"Ġ\": 32,"))
        XCTAssertTrue(json.contains("\"Ċ\": 10,"))
        XCTAssertTrue(json.contains("\"type\": \"BPE\""))
    }

    /// The files `transformers`' AutoTokenizer reads beside tokenizer.json name the fast GPT-2
    /// tokenizer and <|endoftext|> as its bos, eos and unk; without that token there are none.
    func testHuggingFaceTokenizerFiles() throws {
        let tok = try BPETokenizer.train(sampleText(bytes: 20_000, seed: 4), vocabSize: 300)
        let files = try XCTUnwrap(tok.huggingFaceFiles(context: 128))
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(files.tokenizerConfig.utf8)) as? [String: Any])
        XCTAssertEqual(config["tokenizer_class"] as? String, "GPT2TokenizerFast")
        XCTAssertEqual(config["model_max_length"] as? Int, 128)
        XCTAssertEqual(config["add_prefix_space"] as? Bool, false)
        let map = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(files.specialTokensMap.utf8)) as? [String: String])
        XCTAssertEqual(map, ["bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"])
        for key in ["bos_token", "eos_token", "unk_token"] { XCTAssertEqual(config[key] as? String, "<|endoftext|>") }
        let plain = try BPETokenizer(vocab: (0..<256).map { [UInt8($0)] }, merges: [], specialTokens: [])
        XCTAssertNil(plain.huggingFaceFiles(context: 128))
    }

    func testLoadsMergesWrittenAsStrings() throws {
        let json = """
        {"added_tokens": [], "pre_tokenizer": {"type": "ByteLevel"},
         "model": {"type": "BPE", "vocab": \(byteVocabJSON(extra: ["ab": 256])), "merges": ["a b"]}}
        """
        let tok = try BPETokenizer.parse(Array(json.utf8))
        XCTAssertEqual(tok.merges, [Merge(left: 97, right: 98, result: 256)])
        XCTAssertEqual(tok.encode("abab"), [256, 256])
    }

    func testRejectsOtherFormats() {
        let cases = [
            "[1, 2, 3]",
            "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
            "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
            "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}, \"pre_tokenizer\": {\"type\": \"Whitespace\"}}",
            "not json",
        ]
        for c in cases {
            XCTAssertThrowsError(try BPETokenizer.parse(Array(c.utf8), source: "x.json")) { error in
                guard case .notATokenizer(let path, _)? = error as? TokenizerError else { return XCTFail("\(error)") }
                XCTAssertEqual(path, "x.json")
            }
        }
    }

    func testTokenFileRoundTripAndOddSize() throws {
        let dir = temporaryDirectory()
        let tokens: [UInt16] = [0, 1, 255, 256, 65535, 2048]
        try TokenFile.write(tokens, to: dir + "/a.u16")
        XCTAssertEqual(try TokenFile.read(dir + "/a.u16"), tokens)
        let raw = try XCTUnwrap(FileManager.default.contents(atPath: dir + "/a.u16"))
        XCTAssertEqual(Array(raw.prefix(8)), [0, 0, 1, 0, 255, 0, 0, 1])  // little-endian
        _ = FileManager.default.createFile(atPath: dir + "/b.u16", contents: Data([1, 2, 3]))
        XCTAssertThrowsError(try TokenFile.read(dir + "/b.u16")) {
            XCTAssertEqual($0 as? TokenFileError, .oddSize(path: dir + "/b.u16", bytes: 3))
        }
    }

    /// Item 11: a link that leaves the folder (or a FIFO inside it) is refused by name, never read.
    func testUserCorpusRefusesLinksOutOfItsFolder() throws {
        let dir = temporaryDirectory()
        let layout = DataLayout(root: dir + "/data")
        try FileManager.default.createDirectory(atPath: dir + "/src/sub", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/src/a.txt", contents: Data("inside".utf8))
        _ = FileManager.default.createFile(atPath: dir + "/secret.txt", contents: Data("outside".utf8))
        // A link to a file inside the folder is fine.
        try FileManager.default.createSymbolicLink(atPath: dir + "/src/sub/again.txt", withDestinationPath: dir + "/src/a.txt")
        XCTAssertEqual(try addCorpus("inside", paths: [dir + "/src"], layout: layout).bytes, 12)
        try FileManager.default.createSymbolicLink(atPath: dir + "/src/leak.txt", withDestinationPath: dir + "/secret.txt")
        XCTAssertThrowsError(try addCorpus("leak", paths: [dir + "/src"], layout: layout)) {
            XCTAssertTrue("\($0)".contains("leak.txt") && "\($0)".contains("secret.txt"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: layout.corpusText("leak")))
        try FileManager.default.removeItem(atPath: dir + "/src/leak.txt")
        XCTAssertEqual(mkfifo(dir + "/src/pipe", 0o600), 0)
        XCTAssertThrowsError(try addCorpus("pipe", paths: [dir + "/src"], layout: layout)) {
            XCTAssertTrue("\($0)".contains("pipe"), "\($0)")
        }
    }

    func testPrepareUserCorpus() throws {
        let dir = temporaryDirectory()
        let layout = DataLayout(root: dir + "/data")
        try FileManager.default.createDirectory(atPath: dir + "/src/b", withIntermediateDirectories: true)
        let partA = sampleText(bytes: 40_000, seed: 11), partB = sampleText(bytes: 30_000, seed: 12)
        _ = FileManager.default.createFile(atPath: dir + "/src/b/2.txt", contents: Data(partB))
        _ = FileManager.default.createFile(atPath: dir + "/src/a.txt", contents: Data(partA))
        let manifest = try addCorpus("mine", paths: [dir + "/src"], layout: layout)
        XCTAssertEqual(manifest.bytes, 70_000)
        XCTAssertEqual(FileManager.default.contents(atPath: layout.corpusText("mine")).map { [UInt8]($0) }, partA + partB)

        var messages = [String]()
        let p = try prepareCorpus("mine", vocabSize: 400, layout: layout, threads: 2) { messages.append($0) }
        XCTAssertEqual(messages.count, 3)  // train, encode train, encode validation
        XCTAssertEqual(p.tokenizer, layout.tokenizer(corpus: "mine", vocab: 400))
        XCTAssertEqual(p.train, dir + "/data/tokens/mine-v400/train.u16")
        let tok = try BPETokenizer.load(from: p.tokenizer)
        let whole = tok.encodeUInt16(partA + partB)
        let train = try TokenFile.read(p.train), validation = try TokenFile.read(p.validation)
        XCTAssertEqual(train + validation, whole)
        let info = try TokenFileInfo.read(for: p.validation)
        XCTAssertEqual(info.tokens, validation.count)
        XCTAssertEqual(info.split, .validation)
        XCTAssertEqual(info.byteEnd, 70_000)
        XCTAssertEqual(info.tokenizerSHA256, p.tokenizerSHA256)
        XCTAssertEqual(info.corpusSHA256, manifest.sha256)

        // Nothing is rebuilt when everything agrees; a damaged token file is re-encoded.
        messages = []
        XCTAssertEqual(try prepareCorpus("mine", vocabSize: 400, layout: layout) { messages.append($0) }, p)
        XCTAssertEqual(messages, [])
        try TokenFile.write([1, 2, 3], to: p.train)
        _ = try prepareCorpus("mine", vocabSize: 400, layout: layout) { messages.append($0) }
        XCTAssertEqual(messages.count, 1)
        XCTAssertEqual(try TokenFile.read(p.train), train)

        // Changed text no longer matches its manifest: reported, not silently used.
        _ = FileManager.default.createFile(atPath: layout.corpusText("mine"), contents: Data(partB))
        XCTAssertThrowsError(try prepareCorpus("mine", vocabSize: 400, layout: layout)) {
            guard case .checksumMismatch? = $0 as? CorpusError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try prepareCorpus("nosuch", vocabSize: 400, layout: layout)) {
            guard case .unknownCorpus(let name, let known)? = $0 as? CorpusError else { return XCTFail("\($0)") }
            XCTAssertEqual(name, "nosuch")
            XCTAssertEqual(known, ["pydocs", "gcide", "mine"])
        }
        XCTAssertThrowsError(try addCorpus("pydocs", paths: [dir + "/src"], layout: layout))
        XCTAssertThrowsError(try addCorpus("bad name", paths: [dir + "/src"], layout: layout))
    }

    private func byteVocabJSON(extra: [String: Int]) -> String {
        // GPT-2 byte-to-unicode strings for the 256 bytes, in byte order.
        var printable = Set<Int>()
        for r in [0x21...0x7E, 0xA1...0xAC, 0xAE...0xFF] { for b in r { printable.insert(b) } }
        var entries = [String]()
        var next = 256
        for b in 0..<256 {
            let scalar: Int
            if printable.contains(b) { scalar = b } else { scalar = next; next += 1 }
            let ch = String(Character(Unicode.Scalar(UInt32(scalar))!))
            let quoted = ch == "\"" ? "\\\"" : ch == "\\" ? "\\\\" : ch
            entries.append("\"\(quoted)\": \(b)")
        }
        for (k, v) in extra { entries.append("\"\(k)\": \(v)") }
        return "{" + entries.joined(separator: ", ") + "}"
    }
}
