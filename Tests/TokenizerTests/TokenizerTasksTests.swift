// `isoflop tokenizer`'s work in process: training on a file or a corpus's train split, encoding
// a file, and inspecting a tokenizer, each with the line people read.
import Corpus
import Foundation
import Tokenizer
import XCTest

final class TokenizerTasksTests: XCTestCase {
    func testTrainingOnAFileWritesTheTokenizerAndSaysSo() throws {
        let dir = temporaryDirectory()
        let input = dir + "/text.txt", output = dir + "/tok.json"
        try Data(sampleText(bytes: 20_000, seed: 3)).write(to: URL(fileURLWithPath: input))
        let line = try trainTokenizer(input: input, vocab: 300, threads: 1, output: output)
        let tok = try BPETokenizer.load(from: output)
        XCTAssertEqual(tok.vocabSize, 300)
        XCTAssertTrue(line.hasPrefix("trained 300 tokens (\(tok.merges.count) merges) in "), line)
        XCTAssertTrue(line.hasSuffix(" s -> \(output)"), line)
        XCTAssertThrowsError(try trainTokenizer(input: input, vocab: 60_000, threads: 1, output: dir + "/big.json")) {
            guard case .vocabNotReached? = $0 as? TokenizerError else { return XCTFail("\($0)") }
        }
    }

    func testTrainingOnACorpusUsesOnlyItsTrainSplit() throws {
        let layout = DataLayout(root: temporaryDirectory())
        let text = sampleText(bytes: 30_000, seed: 4)
        try FileManager.default.createDirectory(atPath: (layout.corpusText("c") as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(text).write(to: URL(fileURLWithPath: layout.corpusText("c")))
        let output = layout.root + "/c.json"
        _ = try trainTokenizer(corpus: "c", layout: layout, vocab: 290, threads: 1, output: output)
        let cut = text.withUnsafeBufferPointer { validationStart($0.baseAddress!, count: $0.count) }
        let expected = try BPETokenizer.train(Array(text[..<cut]), vocabSize: 290, source: "c")
        XCTAssertEqual(try BPETokenizer.load(from: output).merges.count, expected.merges.count)
        XCTAssertEqual(try BPETokenizer.load(from: output).fingerprint, expected.fingerprint, "the validation text is not trained on")
    }

    func testEncodingAFileSaysTheTokensAndBytesPerToken() throws {
        let dir = temporaryDirectory()
        let text = sampleText(bytes: 10_000, seed: 5)
        try Data(text).write(to: URL(fileURLWithPath: dir + "/in.txt"))
        let tok = try BPETokenizer.train(text, vocabSize: 280, source: "t")
        let line = try encodeTokenFile(tok, input: dir + "/in.txt", output: dir + "/out.u16", threads: 2)
        let n = tok.encodeUInt16(text).count
        XCTAssertEqual(try TokenFile.read(dir + "/out.u16").count, n)
        XCTAssertTrue(line.hasPrefix("\(n) tokens, \(String(format: "%.3f", Double(text.count) / Double(n))) bytes/token, "), line)
        XCTAssertTrue(line.hasSuffix(" MB/s -> \(dir)/out.u16"), line)
    }

    func testInspectionListsTheLongestTokensLongestFirst() throws {
        let tok = try BPETokenizer.train(Array("aaabdaaabac aaabdaaabac".utf8), vocabSize: 262, source: "t")
        let dir = temporaryDirectory()
        try "aaab".write(toFile: dir + "/f.txt", atomically: true, encoding: .utf8)
        let lines = try inspectTokenizer(tok, top: 2, file: dir + "/f.txt")
        XCTAssertEqual(lines[0], "vocab size   \(tok.vocabSize) (\(tok.merges.count) merges)")
        XCTAssertEqual(lines[1], "special      <|endoftext|> = \(tok.endOfTextId!)")
        XCTAssertEqual(lines[2], "longest tokens:")
        let lengths = lines[3...4].map { Int($0.split(separator: "\t")[1].split(separator: " ")[0])! }
        XCTAssertEqual(lengths, lengths.sorted(by: >))
        XCTAssertEqual(lengths[0], tok.vocab.indices.filter { $0 != tok.endOfTextId }.map { tok.vocab[$0].count }.max())
        let n = tok.encodeUInt16(Array("aaab".utf8)).count
        XCTAssertEqual(lines[5], "\(dir)/f.txt: 4 bytes, \(n) tokens, \(String(format: "%.3f", 4 / Double(n))) bytes/token")
        XCTAssertEqual(lines.count, 6)
    }

    func testDecodingRestoresTheTextOrNamesTheFileAndTheTokenizer() throws {
        let dir = temporaryDirectory()
        let text = sampleText(bytes: 5_000, seed: 6)
        let tok = try BPETokenizer.train(text, vocabSize: 270, source: "t")
        try Data(text).write(to: URL(fileURLWithPath: dir + "/in.txt"))
        _ = try encodeTokenFile(tok, input: dir + "/in.txt", output: dir + "/t.u16", threads: 1)
        XCTAssertEqual(try decodeTokenFile(tok, tokenizer: "tok.json", input: dir + "/t.u16", output: nil), Data(text))
        XCTAssertNil(try decodeTokenFile(tok, tokenizer: "tok.json", input: dir + "/t.u16", output: dir + "/out.txt"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/out.txt")), Data(text))
        var bad = Data()
        withUnsafeBytes(of: UInt16(5000).littleEndian) { bad.append(contentsOf: $0) }
        try bad.write(to: URL(fileURLWithPath: dir + "/bad.u16"))
        XCTAssertThrowsError(try decodeTokenFile(tok, tokenizer: "tok.json", input: dir + "/bad.u16", output: nil)) {
            guard case .badToken(let input, "tok.json", _)? = $0 as? TokenFileDecodeError else { return XCTFail("\($0)") }
            XCTAssertEqual(input, dir + "/bad.u16")
        }
    }
}
