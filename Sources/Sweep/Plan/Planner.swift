// The planner: turns a sweep config into runs (budget × shape × schedule) with their steps,
// tokens, epochs, learning rate and schedule lengths, and estimates the sweep's wall time.
import Foundation
import Model
import Tensor
import Training

/// Everything a trainer needs to carry out one run of a sweep; stored as JSON with the run.
public struct PlannedRun: Codable, Hashable, Sendable {
    /// Unique within a sweep: budget, shape and schedule.
    public var key: String
    public var budget: Double
    public var model: GPTConfig
    public var schedule: ScheduleKind
    public var steps: Int
    public var batchSize: Int
    /// Tokens trained on: steps × batch × context.
    public var tokens: Int
    /// FLOPs actually spent: tokens × training FLOPs per token (≤ budget, steps are floored).
    public var flops: Double
    public var flopsPerToken: Double
    public var parameters: Int
    public var nonEmbeddingParameters: Int
    /// Passes over the unique training tokens; 0 when their count is unknown.
    public var epochs: Double
    // The learning-rate schedule, as `LRSchedule` worked it out for this run (see `lrSchedule`).
    public var peakLR: Double
    public var minLRFraction: Double
    public var warmupSteps: Int
    /// Length of the cosine cycle: `steps` for matched, the sweep's cycle for fixed.
    public var cycleSteps: Int
    /// Linear cooldown steps at the end (wsd only, else 0): `LRSchedule.cooldownSteps(fraction:steps:)`.
    public var cooldownSteps: Int
    public var evalEvery: Int
    public var evalBatches: Int
    public var checkpointEvery: Int
    public var seed: Int
    public var trainTokens: String
    public var evalTokens: String
    public var tokenizer: String
    public var corpus: String
    /// Key of the longer run of the same group (`Planner.shareRuns`) whose training gives this
    /// run's result: it evaluates after this run's last step, and this run's record is read
    /// from it. Nil: the run is trained itself. Absent from the JSON of runs planned before.
    public var sharedFrom: String? = nil
    /// Key of the wsd run of the same shape (its trunk, `Planner.branchRuns`) whose checkpoint
    /// at `branchStep`, this run's cooldown start, this run starts from: it trains only its
    /// cooldown, and its rows before that step are the trunk's. Nil: trained from the start.
    public var branchOf: String? = nil
    public var branchStep: Int? = nil
    /// The form of the wsd cooldown; nil: linear (and left out of the JSON, as before it existed).
    public var cooldownShape: CooldownShape? = nil
    // The ladder's knobs, recorded where a config moved them off their defaults (nil: Appendix F
    // FLOPs, every parameter, β1 = 0.9, β2 = 0.95, weight decay 0.1); warmup_steps and lr_floor
    // show in `warmupSteps` and `minLRFraction`. Absent in stores written before the knobs.
    public var flopCount: FLOPCount? = nil
    public var parameterCount: ParameterConvention? = nil
    public var beta1: Double? = nil
    public var beta2: Double? = nil
    public var weightDecay: Double? = nil
}

extension PlannedRun {
    /// What decides how the run trains, the one test of "same training": its trainer config
    /// (model, data, batch, steps, schedule, optimizer, seed, evaluation, checkpoints), with a
    /// `fixed` cosine whose cycle is exactly the run's length written as the `matched` cosine it
    /// equals step for step. The budget, its FLOP counting and the fit's N are not in it: runs of
    /// equal `training` train identically, and a ladder trains them once (Ladder/Sharing.swift).
    public var training: TrainConfig {
        var c = trainerConfig
        if c.schedule.kind == .fixed, c.schedule.cycleSteps == c.steps {
            c.schedule.kind = .matched
            c.schedule.cycleSteps = nil
        }
        return c
    }

    /// `training` but for where the run stops (its steps and the cooldown they place), the fixed
    /// cosine kept as it is: under a schedule whose rate does not depend on the length, runs equal
    /// in it are one training read at several lengths (`Planner.shareRuns`, `branchRuns`).
    var trainingButLength: TrainConfig {
        var c = trainerConfig
        c.steps = 0
        c.schedule.totalSteps = 0
        c.schedule.cooldownFraction = 0
        return c
    }

