// The training loop of one run: batches, forward/backward, clipping, AdamW, schedule,
// divergence checks, evaluation, and checkpoints that resume bit-exactly.

import Foundation
import Model
import Tensor
import Tokenizer

/// What one optimizer step did.
public struct StepResult: Hashable, Sendable {
    /// Steps completed, this one included.
    public var step: Int
    /// Mean training cross-entropy of the batch, before the update (nats).
    public var loss: Double
    /// Learning rate used by the update.
    public var lr: Double
    /// Global gradient norm before clipping.
    public var gradNorm: Double
    /// Training tokens consumed so far, this step included.
    public var tokens: Int

    public init(step: Int, loss: Double, lr: Double, gradNorm: Double, tokens: Int) {
        (self.step, self.loss, self.lr, self.gradNorm, self.tokens) = (step, loss, lr, gradNorm, tokens)
    }
}

/// Drives one model through one run. The per-step path (`trainStep`) does not allocate: the
/// batch buffers and optimizer moments are made once in `init`. `run` (RunLoop.swift) is the
/// training loop.
public final class Trainer: TrainingRun {
    public let config: TrainConfig
    public let model: LanguageModel
    public let train: TokenFile
    public let validation: TokenFile
    public let optimizer: AdamW
    /// Steps completed.
    public private(set) var step = 0
    /// Training tokens consumed.
    public private(set) var tokens = 0
    /// The batch sampler; its generator state is saved with checkpoints.
    public private(set) var sampler: BatchSampler
    public let evaluationSample: EvaluationSample

    private let inputs: UnsafeMutablePointer<Int32>
    private let targets: UnsafeMutablePointer<Int32>

    /// Checks the model, the data and the config agree, then prepares the buffers.
    public init(config: TrainConfig, model: LanguageModel, train: TokenFile, validation: TokenFile) throws {
        try config.validate()
        guard model.config == config.model else {
            throw TrainingError.modelMismatch("model is \(model.config), config says \(config.model)")
        }
        guard model.batchSize == config.batchSize else {
            throw TrainingError.modelMismatch("model batch \(model.batchSize), config batchSize \(config.batchSize)")
        }
        let covered = model.parameterTable.reduce(0) { $0 + $1.count }
        guard covered == model.parameterCount else {
            throw TrainingError.modelMismatch("parameter table covers \(covered) floats of \(model.parameterCount)")
        }
        try train.check(context: config.model.context, vocabSize: config.model.vocabSize)
        try validation.check(context: config.model.context, vocabSize: config.model.vocabSize)
        self.config = config
        self.model = model
        self.train = train
        self.validation = validation
        optimizer = AdamW(table: model.parameterTable, count: model.parameterCount,
                          beta1: Float(config.beta1), beta2: Float(config.beta2),
                          eps: Float(config.eps), weightDecay: Float(config.weightDecay))
        // A stream apart from the one the model's initialisation draws from the same seed.
        sampler = BatchSampler(seed: config.seed ^ 0xDA7A_5EED_0000_0001)
        evaluationSample = EvaluationSample(file: validation, context: config.model.context,
                                            windows: config.evalBatches * config.batchSize)
        let n = config.batchSize * config.model.context
        inputs = .allocate(capacity: n)
        targets = .allocate(capacity: n)
        inputs.initialize(repeating: 0, count: n)
        targets.initialize(repeating: 0, count: n)
    }

    deinit {
        inputs.deallocate()
        targets.deallocate()
    }

    public var totalSteps: Int { config.steps }

    /// One optimizer step on a fresh random batch. Throws `TrainingError.diverged` (without
    /// updating the parameters) when the loss or gradient is not finite, or when, after
    /// warmup, the loss exceeds `divergenceFactor × ln V`.
    public func trainStep() throws -> StepResult {
        guard !isFinished else { throw TrainingError.invalidConfig("the run already completed its \(config.steps) steps") }
        let T = config.model.context, B = config.batchSize
        sampler.fill(from: train, batch: B, context: T, inputs: inputs, targets: targets)
        let loss = Double(model.forwardBackward(inputs: inputs, targets: targets))
        let norm = AdamW.globalNorm(model.gradients, count: model.parameterCount)
        let stepNumber = step + 1
        guard loss.isFinite else { throw TrainingError.diverged(step: stepNumber, loss: loss, reason: "loss is not finite") }
        guard norm.isFinite else { throw TrainingError.diverged(step: stepNumber, loss: loss, reason: "gradient norm is not finite") }
        let limit = config.divergenceFactor * log(Double(config.model.vocabSize))
        if step >= config.schedule.warmupSteps, loss > limit {
            throw TrainingError.diverged(step: stepNumber, loss: loss,
                                         reason: "above \(config.divergenceFactor) × ln V = \(limit) after warmup")
        }
        let lr = config.schedule.lr(at: step)
        optimizer.step(parameters: model.parameters, gradients: model.gradients, lr: lr,
                       gradScale: AdamW.clipScale(norm: norm, maxNorm: config.gradClip))
        step = stepNumber
        tokens += B * T
        return StepResult(step: step, loss: loss, lr: lr, gradNorm: norm, tokens: tokens)
    }

