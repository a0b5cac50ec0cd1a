// What Training reads back is checked field by field: a checkpoint's state.json and config.json,
// and token files that are not regular files.
import Foundation
import Model
import Tokenizer
import Training
import XCTest
#if canImport(Glibc)
import Glibc
#endif

final class BadInputTests: XCTestCase {
    let V = 16, T = 8, B = 4

    func checkpoint() throws -> (dir: String, train: TokenFile) {
        let dir = temporaryDirectory(self)
        let train = try TokenFile(path: writeTokens(chainTokens(count: 2000, vocabSize: V, seed: 1), in: dir, name: "train.bin"))
        var c = TrainConfig(model: GPTConfig(vocabSize: V, context: T, d: 32, layers: 1), batchSize: B, steps: 20,
                            schedule: LRSchedule(kind: .matched, peak: 0.05, totalSteps: 20), seed: 3)
        c.evalBatches = 2
        let trainer = try Trainer(config: c, model: BigramModel(vocabSize: V, context: T, batchSize: B, seed: 3),
                                  train: train, validation: train)
        for _ in 0..<5 { _ = try trainer.trainStep() }
        try trainer.saveCheckpoint(to: dir + "/ckpt")
        return (dir + "/ckpt", train)
    }

    func resume(_ dir: String, _ train: TokenFile) throws -> Trainer {
        try Trainer.resume(from: dir, model: BigramModel(vocabSize: V, context: T, batchSize: B, seed: 9), train: train, validation: train)
    }

    /// Item 14: a negative step (a negative learning rate) and every other inconsistent field
    /// of state.json are refused, naming the file and the field.
    func testStateFieldsAreChecked() throws {
        let (dir, train) = try checkpoint()
        XCTAssertEqual(try resume(dir, train).step, 5)
        let path = dir + "/state.json"
        let good = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let edits: [(String, Any, String)] = [("step", -3, "step -3"), ("step", 99, "step 99"), ("tokens", 7, "tokens 7"),
                                              ("optimizerStep", 4, "optimizerStep 4"), ("format", 2, "format 2"),
                                              ("sampler", ["0", "0", "0", "0"], "sampler")]
        for (key, value, mention) in edits {
            var state = good
            state[key] = value
            try JSONSerialization.data(withJSONObject: state).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try resume(dir, train), key) {
                XCTAssertTrue("\($0)".contains(mention) && "\($0)".contains("state.json"), "\($0)")
            }
        }
    }

    /// A checkpoint's config.json with an absurd or broken value names the file.
    func testConfigJSONIsChecked() throws {
        let (dir, _) = try checkpoint()
        let path = dir + "/config.json"
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        config["batchSize"] = 10_000_000_000
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Checkpoint.config(in: dir)) {
            XCTAssertTrue("\($0)".contains("config.json") && "\($0)".contains("10000000000"), "\($0)")
        }
    }

    /// A folder that is not there is named as such, not as its missing config.json (a sweep's
    /// run read from a longer shared run has no checkpoint folder of its own).
    func testMissingCheckpointFolderIsNamed() throws {
        let (dir, _) = try checkpoint()
        XCTAssertThrowsError(try Checkpoint.config(in: dir + "-absent")) {
            XCTAssertTrue("\($0)".contains(dir + "-absent") && "\($0)".contains("no such checkpoint folder"), "\($0)")
        }
        XCTAssertThrowsError(try Checkpoint.config(in: dir + "/config.json")) {
            XCTAssertTrue("\($0)".contains("not a folder"), "\($0)")
        }
        try FileManager.default.removeItem(atPath: dir + "/config.json")
        XCTAssertThrowsError(try Checkpoint.config(in: dir)) {
            XCTAssertTrue("\($0)".contains("config.json") && "\($0)".contains("missing"), "\($0)")
        }
    }

    /// Item 19: a FIFO (or a folder) as token file is an error at once, not a hang.
    func testTokenFileMustBeARegularFile() throws {
        let dir = temporaryDirectory(self)
        XCTAssertEqual(mkfifo(dir + "/fifo", 0o600), 0)
        XCTAssertThrowsError(try TokenFile(path: dir + "/fifo")) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
        XCTAssertThrowsError(try TokenFile(path: dir)) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
    }
}