    /// The step this run's own training starts from: its branch step, else 0.
    public var firstTrainedStep: Int { sharedFrom != nil ? steps : branchStep ?? 0 }

    /// FLOPs this run trains itself: none when read from a shared run, only the cooldown of a branch.
    public var trainedFLOPs: Double {
        steps > 0 ? flops * Double(steps - firstTrainedStep) / Double(steps) : 0
    }

    /// The run's learning-rate schedule. The record keeps the cooldown in steps; as the fraction
    /// `cooldownSteps / steps` it rounds back to exactly those steps.
    public var lrSchedule: LRSchedule {
        LRSchedule(kind: schedule, peak: peakLR, totalSteps: steps, warmupSteps: warmupSteps,
                   cycleSteps: schedule == .fixed ? cycleSteps : nil, finalFraction: minLRFraction,
                   cooldownFraction: steps > 0 ? Double(cooldownSteps) / Double(steps) : 0.2,
                   cooldownShape: cooldownShape ?? .linear)
    }

    /// The trainer's config for this run, validated.
    public func trainConfig() throws -> TrainConfig {
        let c = trainerConfig
        try c.validate()
        return c
    }

    private var trainerConfig: TrainConfig {
        var c = TrainConfig(model: model, batchSize: batchSize, steps: steps, schedule: lrSchedule, seed: UInt64(seed))
        c.evalEvery = evalEvery
        c.evalBatches = evalBatches
        c.checkpointEvery = checkpointEvery
        c.trainTokens = trainTokens
        c.validationTokens = evalTokens
        c.beta1 = beta1 ?? c.beta1
        c.beta2 = beta2 ?? c.beta2
        c.weightDecay = weightDecay ?? c.weightDecay
        return c
    }
}

/// The plan of a whole sweep.
public struct SweepPlan: Sendable {
    public var config: SweepConfig
    public var runs: [PlannedRun]
    /// The `fixed` schedule's cycle, shared by every fixed run (recorded with each).
    public var fixedCycle: Int
    public var warnings: [String]

    /// FLOPs of every planned result row, as if each were trained on its own.
    public var totalFLOPs: Double { runs.reduce(0) { $0 + $1.flops } }
    /// The runs that are trained: all but those read from a shared run.
    public var trainedRuns: [PlannedRun] { runs.filter { $0.sharedFrom == nil } }
    /// FLOPs actually trained (a branch trains only its cooldown).
    public var trainedFLOPs: Double { trainedRuns.reduce(0) { $0 + $1.trainedFLOPs } }
}

public enum PlanError: Error, CustomStringConvertible, Equatable {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let s): return "sweep plan: \(s)"
        }
    }
}

/// Steps for a budget: floor(C / (batch tokens × training FLOPs per token)), FLOPs counted by `count`.
public func stepsForBudget(_ budget: Double, model: GPTConfig, batch: Int, count: FLOPCount = .appendixF) -> Int {
    Int((budget / (Double(batch * model.context) * model.trainingFLOPsPerToken(count))).rounded(.down))
}