    /// Mean cross-entropy (nats) over the fixed held-out windows; gradients untouched.
    public func evaluate() -> Double {
        let T = config.model.context, B = config.batchSize
        var sum = 0.0
        for b in 0..<config.evalBatches {
            evaluationSample.fill(batch: b, from: validation, batch: B, context: T, inputs: inputs, targets: targets)
            sum += Double(model.loss(inputs: inputs, targets: targets))
        }
        return sum / Double(config.evalBatches)
    }

    // MARK: Checkpoints

    /// Counters and generator state that, with the parameters and moments, make a resume exact.
    struct State: Codable {
        var format = 1
        var step: Int
        var tokens: Int
        var optimizerStep: Int
        var sampler: RNG
    }

    /// Writes `model.safetensors` (parameters by name), `optimizer.safetensors` (`m.<name>`,
    /// `v.<name>`), `config.json` and `state.json` into `dir`, each atomically; `state.json`
    /// goes last, so a checkpoint without it is incomplete.
    public func saveCheckpoint(to dir: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.checkpoint(path: dir, reason: "cannot create the directory: \(error.localizedDescription)")
        }
        let table = model.parameterTable
        func moments(_ base: UnsafeMutablePointer<Float>, prefix: String) -> [NamedTensor] {
            table.map { NamedTensor(name: prefix + $0.name, shape: $0.shape,
                                    values: Array(UnsafeBufferPointer(start: base + $0.offset, count: $0.count))) }
        }
        try Safetensors.write(parameters: model.parameters, table: table, to: dir + "/model.safetensors")
        try Safetensors.write(tensors: moments(optimizer.m, prefix: "m.") + moments(optimizer.v, prefix: "v."),
                              to: dir + "/optimizer.safetensors")
        try Safetensors.writeAtomically(config.encodedJSON(), to: dir + "/config.json")
        let state = State(step: step, tokens: tokens, optimizerStep: optimizer.t, sampler: sampler.rng)
        try Safetensors.writeAtomically(JSONEncoder().encode(state), to: dir + "/state.json")
    }

    /// Rebuilds a trainer from a checkpoint written by `saveCheckpoint`: the config comes from
    /// `config.json`, and `model` (built by the caller to that config) receives the saved
    /// parameters. Training then continues exactly where it stopped.
    public static func resume(from dir: String, model: LanguageModel, train: TokenFile,
                              validation: TokenFile) throws -> Trainer {
        try resume(from: dir, config: Checkpoint.config(in: dir), model: model, train: train, validation: validation)
    }

    /// `resume(from:)` under `config` instead of the checkpoint's own (a branch continuing its
    /// trunk's checkpoint under its own length and schedule; `open` checks they agree).
    static func resume(from dir: String, config: TrainConfig, model: LanguageModel, train: TokenFile,
                       validation: TokenFile) throws -> Trainer {
        let trainer = try Trainer(config: config, model: model, train: train, validation: validation)
        try Checkpoint.loadParameters(from: dir, into: model)
        let momentsPath = dir + "/optimizer.safetensors"
        let moments = try Safetensors.read(from: momentsPath).tensors
        for (prefix, buffer) in [("m.", trainer.optimizer.m), ("v.", trainer.optimizer.v)] {
            let table = model.parameterTable.map { p -> ParameterInfo in
                var q = p
                q.name = prefix + p.name
                return q
            }
            try Safetensors.load(moments, into: buffer, table: table, source: momentsPath)
        }
        let statePath = dir + "/state.json"
        guard let data = FileManager.default.contents(atPath: statePath) else {
            throw TrainingError.checkpoint(path: statePath, reason: "missing (the checkpoint is incomplete)")
        }
        let state: State
        do { state = try JSONDecoder().decode(State.self, from: data) } catch let e as DecodingError {
            throw TrainingError.checkpoint(path: statePath, reason: describeDecodingError(e))
        } catch {
            throw TrainingError.checkpoint(path: statePath, reason: "not valid JSON")
        }
        // Every field is checked: a hand-edited or damaged state must not train on (a negative
        // step would mean a negative learning rate, a zero generator state a constant batch).
        guard state.format == 1 else {
            throw TrainingError.checkpoint(path: statePath, reason: "format \(state.format) is not 1")
        }
        guard state.step >= 0, state.step <= config.steps else {
            throw TrainingError.checkpoint(path: statePath, reason: "step \(state.step) is outside the run's 0...\(config.steps)")
        }
        let expected = state.step.multipliedReportingOverflow(by: config.tokensPerStep)
        guard !expected.overflow, state.tokens == expected.partialValue else {
            throw TrainingError.checkpoint(path: statePath, reason: "tokens \(state.tokens) is not step \(state.step) × \(config.tokensPerStep) tokens per step")
        }
        guard state.optimizerStep == state.step else {
            throw TrainingError.checkpoint(path: statePath, reason: "optimizerStep \(state.optimizerStep) differs from step \(state.step)")
        }
        guard state.sampler.state.contains(where: { $0 != 0 }) else {
            throw TrainingError.checkpoint(path: statePath, reason: "the sampler's generator state is all zeros")
        }
        trainer.step = state.step
        trainer.tokens = state.tokens
        trainer.optimizer.t = state.optimizerStep
        trainer.sampler.rng = state.sampler
        return trainer
    }
}

