// Encoding and decoding: exact round trips, the fast encoder against the textbook loop, parallel
// and streaming encodes against the plain one, special tokens, decoding errors.
import XCTest
import Corpus
import Tensor
import Tokenizer

final class EncoderTests: XCTestCase {
    static let tok: BPETokenizer = try! BPETokenizer.train(sampleText(bytes: 150_000, seed: 1), vocabSize: 700)

    func testRoundTripOfRandomBytes() throws {
        let tok = Self.tok
        for seed in 0..<200 {
            var g = SplitMix64(seed: UInt64(seed))
            let n = Int(g.next() % 500)
            // Mix uniform bytes with runs from a small alphabet so merges fire too.
            let bytes = (0..<n).map { _ -> UInt8 in
                let r = g.next()
                return r % 3 == 0 ? UInt8(truncatingIfNeeded: r >> 8) : Array("the an\n".utf8)[Int(r >> 8) % 7]
            }
            let ids = tok.encode(bytes)
            XCTAssertEqual(try tok.decode(ids), bytes, "seed \(seed)")
            XCTAssertEqual(ids, referenceEncode(tok, bytes), "seed \(seed)")
        }
    }

    func testRoundTripOfTrickyText() throws {
        let tok = Self.tok
        let cases: [[UInt8]] = [
            Array("emoji 🙂👍🏽 family 👨‍👩‍👧 flags 🇫🇷".utf8),
            Array("line one\r\nline two\r\n\r\n\ttabbed\u{000B}\u{000C}".utf8),
            [0x00, 0x61, 0x00, 0x00, 0x20, 0x00],
            [0x80, 0xBF, 0x61, 0xC3, 0xE2, 0x82, 0xF0, 0x9F, 0x98],  // lone continuation and truncated sequences
            Array(repeating: 0x61, count: 20_000),                    // one very long word
            Array(String(repeating: "the", count: 5000).utf8),
            Array(String(repeating: " ", count: 3000).utf8) + Array("x".utf8),
            Array("<|endoftext|>".utf8), Array("<|endoftext|".utf8), [],
        ]
        for bytes in cases {
            let ids = tok.encode(bytes)
            XCTAssertEqual(try tok.decode(ids), bytes)
            if !bytes.starts(with: Array("<|endoftext|>".utf8)) {
                XCTAssertEqual(ids, referenceEncode(tok, bytes))
            }
        }
    }

    func testSpecialTokenIsMatchedLiterally() throws {
        let tok = Self.tok
        let eot = try XCTUnwrap(tok.endOfTextId)
        XCTAssertEqual(eot, 699)
        let ids = tok.encode("the<|endoftext|>the")
        XCTAssertEqual(ids, tok.encode("the") + [eot] + tok.encode("the"))
        XCTAssertEqual(try tok.decodeText(ids), "the<|endoftext|>the")
    }

    func testParallelAndStreamingMatchPlainEncoding() throws {
        let tok = Self.tok
        let text = sampleText(bytes: 300_000, seed: 9)
        let plain = tok.encodeUInt16(text, threads: 1)
        XCTAssertEqual(tok.encodeUInt16(text, threads: 4), plain)
        let dir = temporaryDirectory()
        let input = dir + "/in.txt", output = dir + "/out.u16"
        _ = FileManager.default.createFile(atPath: input, contents: Data(text))
        let n = try tok.encodeFile(input: input, output: output, threads: 2, blockBytes: 7_000)
        XCTAssertEqual(n, plain.count)
        XCTAssertEqual(try TokenFile.read(output), plain)
        // A byte range, cut at a safe point, encodes as the tokens of that slice.
        let cut = text.withUnsafeBufferPointer { validationStart($0.baseAddress!, count: $0.count) }
        try tok.encodeFile(input: input, range: 0..<cut, output: output, blockBytes: 10_000)
        let head = try TokenFile.read(output)
        try tok.encodeFile(input: input, range: cut..<text.count, output: output)
        XCTAssertEqual(head + (try TokenFile.read(output)), plain)
        XCTAssertGreaterThan(cut, text.count * 97 / 100)
    }

    func testDecodeRejectsIdsOutOfRange() {
        XCTAssertThrowsError(try Self.tok.decode([1, 2, 700])) {
            XCTAssertEqual($0 as? TokenizerError, .tokenOutOfRange(id: 700, vocabSize: 700, position: 2))
        }
        XCTAssertThrowsError(try Self.tok.decode([-1]))
    }
}