public enum Planner {
    /// Plans every budget × shape × schedule. `uniqueTrainingTokens` overrides the config's
    /// `unique_tokens` (e.g. from the token file's sidecar) for the epochs column. `optima`
    /// gives, per budget, the N_opt its grid and seeds centre on instead of the config's
    /// prediction (an adaptive grid's later budgets).
    public static func plan(_ config: SweepConfig, uniqueTrainingTokens: Int? = nil,
                            optima: [Double: Double] = [:]) throws -> SweepPlan {
        try config.validate(file: "the sweep config")
        guard config.batch > 0, config.context > 0 else { throw PlanError.invalid("batch and context must be positive") }
        guard !config.budgets.isEmpty || !config.budgetGrids.isEmpty else { throw PlanError.invalid("no budgets") }
        guard !config.schedules.isEmpty else { throw PlanError.invalid("no schedules") }
        let unique = uniqueTrainingTokens ?? config.uniqueTokens
        var warnings: [String] = []

        let optimum = { (c: Double) in optima[c] ?? config.grid.predictedOptimum(budget: c) }
        let grids = try shapesPerBudget(config, optimum: optimum)
        let longest = try longestRun(grids, config)
        let cycle = config.fixedCycle > 0 ? config.fixedCycle : longest
        if let w = config.warmupSteps, config.schedules.contains(.fixed), cycle <= w {
            throw PlanError.invalid("warmup_steps \(w) is not shorter than the fixed cycle of \(cycle) steps")
        }
        let spans = shapeSpans(grids, config)

        var runs: [PlannedRun] = []
        for (c, shapes) in grids {
            for m in shapes {
                let steps = stepsForBudget(c, model: m, batch: config.batch, count: config.flopCount)
                guard steps >= 1 else {
                    warnings.append("budget \(formatFLOPs(c)) is less than one step of \(m.description); skipped")
                    continue
                }
                let tokens = steps * config.batch * config.context
                let epochs = unique > 0 ? Double(tokens) / Double(unique) : 0
                if epochs > 4 {
                    warnings.append(String(format: "budget %@, d=%d L=%d: %.1f epochs over the training tokens (> 4 repeats)",
                                           formatFLOPs(c), m.d, m.layers, epochs))
                }
                // Several seeds: every shape, or only those nearest the predicted optimum (SweepConfig+Seeds).
                let seeds = config.seeds(for: m, among: shapes, optimum: optimum(c))
                for kind in config.schedules {
                    if kind == .fixed && cycle < steps {
                        warnings.append("fixed cycle \(cycle) is shorter than the \(steps) steps of d=\(m.d) L=\(m.layers)")
                    }
                    // Peak and warmup come from the run's own steps, or from the shape's runs
                    // where one trunk trains them all (fixed; wsd when shared).
                    let shared = kind == .fixed || (kind == .wsd && config.shareWSD)
                    let span: (shortest: Int, longest: Int) = shared ? spans[m] ?? (steps, steps) : (steps, steps)
                    let warm = switch kind {
                    case .fixed: fixedWarmup(config, steps: steps, shortest: span.shortest)
                    case .wsd where shared: warmup(config, steps: span.shortest)
                    default: warmup(config, steps: steps)
                    }
                    let schedule = LRSchedule(
                        kind: kind, peak: config.peak(kind, d: m.d, steps: span.longest), totalSteps: steps,
                        warmupSteps: warm, cycleSteps: kind == .fixed ? cycle : nil, finalFraction: config.lrFloor,
                        cooldownFraction: config.cooldownFraction, cooldownShape: config.cooldownShape)
                    for seed in seeds {
                        runs.append(plannedRun(config, budget: c, model: m, schedule: schedule, steps: steps,
                                               epochs: epochs, seed: seed))
                    }
                }
            }
        }
        var keys = Set<String>()
        for r in runs where !keys.insert(r.key).inserted {
            throw PlanError.invalid("two runs have the key '\(r.key)': give each budget and shape once")
        }
        let planned = config.shareWSD ? branchRuns(shareRuns(runs)) : shareRuns(runs)
        return SweepPlan(config: config, runs: planned, fixedCycle: cycle, warnings: warnings)
    }

    /// Shapes per budget, smallest budget first: the explicit grid where one is given, else the
    /// family shapes nearest in ln N to the predicted optimum.
    static func shapesPerBudget(_ config: SweepConfig, optimum: (Double) -> Double) throws -> [(Double, [GPTConfig])] {
        let family = try config.familyShapes()
        var grids: [(Double, [GPTConfig])] = []
        var budgets = config.budgets
        for g in config.budgetGrids where !budgets.contains(g.flops) { budgets.append(g.flops) }
        for c in budgets.sorted() {
            if let explicit = config.budgetGrids.first(where: { $0.flops == c }) {
                let shapes = explicit.shapes.map(config.model)
                for s in shapes { try s.validate() }
                grids.append((c, shapes.sorted { $0.parameters < $1.parameters }))
            } else {
                let shapes = gridShapes(family, optimum: optimum(c), width: config.grid.width, sizes: config.gridSizes(at: c))
                if shapes.isEmpty { throw PlanError.invalid("no family shape within the grid width of budget \(c)") }
                grids.append((c, shapes))
            }
        }
        return grids
    }

