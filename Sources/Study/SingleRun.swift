// One training run outside any sweep (`isoflop train`): a run config, token files checked
// against it, a checkpoint folder and metrics.csv in one output folder, resumable.
import Corpus
import Foundation
import Model
import Sweep
import Tensor
import Tokenizer
import Training

/// What a single run refuses, with the folder or flag it concerns.
public enum SingleRunError: Error, CustomStringConvertible, Equatable {
    /// A fresh start would overwrite another run's checkpoint or metrics.
    case outHoldsRun(out: String, existing: String)
    case noTrainingTokens
    /// Without a run config file, the shape, length and rate must all be given.
    case incompleteShape
    /// A run config file failed its checks.
    case invalidConfig(path: String, reason: String)

    public var description: String {
        switch self {
        case let .outHoldsRun(out, existing):
            return "--out \(out) already holds a run (\(existing)): continue it with --resume, or give another --out"
        case .noTrainingTokens: return "no training tokens: give --tokens or trainTokens in the config"
        case .incompleteShape: return "give a run config, or all of --d, --layers, --steps and --lr"
        case let .invalidConfig(path, reason): return "\(path): \(reason)"
        }
    }
}

/// Reads a run config file, TOML or JSON (by extension), through the sweep's strict
/// decoder: unknown keys, wrong types and out-of-range values are errors naming the file, the
/// key, its line and the value.
public func loadRunConfig(path: String) throws -> TrainConfig {
    let c: TrainConfig
    do { c = try ConfigDecoder.decode(TrainConfig.self, contentsOf: path) } catch TrainingError.unknownKeys(let keys, let place) {
        throw TrainingError.unknownKeys(keys, in: "\(place) of \(path)")
    }
    do { try c.validate() } catch let e as TrainingError { throw SingleRunError.invalidConfig(path: path, reason: "\(e)") }
    return c
}

/// Values of a run config given one by one (`isoflop train`'s flags), each overriding the file's.
public struct TrainOverrides {
    public var d: Int?, layers: Int?, vocab: Int?, context: Int?, steps: Int?, lr: Double?
    public var schedule: ScheduleKind?, batch: Int?, seed: UInt64?
    public var tokens: String?, validationTokens: String?

    public init() {}
}

/// The run config of the file at `path` (nil: one made from `overrides`' d, layers, steps and
/// lr, which must then all be given) with `overrides` applied on top, validated.
public func runConfig(file path: String?, overrides o: TrainOverrides) throws -> TrainConfig {
    var c: TrainConfig
    if let path {
        c = try loadRunConfig(path: path)
    } else {
        guard let d = o.d, let layers = o.layers, let steps = o.steps, let lr = o.lr else { throw SingleRunError.incompleteShape }
        c = TrainConfig(model: GPTConfig(d: d, layers: layers), steps: steps,
                        schedule: LRSchedule(kind: o.schedule ?? .matched, peak: lr, totalSteps: steps))
    }
    if let d = o.d { c.model.d = d }
    if let layers = o.layers { c.model.layers = layers }
    if let vocab = o.vocab { c.model.vocabSize = vocab }
    if let context = o.context { c.model.context = context }
    if let steps = o.steps { c.setSteps(steps) }
    if let lr = o.lr { c.schedule.peak = lr }
    if let schedule = o.schedule { c.schedule.kind = schedule }
    if let batch = o.batch { c.batchSize = batch }
    if let seed = o.seed { c.seed = seed }
    if let tokens = o.tokens { c.trainTokens = tokens }
    if let validationTokens = o.validationTokens { c.validationTokens = validationTokens }
    try c.validate()
    return c
}

/// Where a single run writes and how far it goes.
public struct SingleRunOptions {
    /// The folder of `checkpoint/` and `metrics.csv`.
    public var out: String
    /// Continue from the checkpoint in `out` (its config, not a new one).
    public var resume = false
    /// Token files that override the config's.
    public var tokens: String?
    public var validationTokens: String?
    /// Stop, with a checkpoint, once this many steps are done in all.
    public var stopAfter: Int?
    /// Plain progress lines every this many steps.
    public var logEvery = 50

