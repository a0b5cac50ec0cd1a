// The configuration of one training run, decoded strictly from JSON: unknown keys are
// rejected by name so a typo never silently falls back to a default.

import Foundation
import Model
import Tensor

/// Everything that defines one run besides its data. Encoded as JSON beside each checkpoint.
public struct TrainConfig: Codable, Hashable, Sendable {
    public var model: GPTConfig
    /// Sequences per batch; a batch holds `batchSize × model.context` tokens.
    public var batchSize: Int = 32
    /// Optimizer steps in the run.
    public var steps: Int
    /// `schedule.totalSteps` always equals `steps`.
    public var schedule: LRSchedule
    public var weightDecay: Double = AdamW.defaultWeightDecay
    /// Maximum global gradient norm (0 turns clipping off).
    public var gradClip: Double = 1.0
    public var beta1: Double = AdamW.defaultBeta1
    public var beta2: Double = AdamW.defaultBeta2
    public var eps: Double = 1e-8
    /// Seeds both the model's initialisation and the batch sampler.
    public var seed: UInt64 = 0
    /// Evaluate every this many steps (0: only when the caller asks, e.g. at the end).
    public var evalEvery: Int = 0
    /// Held-out batches per evaluation (`evalBatches × batchSize` fixed windows).
    public var evalBatches: Int = 8
    /// Checkpoint every this many steps (0: only when the caller asks).
    public var checkpointEvery: Int = 0
    /// After warmup, a training loss above `divergenceFactor × ln V` counts as diverged
    /// (a model that guesses uniformly scores ln V).
    public var divergenceFactor: Double = 2
    /// Token files (uint16); command-line flags may override them.
    public var trainTokens: String?
    public var validationTokens: String?

    public init(model: GPTConfig, batchSize: Int = 32, steps: Int, schedule: LRSchedule, seed: UInt64 = 0) {
        self.model = model
        self.batchSize = batchSize
        self.steps = steps
        self.schedule = schedule
        self.seed = seed
    }

    /// Tokens consumed by one step.
    public var tokensPerStep: Int { batchSize * model.context }

    /// Changes the run length, keeping the schedule in step: its total follows, and a
    /// warmup that was the default for the old length becomes the default for the new one.
    public mutating func setSteps(_ n: Int) {
        if schedule.warmupSteps == LRSchedule.defaultWarmup(steps: steps) {
            schedule.warmupSteps = LRSchedule.defaultWarmup(steps: n)
        }
        steps = n
        schedule.totalSteps = n
    }