    /// The steps of the longest run, after checking no run's token count would overflow Int on
    /// the way (tokens = steps × batch × T).
    static func longestRun(_ grids: [(Double, [GPTConfig])], _ config: SweepConfig) throws -> Int {
        var longest = 0
        for (c, shapes) in grids {
            for m in shapes {
                let tokens = c / m.trainingFLOPsPerToken(config.flopCount)
                guard tokens <= 1e15 else {
                    throw PlanError.invalid("budget \(formatFLOPs(c)) means \(String(format: "%.3g", tokens)) tokens for \(m.description); at most 1e15")
                }
                longest = max(longest, stepsForBudget(c, model: m, batch: config.batch, count: config.flopCount))
            }
        }
        return longest
    }

    /// The steps of each shape's shortest and longest run. The fixed schedule is one cosine per
    /// shape, whatever the budget (Kaplan et al. 2020), and a shared wsd is one constant-rate
    /// trunk per shape (Hägele et al. 2024): their peak comes from the rule at the steps of the
    /// shape's longest run, their warmup from its shortest, so every run of a shape is the first
    /// steps of the longest one (wsd: up to its own cooldown).
    static func shapeSpans(_ grids: [(Double, [GPTConfig])], _ config: SweepConfig) -> [GPTConfig: (shortest: Int, longest: Int)] {
        var spans: [GPTConfig: (shortest: Int, longest: Int)] = [:]
        for (c, shapes) in grids {
            for m in shapes {
                let steps = stepsForBudget(c, model: m, batch: config.batch, count: config.flopCount)
                guard steps >= 1 else { continue }
                let known = spans[m] ?? (steps, steps)
                spans[m] = (min(known.shortest, steps), max(known.longest, steps))
            }
        }
        return spans
    }

    /// One run of the plan: a shape at a budget under a schedule and a seed. The knobs are
    /// recorded only when set away from their defaults, so plans without them encode as before.
    static func plannedRun(_ config: SweepConfig, budget c: Double, model m: GPTConfig, schedule: LRSchedule,
                           steps: Int, epochs: Double, seed: Int) -> PlannedRun {
        let kind = schedule.kind
        let tokens = steps * config.batch * config.context
        let flopsPerToken = m.trainingFLOPsPerToken(config.flopCount)
        return PlannedRun(
            key: runKey(budget: c, model: m, schedule: kind, seed: config.runSeeds.count > 1 ? seed : nil),
            budget: c, model: m, schedule: kind, steps: steps, batchSize: config.batch,
            tokens: tokens, flops: Double(tokens) * flopsPerToken,
            flopsPerToken: flopsPerToken, parameters: m.parameters,
            nonEmbeddingParameters: m.nonEmbeddingParameters, epochs: epochs,
            peakLR: schedule.peak, minLRFraction: schedule.finalFraction, warmupSteps: schedule.warmupSteps,
            cycleSteps: schedule.cycleSteps ?? steps,
            cooldownSteps: kind == .wsd ? LRSchedule.cooldownSteps(fraction: schedule.cooldownFraction, steps: steps) : 0,
            evalEvery: config.evalEvery, evalBatches: config.evalBatches,
            checkpointEvery: config.checkpointEvery, seed: seed,
            trainTokens: config.trainTokens, evalTokens: config.evalTokens,
            tokenizer: config.tokenizer, corpus: config.corpus,
            cooldownShape: kind == .wsd && schedule.cooldownShape != .linear ? schedule.cooldownShape : nil,
            flopCount: config.flopCount == .appendixF ? nil : config.flopCount,
            parameterCount: config.params == .total ? nil : config.params,
            beta1: config.beta1 == AdamW.defaultBeta1 ? nil : config.beta1,
            beta2: config.beta2 == AdamW.defaultBeta2 ? nil : config.beta2,
            weightDecay: config.weightDecay == AdamW.defaultWeightDecay ? nil : config.weightDecay)
    }

