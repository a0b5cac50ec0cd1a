// `isoflop sample`: generate tokens (or text) from a training checkpoint.

import ArgumentParser
import Foundation
import Training

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
        print(try sampleCheckpoint(checkpoint, prompt: ids.map(SamplePrompt.ids) ?? .text(prompt!), tokenizer: tokenizer, count: count,
                                   temperature: temperature, topK: topK, seed: seed))
    }
}
