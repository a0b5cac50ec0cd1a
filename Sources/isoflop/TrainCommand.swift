// `isoflop train`: one training run from a JSON run config, with flags to override it.

import ArgumentParser
import Corpus
import Foundation
import Model
import Sweep
import Tensor
import Tokenizer
import Training

/// Builds the model the trainer drives. The one place to switch to the gpt-mini engine.
func makeModel(config: GPTConfig, batchSize: Int, seed: UInt64) throws -> LanguageModel {
    try GPT(config: config, batchSize: batchSize, seed: seed)
}

/// Reads a run config file, TOML or JSON (by extension), through the sweep's strict
/// decoder: unknown keys, wrong types and out-of-range values are errors naming the file, the
/// key, its line and the value.
func loadRunConfig(path: String) throws -> TrainConfig {
    let c: TrainConfig
    do { c = try ConfigDecoder.decode(TrainConfig.self, contentsOf: path) } catch TrainingError.unknownKeys(let keys, let place) {
        throw TrainingError.unknownKeys(keys, in: "\(place) of \(path)")
    }
    do { try c.validate() } catch let e as TrainingError { throw CLIError("\(path): \(e)") }
    return c
}

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
        var c: TrainConfig
        if let path = config {
            c = try loadRunConfig(path: path)
        } else {
            guard let d, let layers, let steps, let lr else {
                throw CLIError("give a run config, or all of --d, --layers, --steps and --lr")
            }
            c = TrainConfig(model: GPTConfig(d: d, layers: layers), steps: steps,
                            schedule: LRSchedule(kind: schedule ?? .matched, peak: lr, totalSteps: steps))
        }
        if let d { c.model.d = d }
        if let layers { c.model.layers = layers }
        if let vocab { c.model.vocabSize = vocab }
        if let context { c.model.context = context }
        if let steps { c.setSteps(steps) }
        if let lr { c.schedule.peak = lr }
        if let schedule { c.schedule.kind = schedule }
        if let batch { c.batchSize = batch }
        if let seed { c.seed = seed }
        if let tokens { c.trainTokens = tokens }
        if let validationTokens { c.validationTokens = validationTokens }
        try c.validate()
        return c
    }

    func train() throws {
        if let threads { BLAS.setThreads(threads) }
        let folder = CheckpointFolder(out + "/checkpoint")
        if resume {
            try folder.recover()
        } else {
            // Another run's checkpoint and metrics are never overwritten by a fresh start.
            for existing in [folder.path, out + "/metrics.csv"] where FileManager.default.fileExists(atPath: existing) {
                throw CLIError("--out \(out) already holds a run (\(existing)): continue it with --resume, or give another --out")
            }
        }
        let c = resume ? try Checkpoint.config(in: folder.path) : try runConfig()
        guard let trainPath = tokens ?? c.trainTokens else {
            throw CLIError("no training tokens: give --tokens or trainTokens in the config")
        }
        let trainFile = try TokenFile(path: trainPath)
        let validationFile = try (validationTokens ?? c.validationTokens).map { try TokenFile(path: $0) } ?? trainFile
        try trainFile.check(context: c.model.context, vocabSize: c.model.vocabSize)
        try validationFile.check(context: c.model.context, vocabSize: c.model.vocabSize)
        for path in [trainPath, validationTokens ?? c.validationTokens].compactMap({ $0 }) { try TokenFileInfo.checkCorpus(path) }

        let trainer = try Trainer.open(config: c, resumingFrom: resume ? folder : nil, train: trainFile, validation: validationFile)
        if trainer.isFinished {
            print("the checkpoint in \(folder.path) already completed its \(c.steps) steps")
            return
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let metrics = try MetricsLog(path: out + "/metrics.csv", keepingThrough: resume ? trainer.step : nil)

        print("\(c.model)  N=\(c.model.parameters)  batch \(c.batchSize)×\(c.model.context)  "
              + "\(c.steps) steps  \(c.schedule.kind) lr \(c.schedule.peak)  \(BLAS.threads) BLAS thread(s)"
              + (resume ? "  resuming at step \(trainer.step)" : ""))
        var progress = Progress(total: c.steps, tokensPerStep: c.tokensPerStep,
                                flopsPerToken: c.model.trainingFLOPsPerToken, logEvery: logEvery)
        var hooks = RunHooks(evalEvery: c.evalEvery, checkpointEvery: c.checkpointEvery, checkpoints: folder,
                             checkpointAtEnd: true)
        hooks.onStep = { s in
            progress.record(s.result, seconds: s.seconds)
            metrics.step(s.result)
            if let loss = s.evalLoss {
                metrics.eval(step: s.result.step, tokens: s.result.tokens, loss: loss)
                if s.result.step < c.steps { progress.note(String(format: "eval at step %d: %.4f", s.result.step, loss)) }
            }
        }
        let end = try trainer.run(hooks) { stopAfter.map { trainer.step >= $0 } ?? false }
        progress.finishLine()
        switch end {
        case .stopped(let step):
            print("stopped at step \(step) of \(c.steps); continue with --resume")
        case .diverged(let step, let loss, let reason):
            throw CLIError("\(TrainingError.diverged(step: step, loss: loss, reason: reason))")
        case .finished(let final):
            print(String(format: "done: %d steps, %d tokens, eval loss %.4f; checkpoint in %@",
                         trainer.step, trainer.tokens, final, folder.path))
        }
    }
}

extension ScheduleKind: ExpressibleByArgument {}

/// The live progress line: rewritten in place on a terminal, plain lines otherwise.
struct Progress {
    let total: Int
    let tokensPerStep: Int
    let flopsPerToken: Double
    let logEvery: Int
    let terminal = isatty(STDOUT_FILENO) != 0
    var seconds = 0.0
    var tokens = 0
    var stepsTimed = 0
    var lastDraw = 0.0
    var lineOpen = false

    init(total: Int, tokensPerStep: Int, flopsPerToken: Double, logEvery: Int) {
        self.total = total
        self.tokensPerStep = tokensPerStep
        self.flopsPerToken = flopsPerToken
        self.logEvery = max(1, logEvery)
    }

    mutating func record(_ r: StepResult, seconds s: Double) {
        seconds += s
        tokens += tokensPerStep
        stepsTimed += 1
        let rate = Double(tokens) / max(seconds, 1e-9)
        let eta = Double(total - r.step) * seconds / Double(stepsTimed)
        let line = String(format: "step %d/%d  loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s  %.1f GFLOP/s  ETA %@",
                          r.step, total, r.loss, r.lr, r.gradNorm, rate, rate * flopsPerToken / 1e9, duration(eta))
        if terminal {
            if seconds - lastDraw >= 0.1 || r.step == total {
                lastDraw = seconds
                FileHandle.standardOutput.write(Data(("\r" + line + "\u{1B}[K").utf8))
                lineOpen = true
            }
        } else if r.step % logEvery == 0 || r.step == total {
            print(line)
        }
    }

    /// Prints a line of its own without clobbering the progress line.
    mutating func note(_ s: String) {
        finishLine()
        print(s)
    }

    mutating func finishLine() {
        if lineOpen { print(""); lineOpen = false }
    }

    func duration(_ s: Double) -> String { formatDuration(s) }
}
