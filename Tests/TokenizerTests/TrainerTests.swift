// The trainer: merges checked by hand, against a slow full-recount trainer, determinism, errors.
import XCTest
import Tokenizer

final class TrainerTests: XCTestCase {
    /// "aaabdaaabac" is one word. Pair counts: aa 4, ab 2, others 1 -> (a,a) = 256 first. Then
    /// "Z a b d Z a b a c": (256,97) and (97,98) both count 2; the tie goes to the smaller left
    /// id, so (a,b) = 257. Then (256,257) count 2 -> 258. Then all pairs count 1 in
    /// "X d X a c": (97,99) has the smallest left id -> 259.
    func testClassicExampleByHand() throws {
        let tok = try BPETokenizer.train(Array("aaabdaaabac".utf8), vocabSize: 261)
        XCTAssertEqual(tok.merges, [Merge(left: 97, right: 97, result: 256), Merge(left: 97, right: 98, result: 257),
                                    Merge(left: 256, right: 257, result: 258), Merge(left: 97, right: 99, result: 259)])
        XCTAssertEqual(tok.vocabSize, 261)
        XCTAssertEqual(tok.endOfTextId, 260)
        XCTAssertEqual(tok.vocab[258], Array("aaab".utf8))
        XCTAssertEqual(tok.encode("aaabdaaabac"), [258, 100, 258, 259])
    }

    /// Word frequencies count: " ab" three times beats "cd" twice even though "c d" is inside one word.
    func testCountsWordFrequencies() throws {
        let tok = try BPETokenizer.train(Array("cd ab ab ab cdcd".utf8), vocabSize: 258)
        // pairs: (32,97) 3, (97,98) 3, (99,100) 3 (cd once + cdcd twice), (100,99) 1 -> tie at 3, smallest is (32,97)
        XCTAssertEqual(tok.merges, [Merge(left: 32, right: 97, result: 256)])
    }

    func testMatchesFullRecountTrainer() throws {
        for seed in 0..<3 {
            let text = sampleText(bytes: 6000, seed: UInt64(seed))
            let fast = try BPETokenizer.train(text, vocabSize: 420)
            XCTAssertEqual(fast.merges, referenceMerges(text, vocabSize: 420), "seed \(seed)")
        }
    }

    func testDeterministicAndThreadIndependent() throws {
        let text = sampleText(bytes: 200_000, seed: 7)
        let a = try BPETokenizer.train(text, vocabSize: 600, threads: 1)
        let b = try BPETokenizer.train(text, vocabSize: 600, threads: 1)
        let c = try BPETokenizer.train(text, vocabSize: 600, threads: 3)
        XCTAssertEqual(a.jsonData(), b.jsonData())
        XCTAssertEqual(a.jsonData(), c.jsonData())
        XCTAssertEqual(a.vocabSize, 600)
        XCTAssertEqual(a.merges.count, 600 - 257)  // no merged bytes repeat here
    }

    func testErrors() {
        XCTAssertThrowsError(try BPETokenizer.train([], vocabSize: 300)) {
            XCTAssertEqual($0 as? TokenizerError, .emptyInput(source: "input"))
        }
        XCTAssertThrowsError(try BPETokenizer.train(Array("abc".utf8), vocabSize: 256)) {
            XCTAssertEqual($0 as? TokenizerError, .vocabTooSmall(requested: 256))
        }
        XCTAssertThrowsError(try BPETokenizer.train(Array("abc".utf8), vocabSize: 70000)) {
            XCTAssertEqual($0 as? TokenizerError, .vocabTooLarge(requested: 70000))
        }
    }

    /// `<|endoftext|>` in the training text separates words and is never merged from its bytes.
    func testSpecialTokenIsNotLearned() throws {
        let text = Array(String(repeating: "ab<|endoftext|>", count: 100).utf8)
        let tok = try BPETokenizer.train(text, vocabSize: 300, threads: 2)
        XCTAssertEqual(tok.merges, [Merge(left: 97, right: 98, result: 256)])
        XCTAssertEqual(tok.encode(text).prefix(4), [256, 257, 256, 257])
    }

    /// With nothing left to merge the vocabulary stops short; the special token still comes last.
    func testStopsWhenNoPairsLeft() throws {
        let tok = try BPETokenizer.train(Array("ab".utf8), vocabSize: 300)
        XCTAssertEqual(tok.vocabSize, 258)
        XCTAssertEqual(tok.endOfTextId, 257)
    }
}
