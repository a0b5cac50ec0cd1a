// The hand-written pre-tokenizer against the GPT-2 pattern's splits (as Hugging Face's ByteLevel
// pre-tokenizer gives them for the same strings), and the safe cuts used to split work.
import XCTest
import Tensor
import Tokenizer

final class PreTokenizerTests: XCTestCase {
    private func split(_ s: String) -> [String] { preTokenize(Array(s.utf8)).map { String(decoding: $0, as: UTF8.self) } }

    func testMatchesGPT2PatternOnASCII() {
        XCTAssertEqual(split("Hello world's 123 foo!!  bar\n\n  baz"),
                       ["Hello", " world", "'s", " 123", " foo", "!!", " ", " bar", "\n\n ", " baz"])
        XCTAssertEqual(split("I'll've they're DON'T it's"),
                       ["I", "'ll", "'ve", " they", "'re", " DON", "'", "T", " it", "'s"])
        XCTAssertEqual(split("a\n   foo\n\n  bar  \n\tbaz  "),
                       ["a", "\n  ", " foo", "\n\n ", " bar", "  \n", "\t", "baz", "  "])
        XCTAssertEqual(split("x = f(a, b)  # comment\r\n\r\n"),
                       ["x", " =", " f", "(", "a", ",", " b", ")", " ", " #", " comment", "\r\n\r\n"])
    }

    func testClassifiesUnicodeByCategory() {
        XCTAssertEqual(split("café ½ x²\u{00A0}y — naïve 日本語 🙂ok"),
                       ["café", " ½", " x", "²", "\u{00A0}", "y", " —", " naïve", " 日本語", " 🙂", "ok"])
    }

    func testInvalidUTF8IsOtherAndTilesTheInput() {
        let bytes: [UInt8] = [0x61, 0x80, 0x81, 0x62, 0x20, 0xC3, 0x20, 0xF0, 0x9F, 0x99]
        let parts = preTokenize(bytes)
        XCTAssertEqual(parts.flatMap { $0 }, bytes)
        XCTAssertEqual(parts, [[0x61], [0x80, 0x81], [0x62], [0x20, 0xC3], [0x20, 0xF0, 0x9F, 0x99]])
    }

    func testRandomBytesAreTiled() {
        for seed in 0..<50 {
            var g = SplitMix64(seed: UInt64(seed))
            let bytes = (0..<300).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            let parts = preTokenize(bytes)
            XCTAssertEqual(parts.flatMap { $0 }, bytes)
            XCTAssertFalse(parts.contains { $0.isEmpty })
        }
    }

    /// Pre-tokenizing the two sides of a safe cut gives the same pieces as the whole.
    func testSafeCutsDoNotChangeTheSplit() {
        let text = Array("a\n\n.. b\nfoo  \nbar\nbaz qux\n  x\ny".utf8)
        let whole = preTokenize(text)
        var cuts = [Int]()
        text.withUnsafeBufferPointer { buf in
            var from = 0
            while let q = safeCut(buf.baseAddress!, count: buf.count, from: from) { cuts.append(q); from = q + 1 }
        }
        XCTAssertEqual(cuts, [8, 18, 30])  // before "foo", "baz", "y"; not after "\n\n" or "  \n", nor before "  x"
        var pieces = [[UInt8]]()
        var start = 0
        for c in cuts + [text.count] { pieces += preTokenize(Array(text[start..<c])); start = c }
        XCTAssertEqual(pieces, whole)
    }
}
