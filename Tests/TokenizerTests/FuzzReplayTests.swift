// Replays the inputs kept in Tests/Fixtures/fuzz (seeds and every input the fuzzers found
// crashing) for the tokenizer's targets: tokenizer.json files, token-file sidecars, and the
// round trip decode(encode(x)) == x of the pre-tokenizer and encoder on any bytes.
import Foundation
import Corpus
import Tokenizer
import XCTest

final class FuzzReplayTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz")

    func inputs(_ target: String) throws -> [(String, Data)] {
        let dir = Self.fixtures.appendingPathComponent(target)
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().map {
            ($0, try Data(contentsOf: dir.appendingPathComponent($0)))
        }
    }

    /// A tokenizer that loads round-trips a sample (as the fuzz target checks).
    func testTokenizerJSONInputs() throws {
        let sample = Array("def f(x):\n    return x ** 2  # héllo \u{1F600}\0\u{7F}".utf8)
        var loaded = 0
        for (name, data) in try inputs("fuzz-tokenizer-json") {
            guard let tokenizer = try? BPETokenizer.parse(Array(data), source: name) else { continue }
            loaded += 1
            XCTAssertEqual(try tokenizer.decode(tokenizer.encode(sample)), sample, name)
        }
        XCTAssertGreaterThan(loaded, 0)
    }

    func testSidecarInputs() throws {
        var parsed = 0
        for (name, data) in try inputs("fuzz-sidecar") where (try? TokenFileInfo.parse(data, sidecar: name)) != nil { parsed += 1 }
        XCTAssertGreaterThan(parsed, 0)
    }

    /// Every kept input, and every input of the other targets too (more odd bytes), round-trips
    /// through the small seed tokenizer, with one or two threads alike.
    func testRoundTripInputs() throws {
        let tokenizer = try BPETokenizer.parse(Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("fuzz-tokenizer-json/seed-small.json"))))
        let targets = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path)
        var checked = 0
        for target in targets {
            for (name, data) in try inputs(target) {
                let bytes = Array(data)
                let ids = tokenizer.encode(bytes)
                XCTAssertEqual(try tokenizer.decode(ids), bytes, "\(target)/\(name)")
                XCTAssertEqual(tokenizer.encode(bytes, threads: 2), ids, "\(target)/\(name)")
                XCTAssertEqual(Array(preTokenize(bytes).joined()), bytes, "\(target)/\(name)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 5)
    }

    /// A sidecar's fields are checked, each named in the message.
    func testSidecarFields() throws {
        let good = try XCTUnwrap(inputs("fuzz-sidecar").first?.1)
        XCTAssertNoThrow(try TokenFileInfo.parse(good, sidecar: "s.json"))
        for (key, value) in [("vocabSize", "0"), ("tokens", "-1"), ("format", "\"uint32\""), ("byteStart", "99999999999"),
                             ("tokenizerSHA256", "\"abc\"")] {
            var object = try XCTUnwrap(JSONSerialization.jsonObject(with: good) as? [String: Any])
            object[key] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
            let data = try JSONSerialization.data(withJSONObject: object)
            XCTAssertThrowsError(try TokenFileInfo.parse(data, sidecar: "s.json")) {
                XCTAssertTrue("\($0)".contains(key) && "\($0)".contains("s.json"), "\($0)")
            }
        }
        XCTAssertThrowsError(try TokenFileInfo.parse(Data("{\"tokens\": 1}".utf8), sidecar: "s.json")) {
            XCTAssertTrue("\($0)".contains("missing key"), "\($0)")
        }
    }
}