    /// Groups runs that are the same run but for their length, and marks every run of a group
    /// but the longest as read from it (`sharedFrom`): the longest is trained once and records
    /// the others as it passes their last steps. Two runs belong together when they train alike but
    /// for their length (`trainingButLength`), and their learning rate at a step does not
    /// depend on the run's length (the fixed cycle and the
    /// constant rate; not the matched cosine or wsd, which end where the run ends). Runs as long
    /// as their group's longest are left apart. `sharedFrom` is worked out anew; the order and
    /// everything else of `runs` is kept.
    public static func shareRuns(_ runs: [PlannedRun]) -> [PlannedRun] {
        var groups: [TrainConfig: [Int]] = [:]
        for (i, r) in runs.enumerated() where isLengthFree(r.lrSchedule) { groups[r.trainingButLength, default: []].append(i) }
        var out = runs
        for i in out.indices { out[i].sharedFrom = nil }
        for members in groups.values where members.count > 1 {
            var longest = members[0]
            for i in members where runs[i].steps > runs[longest].steps { longest = i }
            for i in members where runs[i].steps < runs[longest].steps {
                var schedule = runs[i].lrSchedule
                schedule.totalSteps = runs[longest].steps
                if schedule == runs[longest].lrSchedule { out[i].sharedFrom = runs[longest].key }
            }
        }
        return out
    }

    /// Groups a shape's wsd runs that are the same run but for their length (as `shareRuns`
    /// groups fixed ones) around the longest, the trunk: it is trained whole, writing a
    /// checkpoint at every other member's cooldown start, and each other member becomes a branch
    /// (`branchOf`, `branchStep`) that starts from that checkpoint and trains only its cooldown.
    /// A member branches only where its rate agrees with the trunk's at every step before its
    /// cooldown (same warmup and peak, its cooldown starting after step 0 and no later than the
    /// trunk's), so it trains exactly as it would alone. The branches are worked out anew; the
    /// order and everything else of `runs` is kept.
    public static func branchRuns(_ runs: [PlannedRun]) -> [PlannedRun] {
        var groups: [TrainConfig: [Int]] = [:]
        for (i, r) in runs.enumerated() where r.schedule == .wsd && r.sharedFrom == nil {
            groups[r.trainingButLength, default: []].append(i)
        }
        var out = runs
        for i in out.indices {
            out[i].branchOf = nil
            out[i].branchStep = nil
        }
        for members in groups.values where members.count > 1 {
            var trunk = members[0]
            for i in members where runs[i].steps > runs[trunk].steps { trunk = i }
            let t = runs[trunk].lrSchedule
            for i in members where i != trunk {
                let s = runs[i].lrSchedule
                guard s.cooldownStart >= 1, s.cooldownStart <= t.cooldownStart, s.warmupSteps == t.warmupSteps,
                      s.peak == t.peak, s.warmupSteps <= s.cooldownStart else { continue }
                out[i].branchOf = runs[trunk].key
                out[i].branchStep = s.cooldownStart
            }
        }
        return out
    }

    /// Whether `lr(at:)` reads nothing of the run's length, so a shorter run's rates are the
    /// first ones of a longer run's with the same schedule.
    static func isLengthFree(_ s: LRSchedule) -> Bool {
        switch s.kind {
        case .fixed: return s.cycleSteps != nil
        case .constant: return true
        case .matched, .wsd: return false
        }
    }

    /// The `sizes` family shapes (the budget's `SweepConfig.gridSizes`) nearest in ln N to
    /// `optimum`, within a factor `width` of it, in order of N.
    public static func gridShapes(_ family: [GPTConfig], optimum: Double, width: Double, sizes: Int) -> [GPTConfig] {
        let target = log(optimum)
        let limit = log(max(width, 1))
        let near = family
            .map { ($0, abs(log(Double($0.parameters)) - target)) }
            .filter { $0.1 <= limit + 1e-12 }
            .sorted { $0.1 < $1.1 }
            .prefix(sizes)
            .map { $0.0 }
        return near.sorted { $0.parameters < $1.parameters }
    }

