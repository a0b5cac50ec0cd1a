// The sweep config (configs/*.toml): data, budgets, model family, schedules, learning-rate
// rule and cadences. Keys are snake_case in the file; every key is documented in configs/.
import Foundation
import Model
import Tensor
import Training

/// One model shape as written in a config: `{ d = 48, L = 1, head = 48 }`.
public struct ShapeSpec: Codable, Hashable, Sendable {
    public var d: Int
    /// Number of blocks; when absent the family's depth rule picks it.
    public var L: Int?
    /// Head size; 32 when absent.
    public var head: Int?

    public init(d: Int, L: Int? = nil, head: Int? = nil) {
        self.d = d
        self.L = L
        self.head = head
    }
}

/// The gpt-mini family the planner chooses from.
public struct FamilyConfig: Codable, Hashable, Sendable {
    /// Widths (multiples of 32) whose depth comes from the rule L = ceil(d / depth_step).
    public var widths: [Int] = []
    /// Width per block in the depth rule: d = 32, 64 → L = 1; 96, 128 → 2; 160, 192 → 3 at 64.
    public var depthStep: Int = 64
    /// Extra shapes with an explicit depth or head size (e.g. one head of 16 or of 48).
    public var shapes: [ShapeSpec] = []

    enum CodingKeys: String, CodingKey {
        case widths, depthStep = "depth_step", shapes
    }

    public init(widths: [Int] = [], depthStep: Int = 64, shapes: [ShapeSpec] = []) {
        self.widths = widths
        self.depthStep = depthStep
        self.shapes = shapes
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        widths = try c.decodeIfPresent([Int].self, forKey: .widths) ?? []
        depthStep = try c.decodeIfPresent(Int.self, forKey: .depthStep) ?? 64
        shapes = try c.decodeIfPresent([ShapeSpec].self, forKey: .shapes) ?? []
    }

    /// The depth rule: L = ceil(d / depthStep), at least 1.
    public func depth(forWidth d: Int) -> Int { max(1, (d + depthStep - 1) / depthStep) }
}

/// How each budget's sizes are chosen: the `sizes` family members nearest (in ln N) to the
/// predicted optimum N_opt = coefficient × C^exponent, within a factor `width` either side.
public struct GridConfig: Codable, Hashable, Sendable {
    /// Shapes per budget; `perBudget`, where given, overrides it budget by budget.
    public var sizes: Int = 7
    /// `sizes = [9, 9, 6]`: one count per budget, in the order of the config's `budgets` (fewer
    /// shapes where the runs are longest, nearest the optimum). Nil: `sizes` for every budget.
    public var perBudget: [Int]? = nil
    public var width: Double = 4
    public var coefficient: Double = 2.2e-3
    public var exponent: Double = 0.62
    /// With several `seeds`: only the this-many shapes of each budget nearest its predicted
    /// optimum get every seed, the others the first one; 0 = every shape gets every seed.
    public var seedsNearOptimum: Int = 0
    /// Budgets planned smallest first, each centred on the optimum predicted from those finished,
    /// with extra shapes where a vertex falls near an edge (`AdaptivePlan`); the fixed schedule
    /// keeps this grid.
    public var adaptive: Bool = false

    enum CodingKeys: String, CodingKey {
        case sizes, width, coefficient, exponent, seedsNearOptimum = "seeds_near_optimum", adaptive
    }

