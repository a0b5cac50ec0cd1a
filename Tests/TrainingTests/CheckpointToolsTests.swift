// What other tools do with a training checkpoint: the Hugging Face export with its check file,
// finding the tokenizer that encoded a run's tokens, and sampling from the model.
import Foundation
import Model
import Tensor
import Tokenizer
import Training
import XCTest

final class CheckpointToolsTests: XCTestCase {
    /// A byte-level tokenizer trained to `vocab` tokens, saved in `dir`.
    func tokenizer(in dir: String, vocab: Int = 264) throws -> (BPETokenizer, String) {
        let text = Array(String(repeating: "the cat sat on the mat; the dog sat on the log. ", count: 40).utf8)
        let tok = try BPETokenizer.train(text, vocabSize: vocab, source: "test")
        let path = dir + "/tokenizer-\(vocab).json"
        try tok.save(to: path)
        return (tok, path)
    }

    /// A GPT of `vocab` tokens trained two steps on `tokens`, its checkpoint in `dir/checkpoint`.
    func checkpoint(in dir: String, vocab: Int, tokens: String) throws -> String {
        var c = TrainConfig(model: GPTConfig(vocabSize: vocab, context: 8, d: 32, layers: 1), batchSize: 2, steps: 2,
                            schedule: LRSchedule(kind: .matched, peak: 0.01, totalSteps: 2), seed: 1)
        c.evalBatches = 1
        c.trainTokens = tokens
        let file = try TokenFile(path: tokens)
        let trainer = try Trainer.open(config: c, resumingFrom: nil, train: file, validation: file)
        let folder = CheckpointFolder(dir + "/checkpoint")
        _ = try trainer.run(RunHooks(checkpoints: folder, checkpointAtEnd: true))
        return folder.path
    }

    func testExportWritesTheGPT2FolderAndACheckOfTheFirstWindows() throws {
        let dir = temporaryDirectory(self)
        let (tok, tokPath) = try tokenizer(in: dir)
        let tokens = writeTokens(chainTokens(count: 200, vocabSize: 264, seed: 1), in: dir, name: "t.u16")
        let ckpt = try checkpoint(in: dir, vocab: tok.vocabSize, tokens: tokens)
        var options = HuggingFaceExportOptions()
        options.tokenizer = tokPath
        options.checkTokens = tokens
        (options.checkWindows, options.checkPrompt, options.checkCount) = (2, 3, 4)
        let line = try exportHuggingFace(checkpoint: ckpt, to: dir + "/hf", options: options)
        XCTAssertEqual(line, "wrote 6 files to \(dir)/hf (GPT-2: n_embd 32, n_layer 1, n_head 1, n_positions 8, vocab 264)")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir + "/hf")),
                       ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                        "isoflop-check.json"])
        let check = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/hf/isoflop-check.json")))
                                  as? [String: Any])
        let file = try TokenFile(path: tokens)
        XCTAssertEqual(check["inputs"] as? [[Int]], [(0..<8).map { Int(file[$0]) }, (8..<16).map { Int(file[$0]) }])
        XCTAssertEqual(check["targets"] as? [[Int]], [(1..<9).map { Int(file[$0]) }, (9..<17).map { Int(file[$0]) }])
        XCTAssertEqual(check["prompt"] as? [Int], (0..<3).map { Int(file[$0]) })
        XCTAssertEqual((check["greedy"] as? [Int])?.count, 7, "the prompt and its four greedy tokens")
        XCTAssertNotNil(check["loss"] as? Double)

        options.checkCount = 6
        XCTAssertThrowsError(try exportHuggingFace(checkpoint: ckpt, to: dir + "/hf", options: options)) {
            XCTAssertEqual($0 as? HuggingFaceExportError, .checkTooLong(tokens: 9, context: 8))
        }
        options.tokenizer = try tokenizer(in: dir, vocab: 270).1
        XCTAssertThrowsError(try exportHuggingFace(checkpoint: ckpt, to: dir + "/hf", options: options)) {
            XCTAssertEqual($0 as? HuggingFaceExportError, .vocabMismatch(tokenizer: options.tokenizer!, tokens: 270, vocab: 264))
        }
    }

    func testTheTokenizerOfATokenFileIsTheOneItsSidecarFingerprints() throws {
        let root = temporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: root + "/tokenizers/c-v264", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/tokens/c-v264", withIntermediateDirectories: true)
        let (tok, _) = try tokenizer(in: root)
        try tok.save(to: root + "/tokenizers/c-v264/tokenizer.json")
        let tokens = writeTokens([1, 2, 3], in: root + "/tokens/c-v264", name: "train.u16")
        XCTAssertThrowsError(try tokenizerOfTokens(tokens), "no sidecar") {
            guard case .unknownTokenizer? = $0 as? HuggingFaceExportError else { return XCTFail("\($0)") }
        }
        try #"{"tokenizerSHA256": "\#(tok.fingerprint)"}"#.write(toFile: tokens + ".json", atomically: true, encoding: .utf8)
        XCTAssertEqual(try tokenizerOfTokens(tokens), root + "/tokenizers/c-v264/tokenizer.json")
        try #"{"tokenizerSHA256": "0000"}"#.write(toFile: tokens + ".json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try tokenizerOfTokens(tokens), "another tokenizer's fingerprint")
    }

    func testSamplingContinuesThePromptAndRefusesIdsOutsideTheVocabulary() throws {
        let dir = temporaryDirectory(self)
        let (tok, tokPath) = try tokenizer(in: dir)
        let tokens = writeTokens(chainTokens(count: 200, vocabSize: 264, seed: 1), in: dir, name: "t.u16")
        let ckpt = try checkpoint(in: dir, vocab: tok.vocabSize, tokens: tokens)
        let greedy = try sampleCheckpoint(ckpt, prompt: .ids("5, 6"), tokenizer: nil, count: 4, temperature: 0, topK: 0, seed: 0)
        let ids = greedy.split(separator: ",").map { Int($0)! }
        XCTAssertEqual(ids.count, 6)
        XCTAssertEqual(Array(ids.prefix(2)), [5, 6])
        XCTAssertEqual(try sampleCheckpoint(ckpt, prompt: .ids("5,6"), tokenizer: nil, count: 4, temperature: 0, topK: 0, seed: 9), greedy,
                       "greedy sampling does not depend on the seed")
        let text = try sampleCheckpoint(ckpt, prompt: .text("the cat"), tokenizer: tokPath, count: 2, temperature: 0, topK: 0, seed: 0)
        XCTAssertTrue(text.hasPrefix("the cat"), text)
        XCTAssertThrowsError(try sampleCheckpoint(ckpt, prompt: .ids("5,264"), tokenizer: nil, count: 1, temperature: 0, topK: 0, seed: 0)) {
            XCTAssertEqual($0 as? SampleError, .notATokenId("264", vocab: 264))
        }
        XCTAssertThrowsError(try sampleCheckpoint(ckpt, prompt: .ids(""), tokenizer: nil, count: 1, temperature: 0, topK: 0, seed: 0)) {
            XCTAssertEqual($0 as? SampleError, .emptyPrompt)
        }
        let other = try tokenizer(in: dir, vocab: 270).1
        XCTAssertThrowsError(try sampleCheckpoint(ckpt, prompt: .ids("1"), tokenizer: other, count: 1, temperature: 0, topK: 0, seed: 0)) {
            XCTAssertEqual($0 as? SampleError, .tokenizerVocab(path: other, size: 270, vocab: 264))
        }
    }
}