    /// Checks every field; the message names the offending one.
    public func validate() throws {
        do { try model.validate() } catch let e as ModelError { throw TrainingError.invalidConfig("model: \(e)") }
        try schedule.validate()
        func fail(_ s: String) -> TrainingError { .invalidConfig(s) }
        guard batchSize >= 1 else { throw fail("batchSize \(batchSize) must be at least 1") }
        // Token ids are Int32 buffers of batch × context; far beyond any CPU run.
        guard batchSize <= (1 << 28) / model.context else {
            throw fail("batchSize \(batchSize) × context \(model.context) is more than \(1 << 28) tokens per step")
        }
        do { try model.checkMemory(batch: batchSize) } catch let e as ModelError { throw TrainingError.invalidConfig("\(e)") }
        guard steps >= 1 else { throw fail("steps \(steps) must be at least 1") }
        guard schedule.totalSteps == steps else {
            throw fail("schedule.totalSteps \(schedule.totalSteps) differs from steps \(steps)")
        }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw fail("weightDecay \(weightDecay) must be finite and not negative") }
        guard gradClip.isFinite, gradClip >= 0 else { throw fail("gradClip \(gradClip) must be finite and not negative") }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else { throw fail("beta1 \(beta1) and beta2 \(beta2) must be in [0, 1)") }
        guard eps.isFinite, eps > 0 else { throw fail("eps \(eps) must be positive and finite") }
        guard evalEvery >= 0, checkpointEvery >= 0 else { throw fail("evalEvery and checkpointEvery must not be negative") }
        guard evalBatches >= 1 else { throw fail("evalBatches \(evalBatches) must be at least 1") }
        guard evalBatches <= (1 << 24) / batchSize else {
            throw fail("evalBatches \(evalBatches) × batchSize \(batchSize) is more than \(1 << 24) evaluation windows")
        }
        guard divergenceFactor.isFinite, divergenceFactor > 0 else { throw fail("divergenceFactor \(divergenceFactor) must be positive and finite") }
    }

    // MARK: Strict JSON

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, batchSize, steps, schedule, weightDecay, gradClip, beta1, beta2, eps, seed
        case evalEvery, evalBatches, checkpointEvery, divergenceFactor, trainTokens, validationTokens
    }
    private enum ModelKeys: String, CodingKey, CaseIterable { case vocabSize, context, d, layers, headSize }
    private enum ScheduleKeys: String, CodingKey, CaseIterable {
        case kind, peak, warmupSteps, totalSteps, cycleSteps, finalFraction, cooldownFraction, cooldownShape
    }

    /// Required: `model.d`, `model.layers`, `steps`, `schedule.kind`, `schedule.peak`.
    /// Everything else has the defaults above (`schedule.totalSteps` defaults to `steps`,
    /// `schedule.warmupSteps` to max(10, 5% of steps)).
    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(decoder.container(keyedBy: AnyKey.self), CodingKeys.self, in: "the run config")
        let c = try decoder.container(keyedBy: CodingKeys.self)

        try rejectUnknownKeys(c.nestedContainer(keyedBy: AnyKey.self, forKey: .model), ModelKeys.self, in: "'model'")
        let m = try c.nestedContainer(keyedBy: ModelKeys.self, forKey: .model)
        model = GPTConfig(vocabSize: try m.decodeIfPresent(Int.self, forKey: .vocabSize) ?? 2048,
                          context: try m.decodeIfPresent(Int.self, forKey: .context) ?? 128,
                          d: try m.decode(Int.self, forKey: .d),
                          layers: try m.decode(Int.self, forKey: .layers),
                          headSize: try m.decodeIfPresent(Int.self, forKey: .headSize) ?? 32)

        steps = try c.decode(Int.self, forKey: .steps)
        try rejectUnknownKeys(c.nestedContainer(keyedBy: AnyKey.self, forKey: .schedule), ScheduleKeys.self, in: "'schedule'")
        let s = try c.nestedContainer(keyedBy: ScheduleKeys.self, forKey: .schedule)
        let total = try s.decodeIfPresent(Int.self, forKey: .totalSteps) ?? steps
        schedule = LRSchedule(kind: try s.decode(ScheduleKind.self, forKey: .kind),
                              peak: try s.decode(Double.self, forKey: .peak),
                              totalSteps: total,
                              warmupSteps: try s.decodeIfPresent(Int.self, forKey: .warmupSteps),
                              cycleSteps: try s.decodeIfPresent(Int.self, forKey: .cycleSteps),
                              finalFraction: try s.decodeIfPresent(Double.self, forKey: .finalFraction) ?? 0.1,
                              cooldownFraction: try s.decodeIfPresent(Double.self, forKey: .cooldownFraction) ?? 0.2,
                              cooldownShape: try s.decodeIfPresent(CooldownShape.self, forKey: .cooldownShape) ?? .linear)

        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? weightDecay
        gradClip = try c.decodeIfPresent(Double.self, forKey: .gradClip) ?? gradClip
        beta1 = try c.decodeIfPresent(Double.self, forKey: .beta1) ?? beta1
        beta2 = try c.decodeIfPresent(Double.self, forKey: .beta2) ?? beta2
        eps = try c.decodeIfPresent(Double.self, forKey: .eps) ?? eps
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        evalEvery = try c.decodeIfPresent(Int.self, forKey: .evalEvery) ?? evalEvery
        evalBatches = try c.decodeIfPresent(Int.self, forKey: .evalBatches) ?? evalBatches
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? checkpointEvery
        divergenceFactor = try c.decodeIfPresent(Double.self, forKey: .divergenceFactor) ?? divergenceFactor
        trainTokens = try c.decodeIfPresent(String.self, forKey: .trainTokens)
        validationTokens = try c.decodeIfPresent(String.self, forKey: .validationTokens)
    }

    /// Decodes and validates a JSON run config; `source` (a path) goes into error messages.
    /// Decoding failures become `TrainingError.invalidConfig` with the key path.
    public static func decode(json: Data, source: String) throws -> TrainConfig {
        let config: TrainConfig
        do {
            config = try JSONDecoder().decode(TrainConfig.self, from: json)
        } catch let e as TrainingError {
            if case .unknownKeys(let keys, let place) = e { throw TrainingError.unknownKeys(keys, in: "\(place) of \(source)") }
            throw e
        } catch let e as DecodingError {
            throw TrainingError.invalidConfig("\(source): \(describeDecodingError(e))")
        }
        do { try config.validate() } catch TrainingError.invalidConfig(let s) { throw TrainingError.invalidConfig("\(source): \(s)") }
        return config
    }

    /// Reads a JSON run config from a file.
    public static func load(path: String) throws -> TrainConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.invalidConfig("cannot read config file \(path)")
        }
        return try decode(json: data, source: path)
    }

    /// Pretty, key-sorted JSON (as written beside checkpoints).
    public func encodedJSON() throws -> Data { try sortedJSON(self) }
}

/// Any string key, for listing what a JSON object actually holds.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Throws `TrainingError.unknownKeys` naming every key of `container` that `known` lacks.
func rejectUnknownKeys<K: CodingKey & CaseIterable>(_ container: KeyedDecodingContainer<AnyKey>,
                                                    _ known: K.Type, in place: String) throws {
    let names = Set(K.allCases.map(\.stringValue))
    let unknown = container.allKeys.map(\.stringValue).filter { !names.contains($0) }.sorted()
    if !unknown.isEmpty { throw TrainingError.unknownKeys(unknown, in: place) }
}