    /// A run's warmup: the config's fixed `warmup_steps` (all of a shorter run), else
    /// max(warmup_min, warmup_fraction × steps).
    static func warmup(_ config: SweepConfig, steps: Int) -> Int {
        if let w = config.warmupSteps { return min(w, steps) }
        return LRSchedule.warmup(steps: steps, fraction: config.warmupFraction, minimum: config.warmupMin)
    }

    /// A fixed run's warmup. `fixed_warmup = "shape"`: the shape's, shared by all its fixed runs
    /// so that each is the first steps of the longest: `warmup_steps` whole (a run shorter than
    /// it ends inside it), else from the shape's shortest fixed run. `"run"`: the run's own.
    static func fixedWarmup(_ config: SweepConfig, steps: Int, shortest: Int) -> Int {
        switch config.fixedWarmup {
        case .run: return warmup(config, steps: steps)
        case .shape: return config.warmupSteps ?? warmup(config, steps: shortest)
        }
    }

    /// "C=3e+11 d=64 L=1 h=32 matched", with " seed=2" only in sweeps of several seeds (so the
    /// keys of one-seed sweeps, and the stores holding them, stay as they were).
    static func runKey(budget: Double, model: GPTConfig, schedule: ScheduleKind, seed: Int? = nil) -> String {
        "C=\(formatFLOPs(budget)) d=\(model.d) L=\(model.layers) h=\(model.headSize) \(schedule.rawValue)"
            + (seed.map { " seed=\($0)" } ?? "")
    }
}

/// Seconds one run takes under a throughput model, per worker: from the training rate
/// measured for its shape when there is one (`Calibration`), else from a FLOP rate.
public struct ThroughputModel: Sendable {
    public var flopsPerSecond: Double
    public var overheadPerToken: Double
    /// Training tokens per second of one worker, by shape and batch, measured on this machine.
    public var measured: [MeasuredShape: Double] = [:]

    public init(flopsPerSecond: Double, overheadPerToken: Double, measured: [MeasuredShape: Double] = [:]) {
        self.flopsPerSecond = flopsPerSecond
        self.overheadPerToken = overheadPerToken
        self.measured = measured
    }

    /// Seconds of the training this run does itself (a branch: its cooldown; a run read from a
    /// shared run: none), its evaluations included: each runs `evalBatches` forward passes,
    /// about a third of a training step each.
    public func seconds(_ run: PlannedRun) -> Double {
        let first = run.firstTrainedStep
        guard run.steps > first else { return 0 }
        let evaluations = Double(run.evalEvery > 0 ? run.steps / run.evalEvery - first / run.evalEvery + 1 : 1)
        let steps = Double(run.steps - first) + evaluations * Double(run.evalBatches) / 3
        let tokens = steps * Double(run.batchSize * run.model.context)
        guard let rate = measured[MeasuredShape(model: run.model, batch: run.batchSize)], rate > 0 else {
            // The compute actually done (Appendix F), whichever convention counts the budget.
            return tokens * (run.model.trainingFLOPsPerToken / flopsPerSecond + overheadPerToken)
        }
        return tokens / rate
    }
}

/// What a measured rate depends on: the model's shape and the batch.
public struct MeasuredShape: Codable, Hashable, Sendable {
    public var model: GPTConfig
    public var batch: Int

    public init(model: GPTConfig, batch: Int) {
        self.model = model
        self.batch = batch
    }
}

/// Wall time of the runs on `workers` parallel workers when each takes the next run as it
/// frees up, longest first (the order the store hands runs out).
public func estimateWallSeconds(_ runSeconds: [Double], workers: Int) -> Double {
    var free = [Double](repeating: 0, count: max(workers, 1))
    for s in runSeconds.sorted(by: >) {
        let i = free.indices.min { free[$0] < free[$1] }!
        free[i] += s
    }
    return free.max() ?? 0
}
