// `isoflop train`: one training run from a JSON run config, with flags to override it.

import ArgumentParser
import Foundation
import Study
import Tensor
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train one gpt-mini model on a uint16 token file.",
        discussion: """
            Reads a JSON run config (see configs/train-*.json); flags override its values. \
            Without a config, --d, --layers, --steps and --lr are required. Writes checkpoints \
            and metrics.csv into --out; --resume continues from the checkpoint there.
            """)

    @Argument(help: "Run config (configs/train-*.json).")
    var config: String?

    @Option(help: "Model width d (a multiple of the head size, 32 by default).") var d: Int?
    @Option(help: "Number of transformer blocks (L).") var layers: Int?
    @Option(help: "Vocabulary size (the tokenizer's).") var vocab: Int?
    @Option(help: "Context length T.") var context: Int?
    @Option(help: "Optimizer steps.") var steps: Int?
    @Option(help: "Peak learning rate.") var lr: Double?
    @Option(help: "Schedule: matched, fixed, constant or wsd.") var schedule: ScheduleKind?
    @Option(help: "Sequences per batch.") var batch: Int?
    @Option(help: "Training token file (little-endian uint16).") var tokens: String?
    @Option(help: "Validation token file (default: the training file).") var validationTokens: String?
    @Option(help: "Output directory for checkpoints and metrics.") var out: String = "runs/train"
    @Option(help: "Seed for initialisation and batches.") var seed: UInt64?
    @Option(help: "BLAS threads (default: one, as every sweep run uses, or OPENBLAS_NUM_THREADS).") var threads: Int?
    @Option(help: "Print a plain progress line every this many steps when not on a terminal.") var logEvery: Int = 50
    @Flag(help: "Resume from the checkpoint in --out.") var resume = false
    @Option(help: "Stop after this many steps in all, with a checkpoint, to continue later with --resume.")
    var stopAfter: Int?

    func validate() throws {
        let shapeFlags: [(String, Bool)] = [("config", config != nil), ("--d", d != nil), ("--layers", layers != nil),
                                           ("--vocab", vocab != nil), ("--context", context != nil), ("--steps", steps != nil),
                                           ("--lr", lr != nil), ("--schedule", schedule != nil), ("--batch", batch != nil),
                                           ("--seed", seed != nil)]
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads \(threads) must be in 1...256") }
        guard logEvery >= 1 else { throw ValidationError("--log-every \(logEvery) must be at least 1") }
        if let stopAfter, stopAfter < 0 { throw ValidationError("--stop-after \(stopAfter) must not be negative") }
        if let lr, !(lr.isFinite && lr > 0) { throw ValidationError("--lr \(lr) must be positive and finite") }
        let given = shapeFlags.filter(\.1).map(\.0)
        if resume, !given.isEmpty {
            throw ValidationError("--resume takes the run from the checkpoint in --out; drop \(given.joined(separator: ", "))")
        }
    }

    func run() throws {
        do { try train() } catch let e as CLIError { throw e } catch { throw CLIError(describing: error) }
    }

    /// The file config with the flags applied on top.
    func runConfig() throws -> TrainConfig {
        var o = TrainOverrides()
        (o.d, o.layers, o.vocab, o.context, o.steps, o.lr) = (d, layers, vocab, context, steps, lr)
        (o.schedule, o.batch, o.seed, o.tokens, o.validationTokens) = (schedule, batch, seed, tokens, validationTokens)
        return try Study.runConfig(file: config, overrides: o)
    }

    func train() throws {
        if let threads { BLAS.setThreads(threads) }
        var options = SingleRunOptions(out: out)
        options.resume = resume
        options.tokens = tokens
        options.validationTokens = validationTokens
        options.stopAfter = stopAfter
        options.logEvery = logEvery
        let terminal = isatty(STDOUT_FILENO) != 0
        let output = RunOutput(line: { print($0) }, overwrite: terminal ? { FileHandle.standardOutput.write(Data($0.utf8)) } : nil)
        try trainSingleRun(options, config: runConfig, output: output)
    }
}

extension ScheduleKind: ExpressibleByArgument {}