    public init(sizes: Int = 7, width: Double = 4, coefficient: Double = 2.2e-3, exponent: Double = 0.62) {
        self.sizes = sizes
        self.width = width
        self.coefficient = coefficient
        self.exponent = exponent
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        do {
            sizes = try c.decodeIfPresent(Int.self, forKey: .sizes) ?? 7
        } catch {
            // Not one number: one per budget (an error here names the bad element).
            let list = try c.decode([Int].self, forKey: .sizes)
            perBudget = list
            sizes = list.max() ?? 7
        }
        width = try c.decodeIfPresent(Double.self, forKey: .width) ?? 4
        coefficient = try c.decodeIfPresent(Double.self, forKey: .coefficient) ?? 2.2e-3
        exponent = try c.decodeIfPresent(Double.self, forKey: .exponent) ?? 0.62
        seedsNearOptimum = try c.decodeIfPresent(Int.self, forKey: .seedsNearOptimum) ?? 0
        adaptive = try c.decodeIfPresent(Bool.self, forKey: .adaptive) ?? false
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if let perBudget { try c.encode(perBudget, forKey: .sizes) } else { try c.encode(sizes, forKey: .sizes) }
        try c.encode(width, forKey: .width)
        try c.encode(coefficient, forKey: .coefficient)
        try c.encode(exponent, forKey: .exponent)
        try c.encode(seedsNearOptimum, forKey: .seedsNearOptimum)
        try c.encode(adaptive, forKey: .adaptive)
    }

    public func predictedOptimum(budget: Double) -> Double { coefficient * pow(budget, exponent) }
}

/// An explicit list of shapes for one budget, overriding the automatic grid.
public struct BudgetGrid: Codable, Hashable, Sendable {
    public var flops: Double
    public var shapes: [ShapeSpec]

    public init(flops: Double, shapes: [ShapeSpec]) {
        self.flops = flops
        self.shapes = shapes
    }
}

/// Peak LR (fitted to a PyTorch LR sweep of the same family): ln lr = intercept + width·ln(d/128) + steps·ln(steps/300)
/// + batch8·log_4(32/batch), clipped to [min, max]. The batch term is the measured batch-8
/// shift, interpolated in log batch: full at batch 8, zero at batch 32.
public struct LRRule: Codable, Hashable, Sendable {
    public var intercept: Double = -5.944
    public var width: Double = -0.425
    public var steps: Double = 0.408
    public var batch8: Double = -0.402
    public var min: Double = 3e-4
    public var max: Double = 1.6e-2

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let base = LRRule.init()
        intercept = try c.decodeIfPresent(Double.self, forKey: .intercept) ?? base.intercept
        width = try c.decodeIfPresent(Double.self, forKey: .width) ?? base.width
        steps = try c.decodeIfPresent(Double.self, forKey: .steps) ?? base.steps
        batch8 = try c.decodeIfPresent(Double.self, forKey: .batch8) ?? base.batch8
        min = try c.decodeIfPresent(Double.self, forKey: .min) ?? base.min
        max = try c.decodeIfPresent(Double.self, forKey: .max) ?? base.max
    }

    public func peak(d: Int, steps runSteps: Int, batch: Int) -> Double {
        Swift.min(max, Swift.max(min, exp(lnPeak(d: d, steps: runSteps, batch: batch))))
    }

    /// ln of the rule's peak before clipping to [min, max].
    public func lnPeak(d: Int, steps runSteps: Int, batch: Int) -> Double {
        intercept + width * log(Double(d) / 128) + steps * log(Double(Swift.max(runSteps, 1)) / 300) + batchTerm(batch: batch)
    }

    /// batch8·log_4(32/batch): the batch's share of ln lr.
    public func batchTerm(batch: Int) -> Double { batch8 * log(32 / Double(batch)) / log(4) }
}

/// Whose warmup a run of the `fixed` schedule takes (`fixed_warmup`).
public enum FixedWarmup: String, Codable, CaseIterable, Sendable {
    case shape, run
}

