// The shared JSON string escaper (edge cases, and round trips through Foundation's parser) and
// the one-line description of a decoding error.
import Foundation
import Tensor
import XCTest

final class JSONTextTests: XCTestCase {
    /// Parses `literal` as a JSON fragment (a lone string value).
    private func parsed(_ literal: String) throws -> String? {
        try JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed) as? String
    }

    func testEscapesQuotesBackslashAndTheShortControlForms() {
        XCTAssertEqual(jsonQuoted(""), "\"\"")
        XCTAssertEqual(jsonQuoted("plain"), "\"plain\"")
        XCTAssertEqual(jsonQuoted("a\"b"), "\"a\\\"b\"")
        XCTAssertEqual(jsonQuoted("a\\b"), "\"a\\\\b\"")
        XCTAssertEqual(jsonQuoted("\\\""), "\"\\\\\\\"\"")
        XCTAssertEqual(jsonQuoted("l1\nl2\r\tx"), "\"l1\\nl2\\r\\tx\"")
        // "/" may stay as it is (RFC 8259 allows, never requires, "\/").
        XCTAssertEqual(jsonQuoted("runs/a.bin"), "\"runs/a.bin\"")
    }

    func testOtherControlCharactersAreFourHexDigits() {
        XCTAssertEqual(jsonQuoted("\u{00}"), "\"\\u0000\"")
        XCTAssertEqual(jsonQuoted("\u{08}\u{0C}"), "\"\\u0008\\u000c\"")
        XCTAssertEqual(jsonQuoted("\u{1F}"), "\"\\u001f\"")
        // U+0020 and U+007F are not control characters to JSON: written as they are.
        XCTAssertEqual(jsonQuoted(" \u{7F}"), "\" \u{7F}\"")
    }

    func testNonASCIIIsWrittenAsItself() {
        for s in ["é", "Ġhello", "日本語", "🙂", "e\u{301}", "\u{2028}\u{2029}", "\u{FEFF}"] {
            XCTAssertEqual(jsonQuoted(s), "\"" + s + "\"", s)
        }
    }

    func testEveryStringRoundTripsThroughJSONSerialization() throws {
        var cases = ["", "\"", "\\", "\\\\\"", "\"\"\"", "a\u{00}b", "tab\there", "<|endoftext|>", "🙂 and é", "\u{10FFFF}"]
        // Every scalar below 0x80, alone and all together.
        let ascii = (0..<0x80).map { String(UnicodeScalar(UInt8($0))) }
        cases += ascii
        cases.append(ascii.joined())
        // GPT-2's byte-to-unicode characters, as tokenizer.json's vocab holds them.
        cases.append(String((0x100..<0x144).map { Character(UnicodeScalar($0)!) }))
        for s in cases {
            let literal = jsonQuoted(s)
            XCTAssertEqual(try parsed(literal), s, "literal \(literal.debugDescription)")
            // As an object key too (safetensors headers and vocabularies use strings as keys).
            let object = try JSONSerialization.jsonObject(with: Data("{\(literal): 1}".utf8)) as? [String: Int]
            XCTAssertEqual(object?[s], 1, "key \(literal.debugDescription)")
        }
    }

    func testSortedJSONIsIndentedKeySortedAndTheSameForEqualValues() throws {
        // Dictionaries built in opposite orders encode to the same bytes.
        var a: [String: Int] = [:], b: [String: Int] = [:]
        for (k, key) in ["zeta", "alpha", "mid", "beta"].enumerated() { a[key] = k }
        for (k, key) in ["zeta", "alpha", "mid", "beta"].enumerated().reversed() { b[key] = k }
        let text = String(decoding: try sortedJSON(a), as: UTF8.self)
        XCTAssertEqual(try sortedJSON(b), try sortedJSON(a))
        XCTAssertEqual(text, "{\n  \"alpha\" : 1,\n  \"beta\" : 3,\n  \"mid\" : 2,\n  \"zeta\" : 0\n}")
        XCTAssertEqual(try JSONDecoder().decode([String: Int].self, from: try sortedJSON(a)), a)
    }

    private struct Sample: Decodable { var name: String; var steps: Int }

    private func decodingError(_ json: String) -> DecodingError? {
        do { _ = try JSONDecoder().decode(Sample.self, from: Data(json.utf8)); return nil } catch {
            return error as? DecodingError
        }
    }

    func testDecodingErrorsNameTheKeyAndWhatWasWrong() throws {
        let missing = try XCTUnwrap(decodingError("{\"name\": \"a\"}"))
        XCTAssertEqual(describeDecodingError(missing), "missing key 'steps'")
        let wrongType = try XCTUnwrap(decodingError("{\"name\": \"a\", \"steps\": \"ten\"}"))
        XCTAssertTrue(describeDecodingError(wrongType).hasPrefix("wrong type at 'steps'"), describeDecodingError(wrongType))
        let notJSON = try XCTUnwrap(decodingError("{\"name\": "))
        XCTAssertTrue(describeDecodingError(notJSON).hasPrefix("bad value at 'top level'"), describeDecodingError(notJSON))
    }
}
