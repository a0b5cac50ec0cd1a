// A ladder config (configs/ladder.toml): a base sweep and an ordered list of rungs, each a small
// change to the rung before it, from Kaplan et al.'s setup toward Chinchilla's (Porian et al. 2024).
import Foundation
import Model
import Sweep
import Tensor
import Training

/// What one rung changes relative to the rung before it (the first: relative to the base sweep).
/// Every key is optional; a key left out keeps the previous rung's value.
public struct RungChange: Codable, Hashable, Sendable {
    /// Short name, part of the rung's sweep name (`<ladder>-<name>`).
    public var name: String
    /// One line for people: what the rung changes and why.
    public var label: String?
    public var flopCount: FLOPCount?
    public var params: ParameterConvention?
    /// A fixed warmup for every run; `warmup_fraction` or `warmup_min` on a later rung goes back
    /// to a warmup per run (and drops this).
    public var warmupSteps: Int?
    public var warmupFraction: Double?
    public var warmupMin: Int?
    /// Exactly one schedule per rung (each rung is fitted under one).
    public var schedule: ScheduleKind?
    public var fixedCycle: Int?
    /// Whose warmup a fixed run takes: "shape" (shared, so shorter runs are prefixes) or "run".
    public var fixedWarmup: FixedWarmup?
    public var beta1: Double?
    public var beta2: Double?
    public var weightDecay: Double?
    public var lrFloor: Double?
    public var lr: LRRule?

    enum CodingKeys: String, CodingKey {
        case name, label, flopCount = "flop_count", params, warmupSteps = "warmup_steps"
        case warmupFraction = "warmup_fraction", warmupMin = "warmup_min", schedule, fixedCycle = "fixed_cycle"
        case fixedWarmup = "fixed_warmup"
        case beta1, beta2, weightDecay = "weight_decay", lrFloor = "lr_floor", lr
    }

    public init(name: String, label: String? = nil) {
        self.name = name
        self.label = label
    }

    /// `config` with this rung's changes made.
    public func applied(to config: SweepConfig) -> SweepConfig {
        var c = config
        if let v = flopCount { c.flopCount = v }
        if let v = params { c.params = v }
        if warmupFraction != nil || warmupMin != nil { c.warmupSteps = nil }
        if let v = warmupFraction { c.warmupFraction = v }
        if let v = warmupMin { c.warmupMin = v }
        if let v = warmupSteps {
            // warmup_steps replaces the per-run rule; those keys go back to their defaults.
            c.warmupSteps = v
            c.warmupFraction = 0.05
            c.warmupMin = 10
        }
        if let v = schedule { c.schedules = [v] }
        if let v = fixedCycle { c.fixedCycle = v }
        if let v = fixedWarmup { c.fixedWarmup = v }
        if let v = beta1 { c.beta1 = v }
        if let v = beta2 { c.beta2 = v }
        if let v = weightDecay { c.weightDecay = v }
        if let v = lrFloor { c.lrFloor = v }
        if let v = lr { c.lr = v }
        return c
    }

    /// The keys this rung sets, as `key = value` in config syntax, for tables and ladder.json.
    public var delta: [String: String] {
        var d: [String: String] = [:]
        func put(_ k: String, _ v: CustomStringConvertible?) { if let v { d[k] = "\(v)" } }
        put("flop_count", flopCount?.rawValue)
        put("params", params?.rawValue)
        put("warmup_steps", warmupSteps)
        put("warmup_fraction", warmupFraction)
        put("warmup_min", warmupMin)
        put("schedule", schedule?.rawValue)
        put("fixed_cycle", fixedCycle)
        put("fixed_warmup", fixedWarmup?.rawValue)
        put("beta1", beta1)
        put("beta2", beta2)
        put("weight_decay", weightDecay)
        put("lr_floor", lrFloor)
        if let lr {
            d["lr"] = String(format: "intercept %g, width %g, steps %g, batch8 %g, [%g, %g]",
                             lr.intercept, lr.width, lr.steps, lr.batch8, lr.min, lr.max)
        }
        return d
    }
}

/// A whole ladder, as read from a ladder config.
public struct LadderConfig: Codable, Hashable, Sendable {
    public var name: String
    /// A sweep config file the rungs start from (data, budgets, shapes, cadences)…
    public var base: String?
    /// …or the same written inline as a `[sweep]` table (exactly one of the two).
    public var sweep: SweepConfig?
    public var rungs: [RungChange]

    enum CodingKeys: String, CodingKey { case name, base, sweep, rungs }

    /// Reads, decodes strictly and checks a ladder config; `base` is read relative to the
    /// working directory, like every path in a sweep config.
    public static func load(path: String) throws -> LadderConfig {
        let config = try ConfigDecoder.decode(LadderConfig.self, contentsOf: path)
        _ = try config.rungConfigs(file: path)
        return config
    }

    /// The base sweep: the inline table, or the file `base` names.
    public func baseSweep(file: String) throws -> SweepConfig {
        switch (base, sweep) {
        case (nil, nil), (.some, .some):
            throw ConfigError.badValue(file: file, key: "base", message: "give either base = \"PATH\" or a [sweep] table, exactly one")
        case (let path?, nil):
            return try ConfigDecoder.decode(SweepConfig.self, contentsOf: path)
        case (nil, let s?):
            return s
        }
    }

    /// Every rung's full sweep config, in order: the base with the changes of rungs 0…k made,
    /// named `<ladder>-<rung>`, each checked like any sweep config.
    public func rungConfigs(file: String) throws -> [SweepConfig] {
        func bad(_ key: String, _ message: String) -> ConfigError { .badValue(file: file, key: key, message: message) }
        do { try SweepConfig.checkName(name) } catch ConfigError.badValue(_, _, let message) { throw bad("name", message) }
        guard !rungs.isEmpty else { throw bad("rungs", "is empty: give at least one [[rungs]]") }
        var seen = Set<String>()
        var current = try baseSweep(file: file)
        var out: [SweepConfig] = []
        for (i, rung) in rungs.enumerated() {
            guard seen.insert(rung.name).inserted else { throw bad("rungs[\(i)].name", "'\(rung.name)' names two rungs") }
            current = rung.applied(to: current)
            current.name = "\(name)-\(rung.name)"
            do { try SweepConfig.checkName(current.name) } catch ConfigError.badValue(_, _, let message) {
                throw bad("rungs[\(i)].name", message)
            }
            guard current.schedules.count == 1 else {
                throw bad("rungs[\(i)].schedule", "the rung has schedules \(current.schedules.map(\.rawValue)); each rung needs exactly one (set schedule = \"…\")")
            }
            try current.validate(file: "\(file) (rung \(i), \(rung.name))")
            out.append(current)
        }
        return out
    }
}