/// A whole sweep, as read from configs/*.toml.
public struct SweepConfig: Codable, Hashable, Sendable {
    public var name: String
    /// Corpus name (e.g. "pydocs"); informational, recorded with every run.
    public var corpus: String
    /// Token files (uint16) for training and evaluation, and the tokenizer they were made with.
    public var trainTokens: String
    public var evalTokens: String
    public var tokenizer: String
    public var vocab: Int
    /// Unique training tokens, for the epochs column; 0 = unknown.
    public var uniqueTokens: Int = 0
    public var budgets: [Double]
    public var family: FamilyConfig
    public var grid: GridConfig = GridConfig()
    public var budgetGrids: [BudgetGrid] = []
    public var batch: Int
    public var context: Int = 128
    public var schedules: [ScheduleKind] = [.matched]
    /// Cycle of the `fixed` schedule in steps; 0 = the longest run's steps.
    public var fixedCycle: Int = 0
    /// Fraction of steps spent in the cooldown of `wsd`.
    public var cooldownFraction: Double = 0.2
    /// The form of wsd's cooldown.
    public var cooldownShape: CooldownShape = .linear
    /// Train a shape's wsd runs as one trunk with a branch per length (`Planner.branchRuns`).
    /// On by default: every branch trains exactly as its run would alone, for the FLOPs of the
    /// longest run plus the others' cooldowns.
    public var shareWSD = true
    /// The wsd runs' constant rate, by its own rule; nil: `lrWSDMultiplier` × the `lr` rule.
    public var lrWSD: LRRule?
    /// The wsd peak as a share of the cosine's: Hägele et al. 2024 find the best constant rate
    /// near half the cosine's best peak. Not yet measured on our grid.
    public var lrWSDMultiplier = 0.5
    public var lr: LRRule = LRRule()
    public var warmupMin: Int = 10
    public var warmupFraction: Double = 0.05
    public var evalEvery: Int = 100
    public var evalBatches: Int = 8
    public var checkpointEvery: Int = 500
    public var seed: Int = 1
    public var workers: Int = 2
    /// Throughput model for time estimates (seconds per token = flops/token / flops_per_second
    /// + overhead_per_token), per worker. Without flops_per_second the plan measures each shape's
    /// rate on this machine instead (`Calibration`); with it, that rate is used as given.
    public var flopsPerSecond: Double?
    public var overheadPerToken: Double = 2e-6
    // Several seeds per shape (SweepConfig+Seeds.swift): nil = the one `seed`.
    public var seeds: [Int]?

    // The knobs that tell Kaplan et al.'s setup from Chinchilla's (`isoflop ladder`). Their
    // defaults plan exactly the runs planned before the knobs existed.
    /// How compute is counted: it sizes each run for its budget and is the C the fits see.
    public var flopCount: FLOPCount = .appendixF
    /// Which N the fits take.
    public var params: ParameterConvention = .total
    /// One warmup length in steps for every run (Kaplan-style), replacing warmup_fraction and
    /// warmup_min; a run shorter than it warms up for all its steps.
    public var warmupSteps: Int?
    /// AdamW's moment decays and decoupled weight decay.
    public var beta1: Double = AdamW.defaultBeta1
    public var beta2: Double = AdamW.defaultBeta2
    public var weightDecay: Double = AdamW.defaultWeightDecay
    /// The floor the cosine (and wsd's cooldown) decays to, as a fraction of the peak LR.
    public var lrFloor: Double = 0.1
    /// Whose warmup a `fixed` run takes: its shape's, shared by all the shape's fixed runs (so
    /// that each is trained as the first steps of the longest), or its own.
    public var fixedWarmup: FixedWarmup = .shape

    enum CodingKeys: String, CodingKey {
        case name, corpus, trainTokens = "train_tokens", evalTokens = "eval_tokens", tokenizer, vocab
        case uniqueTokens = "unique_tokens", budgets, family, grid, budgetGrids = "budget_grid", batch, context
        case schedules, fixedCycle = "fixed_cycle", cooldownFraction = "cooldown_fraction", lr
        case cooldownShape = "cooldown_shape", shareWSD = "share_wsd", lrWSD = "lr_wsd", lrWSDMultiplier = "lr_wsd_multiplier"
        case warmupMin = "warmup_min", warmupFraction = "warmup_fraction", evalEvery = "eval_every"
        case evalBatches = "eval_batches", checkpointEvery = "checkpoint_every", seed, workers
        case flopsPerSecond = "flops_per_second", overheadPerToken = "overhead_per_token"
        case flopCount = "flop_count", params, warmupSteps = "warmup_steps", beta1, beta2
        case weightDecay = "weight_decay", lrFloor = "lr_floor", fixedWarmup = "fixed_warmup"
        case seeds
    }

