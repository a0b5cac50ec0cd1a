import Foundation
import Model
import Training
import XCTest

final class ConfigTests: XCTestCase {
    func decode(_ json: String) throws -> TrainConfig {
        try TrainConfig.decode(json: Data(json.utf8), source: "test.json")
    }

    func testMinimalConfigTakesDefaults() throws {
        let c = try decode(#"{"model": {"d": 64, "layers": 2}, "steps": 300, "schedule": {"kind": "matched", "peak": 0.003}}"#)
        XCTAssertEqual(c.model, GPTConfig(vocabSize: 2048, context: 128, d: 64, layers: 2, headSize: 32))
        XCTAssertEqual(c.schedule, LRSchedule(kind: .matched, peak: 0.003, totalSteps: 300, warmupSteps: 15))
        XCTAssertEqual(c.batchSize, 32)
        XCTAssertEqual(c.weightDecay, 0.1)
        XCTAssertEqual(c.gradClip, 1)
        XCTAssertEqual(c.beta2, 0.95)
        XCTAssertNil(c.trainTokens)
    }

    func testEncodeDecodeRoundTrip() throws {
        var c = TrainConfig(model: GPTConfig(vocabSize: 512, d: 48, layers: 1, headSize: 48), batchSize: 8, steps: 900,
                            schedule: LRSchedule(kind: .fixed, peak: 0.01, totalSteps: 900, cycleSteps: 5000), seed: 0xFFFF_FFFF_FFFF_FFFF)
        c.trainTokens = "data/train.bin"
        c.evalEvery = 100
        let back = try TrainConfig.decode(json: c.encodedJSON(), source: "round trip")
        XCTAssertEqual(back, c)
    }

    func testUnknownKeysAreNamed() {
        XCTAssertThrowsError(try decode(#"{"model": {"d": 64, "layers": 2}, "steps": 3, "stpes": 4, "schedule": {"kind": "constant", "peak": 1}}"#)) {
            XCTAssertEqual($0 as? TrainingError, .unknownKeys(["stpes"], in: "the run config of test.json"))
        }
        XCTAssertThrowsError(try decode(#"{"model": {"d": 64, "layers": 2, "width": 3}, "steps": 3, "schedule": {"kind": "constant", "peak": 1}}"#)) {
            XCTAssertEqual($0 as? TrainingError, .unknownKeys(["width"], in: "'model' of test.json"))
        }
        XCTAssertThrowsError(try decode(#"{"model": {"d": 64, "layers": 2}, "steps": 3, "schedule": {"kind": "constant", "peak": 1, "warmup": 3}}"#)) {
            XCTAssertTrue("\($0)".contains("'warmup'"), "\($0)")
        }
    }

    func testBadValuesAreOneClearError() {
        XCTAssertThrowsError(try decode(#"{"model": {"d": 40, "layers": 2}, "steps": 3, "schedule": {"kind": "constant", "peak": 1}}"#)) {
            XCTAssertTrue("\($0)".contains("not a multiple of 32"), "\($0)")
        }
        XCTAssertThrowsError(try decode(#"{"model": {"d": 64}, "steps": 3, "schedule": {"kind": "constant", "peak": 1}}"#)) {
            XCTAssertTrue("\($0)".contains("model.layers"), "\($0)")
        }
        XCTAssertThrowsError(try decode(#"{"model": {"d": 64, "layers": 1}, "steps": 3, "schedule": {"kind": "cosine", "peak": 1}}"#)) {
            XCTAssertTrue("\($0)".contains("schedule.kind"), "\($0)")
        }
    }

    func testSetStepsKeepsTheScheduleInStep() {
        var c = TrainConfig(model: GPTConfig(d: 64, layers: 2), steps: 100, schedule: LRSchedule(kind: .matched, peak: 1e-3, totalSteps: 100))
        c.setSteps(2000)
        XCTAssertEqual(c.schedule.totalSteps, 2000)
        XCTAssertEqual(c.schedule.warmupSteps, 100, "a default warmup follows the new length")
        XCTAssertNoThrow(try c.validate())
    }
}
