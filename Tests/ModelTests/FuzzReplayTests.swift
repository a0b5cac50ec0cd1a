// Replays every input kept in Tests/Fixtures/fuzz/fuzz-safetensors (seeds and inputs the
// fuzzer found crashing): each parses or fails with an error, never crashes.
import Foundation
import Model
import XCTest

final class FuzzReplayTests: XCTestCase {
    func testSafetensorsInputs() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz/fuzz-safetensors")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertFalse(names.isEmpty)
        var parsed = 0
        for name in names {
            let data = try Data(contentsOf: dir.appendingPathComponent(name))
            if let (tensors, _) = try? Safetensors.parse(data, source: name) {
                parsed += 1
                for t in tensors { XCTAssertEqual(t.values.count, t.shape.reduce(1, *), name) }
            }
        }
        XCTAssertGreaterThan(parsed, 0, "the seeds parse")
    }

    /// Headers whose shapes overflow, go negative or point outside the file are errors.
    func testHostileHeaders() throws {
        func file(_ header: String, data: Int = 0) -> Data {
            var bytes = Array(header.utf8)
            var out = Data()
            withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: bytes)
            bytes = [UInt8](repeating: 0, count: data)
            out.append(contentsOf: bytes)
            return out
        }
        for header in [#"{"x":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#,
                       #"{"x":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}"#,
                       #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#,
                       #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775800,9223372036854775807]}}"#] {
            XCTAssertThrowsError(try Safetensors.parse(file(header, data: 16), source: "h")) {
                XCTAssertTrue("\($0)".contains("tensor x"), "\($0)")
            }
        }
    }
}
