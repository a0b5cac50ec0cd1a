// The learning-rate pilot of `isoflop tune`: a sweep of its own ("<name>-tune") over a config's
// smallest budgets, every shape trained at a few multiples of the rule's peak LR.
import Foundation
import Tensor
import Training

public enum LRPilot {
    /// The pilot sweep's name: the config's with this suffix.
    public static let suffix = "-tune"

    /// The name of the pilot of `config`'s `schedule`: "<name>-tune" for the matched cosine,
    /// "<name>-<schedule>-tune" for another.
    public static func name(_ config: SweepConfig, schedule: ScheduleKind = .matched) -> String {
        name(sweep: config.name, schedule: schedule)
    }

    /// The name of the pilot of sweep `sweep`'s `schedule`.
    public static func name(sweep: String, schedule: ScheduleKind = .matched) -> String {
        sweep + (schedule == .matched ? "" : "-" + schedule.rawValue) + suffix
    }

    /// Whether `name` is a pilot of another sweep among `names`: results commands leave it out.
    public static func isPilot(_ name: String, among names: [String]) -> Bool {
        guard name.hasSuffix(suffix) else { return false }
        let base = String(name.dropLast(suffix.count))
        if names.contains(base) { return true }
        return ScheduleKind.allCases.contains { base.hasSuffix("-" + $0.rawValue) && names.contains(String(base.dropLast($0.rawValue.count + 1))) }
    }

    /// The pilot's sweep config: the `count` smallest budgets of `config` (its explicit grids
    /// kept), `schedule` only (each run alone: a wsd pilot's runs differ in rate, so none
    /// branches), one seed. The rule's LR (before the multiples) is the config's `[lr]`, so a wsd
    /// pilot measures the wsd rate as a multiple of the cosine's (`impliedMultiplier`).
    public static func config(_ config: SweepConfig, budgets count: Int, schedule: ScheduleKind = .matched) throws -> SweepConfig {
        guard count >= 1 else { throw PlanError.invalid("the pilot needs at least one budget, not \(count)") }
        let all = Set(config.budgets + config.budgetGrids.map(\.flops)).sorted()
        let kept = Set(all.prefix(count))
        var pilot = config.keepingBudgets(kept.contains)
        pilot.name = name(config, schedule: schedule)
        try SweepConfig.checkName(pilot.name)
        pilot.schedules = [schedule]
        pilot.shareWSD = false
        pilot.seeds = nil
        pilot.seed = config.runSeeds[0]
        pilot.grid.seedsNearOptimum = 0
        return pilot
    }

    /// Every run the pilot config plans, once per multiplier of its rule's LR.
    public static func runs(_ pilot: SweepConfig, multipliers: [Double]) throws -> [PlannedRun] {
        let base = try Planner.plan(pilot).runs
        return base.flatMap { r in multipliers.sorted().map { run(r, config: pilot, multiplier: $0) } }
    }

    /// `base` trained at `multiplier` × the rule's peak LR before its clipping to [min, max]
    /// (the pilot measures where the best LR is, clipped or not). The key says the multiplier.
    public static func run(_ base: PlannedRun, config: SweepConfig, multiplier: Double) -> PlannedRun {
        var r = base
        r.peakLR = exp(config.lr.lnPeak(d: base.model.d, steps: base.steps, batch: base.batchSize)) * multiplier
        r.key = base.key + " lr*" + String(format: "%g", multiplier)
        return r
    }

    /// The multiple of the `[lr]` rule's peak that the best rates found (`d`, `steps`, best ln
    /// lr per shape) sit at, on average in ln lr: a wsd pilot's measured `lr_wsd_multiplier`.
    public static func impliedMultiplier(_ best: [(d: Int, steps: Int, lnLR: Double)], config: SweepConfig) -> Double {
        guard !best.isEmpty else { return .nan }
        let offsets = best.map { $0.lnLR - log(config.lr.peak(d: $0.d, steps: $0.steps, batch: config.batch)) }
        return exp(offsets.reduce(0, +) / Double(offsets.count))
    }

    /// The multiplier a pilot run was planned with (its peak over the rule's), to 1e-9.
    public static func multiplier(of run: PlannedRun, config: SweepConfig) -> Double {
        let m = run.peakLR / exp(config.lr.lnPeak(d: run.model.d, steps: run.steps, batch: run.batchSize))
        return (m * 1e9).rounded() / 1e9
    }

    /// The key of the run a pilot run was made from (its key without the multiplier).
    public static func baseKey(_ key: String) -> String {
        guard let r = key.range(of: " lr*", options: .backwards) else { return key }
        return String(key[..<r.lowerBound])
    }

    /// One more step beyond an edge of the multipliers tried (sorted, at least two): below the
    /// smallest, or above the largest, by the ratio of the two at that end.
    public static func beyondEdge(_ tried: [Double], low: Bool) -> Double {
        let s = tried.sorted()
        return low ? s[0] * s[0] / s[1] : s[s.count - 1] * s[s.count - 1] / s[s.count - 2]
    }
}