    public init(name: String, corpus: String, trainTokens: String, evalTokens: String, tokenizer: String,
                vocab: Int, budgets: [Double], family: FamilyConfig, batch: Int) {
        self.name = name
        self.corpus = corpus
        self.trainTokens = trainTokens
        self.evalTokens = evalTokens
        self.tokenizer = tokenizer
        self.vocab = vocab
        self.budgets = budgets
        self.family = family
        self.batch = batch
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        corpus = try c.decode(String.self, forKey: .corpus)
        trainTokens = try c.decode(String.self, forKey: .trainTokens)
        evalTokens = try c.decode(String.self, forKey: .evalTokens)
        tokenizer = try c.decode(String.self, forKey: .tokenizer)
        vocab = try c.decode(Int.self, forKey: .vocab)
        budgets = try c.decode([Double].self, forKey: .budgets)
        family = try c.decode(FamilyConfig.self, forKey: .family)
        batch = try c.decode(Int.self, forKey: .batch)
        uniqueTokens = try c.decodeIfPresent(Int.self, forKey: .uniqueTokens) ?? uniqueTokens
        grid = try c.decodeIfPresent(GridConfig.self, forKey: .grid) ?? grid
        budgetGrids = try c.decodeIfPresent([BudgetGrid].self, forKey: .budgetGrids) ?? []
        context = try c.decodeIfPresent(Int.self, forKey: .context) ?? context
        schedules = try c.decodeIfPresent([ScheduleKind].self, forKey: .schedules) ?? schedules
        fixedCycle = try c.decodeIfPresent(Int.self, forKey: .fixedCycle) ?? fixedCycle
        cooldownFraction = try c.decodeIfPresent(Double.self, forKey: .cooldownFraction) ?? cooldownFraction
        lr = try c.decodeIfPresent(LRRule.self, forKey: .lr) ?? lr
        cooldownShape = try c.decodeIfPresent(CooldownShape.self, forKey: .cooldownShape) ?? cooldownShape
        shareWSD = try c.decodeIfPresent(Bool.self, forKey: .shareWSD) ?? shareWSD
        lrWSD = try c.decodeIfPresent(LRRule.self, forKey: .lrWSD)
        lrWSDMultiplier = try c.decodeIfPresent(Double.self, forKey: .lrWSDMultiplier) ?? lrWSDMultiplier
        warmupMin = try c.decodeIfPresent(Int.self, forKey: .warmupMin) ?? warmupMin
        warmupFraction = try c.decodeIfPresent(Double.self, forKey: .warmupFraction) ?? warmupFraction
        evalEvery = try c.decodeIfPresent(Int.self, forKey: .evalEvery) ?? evalEvery
        evalBatches = try c.decodeIfPresent(Int.self, forKey: .evalBatches) ?? evalBatches
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? checkpointEvery
        seed = try c.decodeIfPresent(Int.self, forKey: .seed) ?? seed
        workers = try c.decodeIfPresent(Int.self, forKey: .workers) ?? workers
        flopsPerSecond = try c.decodeIfPresent(Double.self, forKey: .flopsPerSecond)
        overheadPerToken = try c.decodeIfPresent(Double.self, forKey: .overheadPerToken) ?? overheadPerToken
        flopCount = try c.decodeIfPresent(FLOPCount.self, forKey: .flopCount) ?? flopCount
        params = try c.decodeIfPresent(ParameterConvention.self, forKey: .params) ?? params
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps)
        beta1 = try c.decodeIfPresent(Double.self, forKey: .beta1) ?? beta1
        beta2 = try c.decodeIfPresent(Double.self, forKey: .beta2) ?? beta2
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? weightDecay
        lrFloor = try c.decodeIfPresent(Double.self, forKey: .lrFloor) ?? lrFloor
        fixedWarmup = try c.decodeIfPresent(FixedWarmup.self, forKey: .fixedWarmup) ?? fixedWarmup
        try decodeSeeds(c)
    }

    /// Reads and strictly decodes a sweep config file (TOML, or JSON by extension), then
    /// checks every value (`validate`).
    public static func load(path: String) throws -> SweepConfig {
        let config = try ConfigDecoder.decode(SweepConfig.self, contentsOf: path)
        try config.validate(file: path)
        return config
    }

    /// Checks that a sweep name is safe as a folder name and in job scripts: letters, digits
    /// and `. _ -`, not starting with a dot (so never `.`, `..` or a hidden folder), at most
    /// 100 characters.
    public static func checkName(_ name: String) throws {
        let safe = !name.isEmpty && name.count <= 100 && !name.hasPrefix(".")
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        guard safe else {
            throw ConfigError.badValue(file: "sweep config", key: "name",
                                       message: "\(String(reflecting: name)) must be 1-100 letters, digits, '.', '_' or '-', not starting with '.'")
        }
    }

    /// Checks every value against its range before anything is planned or written; the error
    /// names `file`, the key and the value.
    public func validate(file: String) throws {
        func bad(_ key: String, _ message: String) -> ConfigError { .badValue(file: file, key: key, message: message) }
        do { try Self.checkName(name) } catch ConfigError.badValue(_, let key, let message) { throw bad(key, message) }
        for (key, path) in [("train_tokens", trainTokens), ("eval_tokens", evalTokens), ("tokenizer", tokenizer)]
        where path.isEmpty || path.contains("\0") {
            throw bad(key, "must name a file")
        }
        guard (2...65_536).contains(vocab) else { throw bad("vocab", "\(vocab) must be in 2...65536 (tokens are uint16)") }
        guard uniqueTokens >= 0 else { throw bad("unique_tokens", "\(uniqueTokens) must not be negative") }
        guard !budgets.isEmpty || !budgetGrids.isEmpty else { throw bad("budgets", "is empty: give at least one budget") }
        // Every budget is several runs; past this no plan could finish, and checking each one
        // would only delay saying so.
        guard budgets.count <= Self.maxBudgets else {
            throw bad("budgets", "lists \(budgets.count) budgets; a sweep takes at most \(Self.maxBudgets)")
        }
        for (i, c) in budgets.enumerated() where !(c.isFinite && c > 0) {
            throw bad("budgets[\(i)]", "\(c) must be a positive number of FLOPs")
        }
        if let repeats = Self.repeatedBudgets(budgets) { throw bad("budgets", repeats) }
        for (i, w) in family.widths.enumerated() where w < 1 { throw bad("family.widths[\(i)]", "\(w) must be positive") }
        guard family.depthStep >= 1 else { throw bad("family.depth_step", "\(family.depthStep) must be at least 1") }
        guard grid.sizes >= 1 else { throw bad("grid.sizes", "\(grid.sizes) must be at least 1") }
        if let per = grid.perBudget {
            guard per.count == budgets.count else {
                throw bad("grid.sizes", "has \(per.count) counts for \(budgets.count) budgets: give one per budget, or one number")
            }
            for (i, n) in per.enumerated() where n < 1 { throw bad("grid.sizes[\(i)]", "\(n) must be at least 1") }
        }
        guard grid.width.isFinite, grid.width >= 1 else { throw bad("grid.width", "\(grid.width) must be a finite factor ≥ 1") }
        guard grid.coefficient.isFinite, grid.coefficient > 0 else {
            throw bad("grid.coefficient", "\(grid.coefficient) must be positive and finite")
        }
        guard grid.exponent.isFinite else { throw bad("grid.exponent", "\(grid.exponent) must be finite") }
        for (i, g) in budgetGrids.enumerated() {
            guard g.flops.isFinite, g.flops > 0 else { throw bad("budget_grid[\(i)].flops", "\(g.flops) must be a positive number of FLOPs") }
            guard !g.shapes.isEmpty else { throw bad("budget_grid[\(i)].shapes", "is empty") }
        }
        guard context >= 1, context <= GPTConfig.maxContext else { throw bad("context", "\(context) must be in 1...\(GPTConfig.maxContext)") }
        guard batch >= 1, batch <= (1 << 28) / context else {
            throw bad("batch", "\(batch) must be in 1...\((1 << 28) / context) (at most \(1 << 28) tokens per step)")
        }
        guard !schedules.isEmpty else { throw bad("schedules", "is empty: give at least one schedule") }
        guard Set(schedules).count == schedules.count else { throw bad("schedules", "\(schedules.map(\.rawValue)) names a schedule twice") }
        guard fixedCycle >= 0 else { throw bad("fixed_cycle", "\(fixedCycle) must not be negative (0: the longest run's steps)") }
        guard evalEvery <= Int(Int32.max), checkpointEvery <= Int(Int32.max), fixedCycle <= Int(Int32.max) else {
            throw bad("eval_every", "eval_every, checkpoint_every and fixed_cycle must be below 2^31")
        }
        guard (0...1).contains(cooldownFraction) else { throw bad("cooldown_fraction", "\(cooldownFraction) must be in 0...1") }
        for (table, rule) in [("lr", lr)] + (lrWSD.map { [("lr_wsd", $0)] } ?? []) {
            for (key, v) in [("intercept", rule.intercept), ("width", rule.width), ("steps", rule.steps), ("batch8", rule.batch8)] where !v.isFinite {
                throw bad("\(table).\(key)", "\(v) must be finite")
            }
            guard rule.min.isFinite, rule.max.isFinite, rule.min > 0, rule.min <= rule.max else {
                throw bad("\(table).min", "\(rule.min) and \(table).max \(rule.max) must be positive and finite with min ≤ max")
            }
        }
        guard lrWSDMultiplier.isFinite, lrWSDMultiplier > 0 else {
            throw bad("lr_wsd_multiplier", "\(lrWSDMultiplier) must be positive and finite")
        }
        if lrWSD != nil, lrWSDMultiplier != 0.5 {
            throw bad("lr_wsd_multiplier", "\(lrWSDMultiplier) would be ignored beside [lr_wsd]: give one of them")
        }
        guard warmupMin >= 0 else { throw bad("warmup_min", "\(warmupMin) must not be negative") }
        guard (0...1).contains(warmupFraction) else { throw bad("warmup_fraction", "\(warmupFraction) must be in 0...1") }
        guard evalEvery >= 0 else { throw bad("eval_every", "\(evalEvery) must not be negative") }
        guard evalBatches >= 1 else { throw bad("eval_batches", "\(evalBatches) must be at least 1") }
        guard checkpointEvery >= 0 else { throw bad("checkpoint_every", "\(checkpointEvery) must not be negative") }
        guard seed >= 0 else { throw bad("seed", "\(seed) must not be negative") }
        guard workers >= 1, workers <= 100_000 else { throw bad("workers", "\(workers) must be in 1...100000") }
        if let flopsPerSecond, !(flopsPerSecond.isFinite && flopsPerSecond > 0) {
            throw bad("flops_per_second", "\(flopsPerSecond) must be positive and finite")
        }
        guard overheadPerToken.isFinite, overheadPerToken >= 0 else {
            throw bad("overhead_per_token", "\(overheadPerToken) must be finite and not negative")
        }
        try validateSeeds(bad)
        try validateKnobs(bad)
    }

    /// The most budgets a sweep config may list.
    public static let maxBudgets = 10_000

    /// Budgets that read the same as written in run keys (`formatFLOPs`) name the same runs: nil
    /// when there are none, else a message naming the first few and counting all, short and
    /// quick however many budgets a config lists.
    static func repeatedBudgets(_ budgets: [Double]) -> String? {
        var first: [String: Int] = [:]
        var repeats: [String] = []
        var count = 0
        for (i, c) in budgets.enumerated() {
            let written = formatFLOPs(c)
            guard let j = first[written] else {
                first[written] = i
                continue
            }
            count += 1
            if repeats.count < 3 { repeats.append("budgets[\(j)] and budgets[\(i)] are both \(written)") }
        }
        guard count > 0 else { return nil }
        return "hold the same budget twice: " + repeats.joined(separator: "; ")
            + (count > repeats.count ? "; \(count - repeats.count) more repeats" : "") + "; give each budget once"
    }

    /// Refuses more evaluation batches than the validation file (`path`, `validationTokens`
    /// long) holds windows for without overlap: past that an evaluation reads the same text
    /// again, only slower (eval_batches = 100000 over 938 windows never finished a run).
    public func checkEvaluation(validationTokens: Int, path: String) throws {
        let windows = EvaluationSample.distinctWindows(tokens: validationTokens, context: context)
        let most = Swift.max(1, windows / batch)
        guard evalBatches <= most else {
            throw ConfigError.badValue(file: "sweep config '\(name)'", key: "eval_batches",
                                       message: "\(evalBatches) batches of \(batch) windows is more than the \(windows) windows of \(context) tokens in \(path) hold: at most \(most)")
        }
    }

    /// The ladder's knobs: ranges, and warmup_steps against the keys it replaces.
    private func validateKnobs(_ bad: (String, String) -> ConfigError) throws {
        if let w = warmupSteps {
            guard (0...Int(Int32.max)).contains(w) else { throw bad("warmup_steps", "\(w) must be in 0...\(Int32.max)") }
            // Values other than the defaults beside warmup_steps would be silently ignored.
            guard warmupFraction == 0.05, warmupMin == 10 else {
                throw bad("warmup_steps", "\(w) replaces warmup_fraction and warmup_min; give warmup_steps or those, not both")
            }
            if schedules.contains(.fixed), fixedCycle > 0, fixedCycle <= w {
                throw bad("warmup_steps", "\(w) must be shorter than fixed_cycle \(fixedCycle)")
            }
        }
        for (key, beta) in [("beta1", beta1), ("beta2", beta2)] where !(0..<1).contains(beta) {
            throw bad(key, "\(beta) must be in [0, 1)")
        }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw bad("weight_decay", "\(weightDecay) must be finite and not negative") }
        guard (0...1).contains(lrFloor) else { throw bad("lr_floor", "\(lrFloor) must be in 0...1 (a fraction of the peak LR)") }
    }

    /// The peak rate of a run of `kind` for a shape of width `d` over `steps` steps: the `lr`
    /// rule's, and for wsd its own rule's or the multiplier's share of it.
    public func peak(_ kind: ScheduleKind, d: Int, steps: Int) -> Double {
        guard kind == .wsd else { return lr.peak(d: d, steps: steps, batch: batch) }
        if let lrWSD { return lrWSD.peak(d: d, steps: steps, batch: batch) }
        return lrWSDMultiplier * lr.peak(d: d, steps: steps, batch: batch)
    }

    /// The config with only the budgets `keep` accepts (and their explicit grids), their
    /// per-budget grid sizes kept beside them.
    public func keepingBudgets(_ keep: (Double) -> Bool) -> SweepConfig {
        var out = self
        out.budgets = budgets.filter(keep)
        out.budgetGrids = budgetGrids.filter { keep($0.flops) }
        if let per = grid.perBudget, per.count == budgets.count {
            out.grid.perBudget = zip(budgets, per).filter { keep($0.0) }.map(\.1)
        }
        return out
    }

    /// How many shapes the grid gives `budget`: its own count where `grid.sizes` lists one per
    /// budget, else `grid.sizes`.
    public func gridSizes(at budget: Double) -> Int {
        guard let per = grid.perBudget, per.count == budgets.count, let i = budgets.firstIndex(of: budget) else { return grid.sizes }
        return per[i]
    }

    /// Every shape of the family as a model config of this sweep's vocabulary and context.
    public func familyShapes() throws -> [GPTConfig] {
        var out: [GPTConfig] = []
        for d in family.widths {
            out.append(GPTConfig(vocabSize: vocab, context: context, d: d, layers: family.depth(forWidth: d)))
        }
        for s in family.shapes { out.append(model(s)) }
        for m in out { try m.validate() }
        var seen = Set<GPTConfig>()
        return out.filter { seen.insert($0).inserted }.sorted { $0.parameters < $1.parameters }
    }

    public func model(_ s: ShapeSpec) -> GPTConfig {
        GPTConfig(vocabSize: vocab, context: context, d: s.d, layers: s.L ?? family.depth(forWidth: s.d),
                  headSize: s.head ?? 32)
    }
}
