// Replays every input kept in Tests/Fixtures/fuzz/fuzz-config (the fuzzer's seeds and every
// input it found crashing) through what the fuzz target runs: none may crash.
import Foundation
import Sweep
import Training
import XCTest

/// The files of one fuzz target's folder of kept inputs.
func fuzzInputs(_ target: String, file: String = #filePath) throws -> [(String, Data)] {
    let dir = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz/\(target)")
    let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    return try names.map { ($0, try Data(contentsOf: dir.appendingPathComponent($0))) }
}

final class FuzzReplayTests: XCTestCase {
    func testConfigInputs() throws {
        let inputs = try fuzzInputs("fuzz-config")
        XCTAssertFalse(inputs.isEmpty)
        var planned = 0
        for (name, data) in inputs {
            let text = String(decoding: data, as: UTF8.self)
            for json in [false, true] {
                if let sweep = try? (json ? ConfigDecoder.decode(SweepConfig.self, fromJSON: text, file: name)
                                          : ConfigDecoder.decode(SweepConfig.self, fromTOML: text, file: name)),
                   (try? sweep.validate(file: name)) != nil, (try? Planner.plan(sweep)) != nil {
                    planned += 1
                    // As the target: where the rule can be written in, nothing else changes.
                    if !json, (try? LRRuleWriter.write(intercept: -6.25, width: -0.5, steps: 0.375, into: text, file: name)) != nil {
                        XCTAssertNoThrow(try LRRuleWriter.writeChecked(intercept: -6.25, width: -0.5, steps: 0.375, into: text, file: name), name)
                    }
                }
                if let run = try? (json ? ConfigDecoder.decode(TrainConfig.self, fromJSON: text, file: name)
                                        : ConfigDecoder.decode(TrainConfig.self, fromTOML: text, file: name)) {
                    _ = try? run.validate()
                }
            }
        }
        // The seeds include real configs, so the replay reaches the planner.
        XCTAssertGreaterThan(planned, 0)
    }
}