extension Trainer {
    /// A trainer for `config` with a freshly built gpt-mini model, continuing from the
    /// checkpoint in `folder` when it holds one. A checkpoint written under another config is
    /// refused, never continued (two stores sharing one checkpoint folder would otherwise
    /// resume each other's runs).
    ///
    /// `branchingFrom`: where the run starts when its own folder holds no checkpoint yet, a
    /// checkpoint of a run that trained the same way up to that point (a wsd trunk at this
    /// branch's cooldown start). Its config must differ from `config` only in the length and
    /// the schedule, with the same rate at every step it has taken; anything else is refused.
    public static func open(config: TrainConfig, resumingFrom folder: CheckpointFolder?,
                            branchingFrom start: CheckpointFolder? = nil,
                            train: TokenFile, validation: TokenFile) throws -> Trainer {
        let model = try GPT(config: config.model, batchSize: config.batchSize, seed: config.seed)
        guard let folder else { return try Trainer(config: config, model: model, train: train, validation: validation) }
        try folder.recover()
        if !folder.hasCheckpoint, let start {
            try start.recover()
            guard start.hasCheckpoint else {
                throw TrainingError.checkpoint(path: start.path, reason: "the branch's starting checkpoint is not written yet")
            }
            try checkBranch(config, from: start.path)
            return try resume(from: start.path, config: config, model: model, train: train, validation: validation)
        }
        guard folder.hasCheckpoint else { return try Trainer(config: config, model: model, train: train, validation: validation) }
        guard try Checkpoint.config(in: folder.path) == config else {
            throw TrainingError.checkpoint(path: folder.path, reason: "belongs to another run (it was written under another training config): "
                + "do two stores share this checkpoint folder? Give each its own folder, or remove the checkpoint")
        }
        return try resume(from: folder.path, model: model, train: train, validation: validation)
    }
}

extension Trainer {
    /// Refuses to start `config` from the checkpoint in `dir` unless the checkpoint's run is
    /// this run but for its length and schedule, and both schedules gave the same rate at every
    /// step the checkpoint has taken: then training on from it is training this run itself.
    static func checkBranch(_ config: TrainConfig, from dir: String) throws {
        let trunk = try Checkpoint.config(in: dir)
        var same = trunk
        same.steps = config.steps
        same.schedule = config.schedule
        guard same == config else {
            throw TrainingError.checkpoint(path: dir, reason: "belongs to another run (its training config differs in more than the length and schedule)")
        }
        let stepPath = dir + "/state.json"
        guard let data = FileManager.default.contents(atPath: stepPath),
              let state = try? JSONDecoder().decode(State.self, from: data) else {
            throw TrainingError.checkpoint(path: stepPath, reason: "missing or not valid JSON")
        }
        guard state.step <= config.steps else {
            throw TrainingError.checkpoint(path: dir, reason: "is at step \(state.step), past this run's \(config.steps) steps")
        }
        if let s = (0..<state.step).first(where: { trunk.schedule.lr(at: $0) != config.schedule.lr(at: $0) }) {
            throw TrainingError.checkpoint(path: dir, reason: "was trained at another learning rate at step \(s + 1) (\(trunk.schedule.lr(at: s)), not \(config.schedule.lr(at: s)))")
        }
    }
}

/// Reading the parts of a checkpoint directory that other tools need (e.g. sampling).
public enum Checkpoint {
    /// The run config saved beside the weights.
    public static func config(in dir: String) throws -> TrainConfig {
        var isFolder: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: dir, isDirectory: &isFolder)
        guard exists, isFolder.boolValue else {
            throw TrainingError.checkpoint(path: dir, reason: exists ? "not a folder" : "no such checkpoint folder")
        }
        let path = dir + "/config.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.checkpoint(path: path, reason: "missing")
        }
        return try TrainConfig.decode(json: data, source: path)
    }

    /// Copies every tensor of `model.safetensors` into the model's flat buffer, checking
    /// names and shapes against its parameter table.
    public static func loadParameters(from dir: String, into model: LanguageModel) throws {
        let path = dir + "/model.safetensors"
        try Safetensors.load(Safetensors.read(from: path).tensors, into: model.parameters,
                             table: model.parameterTable, source: path)
    }
}