    public init(out: String) { self.out = out }
}

/// Trains one run: a fresh one from `config()` (refused when `out` already holds a run) or, with
/// `resume`, the one whose checkpoint is in `out`. Prints its header, progress, evaluations and
/// how it ended through `output`; a diverged run throws `TrainingError.diverged`.
public func trainSingleRun(_ options: SingleRunOptions, config: () throws -> TrainConfig, output: RunOutput) throws {
    let out = options.out
    let folder = CheckpointFolder(out + "/checkpoint")
    if options.resume {
        try folder.recover()
    } else {
        // Another run's checkpoint and metrics are never overwritten by a fresh start.
        for existing in [folder.path, out + "/metrics.csv"] where FileManager.default.fileExists(atPath: existing) {
            throw SingleRunError.outHoldsRun(out: out, existing: existing)
        }
    }
    let c = options.resume ? try Checkpoint.config(in: folder.path) : try config()
    let validationPath = options.validationTokens ?? c.validationTokens
    guard let trainPath = options.tokens ?? c.trainTokens else { throw SingleRunError.noTrainingTokens }
    let trainFile = try TokenFile(path: trainPath)
    let validationFile = try validationPath.map { try TokenFile(path: $0) } ?? trainFile
    try trainFile.check(context: c.model.context, vocabSize: c.model.vocabSize)
    try validationFile.check(context: c.model.context, vocabSize: c.model.vocabSize)
    for path in [trainPath, validationPath].compactMap({ $0 }) { try TokenFileInfo.checkCorpus(path) }

    let trainer = try Trainer.open(config: c, resumingFrom: options.resume ? folder : nil, train: trainFile, validation: validationFile)
    if trainer.isFinished {
        output.line("the checkpoint in \(folder.path) already completed its \(c.steps) steps")
        return
    }
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let metrics = try MetricsLog(path: out + "/metrics.csv", keepingThrough: options.resume ? trainer.step : nil)
    output.line(singleRunHeader(c, threads: BLAS.threads, resumingAt: options.resume ? trainer.step : nil))
    var progress = ProgressLine(total: c.steps, tokensPerStep: c.tokensPerStep, flopsPerToken: c.model.trainingFLOPsPerToken,
                                logEvery: options.logEvery, output: output)
    var hooks = RunHooks(evalEvery: c.evalEvery, checkpointEvery: c.checkpointEvery, checkpoints: folder, checkpointAtEnd: true)
    hooks.onStep = { s in
        progress.record(s.result, seconds: s.seconds)
        metrics.step(s.result)
        if let loss = s.evalLoss {
            metrics.eval(step: s.result.step, tokens: s.result.tokens, loss: loss)
            if s.result.step < c.steps { progress.note(String(format: "eval at step %d: %.4f", s.result.step, loss)) }
        }
    }
    let end = try trainer.run(hooks) { options.stopAfter.map { trainer.step >= $0 } ?? false }
    progress.finishLine()
    switch end {
    case .stopped(let step):
        output.line("stopped at step \(step) of \(c.steps); continue with --resume")
    case .diverged(let step, let loss, let reason):
        throw TrainingError.diverged(step: step, loss: loss, reason: reason)
    case .finished(let final):
        output.line(String(format: "done: %d steps, %d tokens, eval loss %.4f; checkpoint in %@",
                           trainer.step, trainer.tokens, final, folder.path))
    }
}

/// The first line of a single run: shape, size, batch, length, schedule and threads.
public func singleRunHeader(_ c: TrainConfig, threads: Int, resumingAt step: Int?) -> String {
    "\(c.model)  N=\(c.model.parameters)  batch \(c.batchSize)×\(c.model.context)  "
        + "\(c.steps) steps  \(c.schedule.kind) lr \(c.schedule.peak)  \(threads) BLAS thread(s)"
        + (step.map { "  resuming at step \($0)" } ?? "")
}
