// `isoflop sample`: generate tokens (or text) from a training checkpoint.

import ArgumentParser
import Foundation
import Model
import Tokenizer
import Training

/// Turns prompt text into token ids with a tokenizer.json.
func encodePrompt(_ text: String, tokenizer path: String) throws -> [Int32] {
    try BPETokenizer.load(from: path).encode(text).map { Int32($0) }
}

/// Turns token ids back into text with a tokenizer.json.
func decodeTokens(_ ids: [Int32], tokenizer path: String) throws -> String {
    try BPETokenizer.load(from: path).decodeText(ids.map { Int($0) })
}

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Generate tokens from a checkpoint with temperature and top-k sampling.")

    @Argument(help: "Checkpoint directory (as written by 'isoflop train', e.g. runs/train/checkpoint).")
    var checkpoint: String

    @Option(help: "Prompt as comma-separated token ids.") var ids: String?
    @Option(help: "Prompt as text (needs --tokenizer).") var prompt: String?
    @Option(help: "tokenizer.json, to encode --prompt and decode the output.") var tokenizer: String?
    // `.unconditional`: a negative value ("--count -5") is taken as the value and refused by
    // validate() for what it is, not read as a flag and reported as a missing value.
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Tokens to generate.") var count: Int = 100
    @Option(parsing: .unconditional, help: "Sampling temperature (0: greedy).") var temperature: Double = 1.0
    @Option(parsing: .unconditional, help: "Sample among the k most likely tokens (0: all).") var topK: Int = 0
    @Option(help: "Seed for sampling.") var seed: UInt64 = 0

    func validate() throws {
        guard (ids == nil) != (prompt == nil) else { throw ValidationError("give exactly one of --ids and --prompt") }
        guard prompt == nil || tokenizer != nil else { throw ValidationError("--prompt needs --tokenizer") }
        guard count >= 0, count <= 1_000_000 else { throw ValidationError("--count \(count) must be in 0...1000000") }
        guard temperature.isFinite, temperature >= 0 else {
            throw ValidationError("--temperature \(temperature) must be a finite number, 0 or more")
        }
        guard topK >= 0 else { throw ValidationError("--top-k \(topK) must not be negative") }
    }

    func run() throws {
        do { try sample() } catch let e as CLIError { throw e } catch { throw CLIError(describing: error) }
    }

    func sample() throws {
        let config = try Checkpoint.config(in: checkpoint)
        let V = config.model.vocabSize
        let start: [Int32]
        if let ids {
            start = try ids.split(separator: ",").map {
                let s = $0.trimmingCharacters(in: .whitespaces)
                guard let v = Int32(s), v >= 0, Int(v) < V else { throw CLIError("--ids: '\(s)' is not a token id below \(V)") }
                return v
            }
        } else {
            start = try encodePrompt(prompt!, tokenizer: tokenizer!)
        }
        if let tokenizer {
            // Ids of another tokenizer would index past the model's embedding table.
            let size = try BPETokenizer.load(from: tokenizer).vocabSize
            guard size == V else {
                throw CLIError("--tokenizer \(tokenizer) has \(size) tokens, the checkpoint's model has a vocabulary of \(V)")
            }
        }
        if let bad = start.first(where: { $0 < 0 || Int($0) >= V }) {
            throw CLIError("prompt token id \(bad) is outside the model's vocabulary of \(V)")
        }
        guard !start.isEmpty else { throw CLIError("the prompt is empty; give at least one token") }
        let model = try makeModel(config: config.model, batchSize: 1, seed: config.seed)
        try Checkpoint.loadParameters(from: checkpoint, into: model)
        let out = Sampling.generate(model: model, prompt: start, count: count, temperature: temperature,
                                    topK: topK, seed: seed)
        if let tokenizer {
            print(try decodeTokens(out, tokenizer: tokenizer))
        } else {
            print(out.map(String.init).joined(separator: ","))
        }
    }
}
