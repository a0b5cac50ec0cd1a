// The learning-rate pilot (`isoflop tune`): every shape of a config's smallest budgets trained at
// a few multiples of its rule's peak LR, in a sweep "<name>-tune" of the same store (so it
// resumes); rounds of one more multiplier beyond an edge where a shape's best LR is still the
// smallest or largest tried; each shape's best LR and the rule fitted to them.
import Fit
import Foundation
import Report
import Sweep
import Tensor
import Training

/// A shape's best LR with the key of its pilot runs (without the multiplier).
public struct PilotShape {
    public var key: String
    public var best: BestLR
    public var edge: LREdge? { best.edge }
}

public struct PilotOptions {
    /// How many of the config's smallest budgets the pilot trains.
    public var budgets = 2
    /// Multiples of the rule's peak LR, sorted, at least three.
    public var multipliers: [Double] = [0.5, 1, 2]
    /// The most multipliers added beyond each edge (0: no extension rounds).
    public var maxExtensions = 3
    /// The schedule piloted: matched fits the `[lr]` rule; wsd measures the wsd rate against it
    /// (`LRPilot.impliedMultiplier`), in a sweep "<name>-wsd-tune".
    public var schedule: ScheduleKind = .matched
    public var train = TrainOptions()

    public init() {}
}

public struct PilotResult {
    public var pilot: SweepConfig
    public var shapes: [PilotShape]
    public var rule: LRRuleFit
    /// Runs of the pilot sweep in the store.
    public var runs: Int
}

/// The pilot's runs of every multiplier, each multiplier's runs with it as their origin.
public func pilotBatches(_ pilot: SweepConfig, multipliers: [Double]) throws -> RunBatches {
    let base = try Planner.plan(pilot).runs
    let batches = multipliers.sorted().map { m in (origin: RunOrigin.pilot(multiplier: m), runs: base.map { LRPilot.run($0, config: pilot, multiplier: m) }) }
    return RunBatches(batches, grows: true)
}

/// Runs the pilot of `cfg` in the store at `url` (trained with local workers, as `runSweep`
/// trains a sweep), extends it beyond the edges, and fits the rule. `hooks.message` hears what
/// is about to be trained.
public func runPilot(_ cfg: SweepConfig, store url: String, options: PilotOptions, hooks: TrainHooks) throws -> PilotResult {
    let pilot = try LRPilot.config(cfg, budgets: options.budgets, schedule: options.schedule)
    let checkpoints = try Checkpoints.folder(options.train.checkpoints, store: url)
    try prepareSweepData(pilot, progress: hooks.message)
    let batches = try pilotBatches(pilot, multipliers: options.multipliers)
    try checkSweepInputs(pilot, runs: batches.runs)
    let budgets: String = Set(batches.runs.map(\.budget)).sorted().map(formatFLOPs).joined(separator: ", ")
    let multipliers: String = options.multipliers.map { String(format: "%g", $0) }.joined(separator: ", ")
    hooks.message("tune \(cfg.name): \(batches.runs.count) runs in sweep \(pilot.name) of \(redactedStoreURL(url)): budgets \(budgets), LR × \(multipliers) of the rule")
    let sweep = try planIntoStore(pilot, batches, url: url)
    try Checkpoints.mark(checkpoints, store: sweep.store)
    var records = try train(sweep, checkpoints: checkpoints, options: options.train, hooks: hooks)
    var best = try bestLRs(records)
    // Rounds of one more multiplier beyond each edge where a shape is still best, up to
    // maxExtensions beyond the multipliers asked for on that side: a rerun counts the ones an
    // earlier run added, so it trains nothing new once every shape is done.
    for _ in 0..<options.maxExtensions {
        let more = pilotExtensions(best, records, pilot: pilot, asked: options.multipliers, limit: options.maxExtensions)
        guard !more.isEmpty else { break }
        hooks.message("\(more.count) shape(s) had their best LR at an edge; training one more multiplier beyond it")
        for (origin, run) in more { _ = try sweep.store.addRuns(sweep: sweep.id, runs: [run], origin: origin) }
        records = try train(sweep, checkpoints: checkpoints, options: options.train, hooks: hooks)
        best = try bestLRs(records)
    }
    let rule = try fitLRRule(best.map(\.best), batchTerm: cfg.lr.batchTerm(batch: cfg.batch))
    return PilotResult(pilot: pilot, shapes: best, rule: rule, runs: records.count)
}

/// One run beyond the edge for every shape whose best LR is at an edge of those tried and that
/// has fewer than `limit` multipliers beyond `asked` on that side; each with its multiplier.
public func pilotExtensions(_ best: [PilotShape], _ stored: [RunRecord], pilot: SweepConfig, asked: [Double],
                     limit: Int) -> [(RunOrigin, PlannedRun)] {
    var more: [(RunOrigin, PlannedRun)] = []
    for b in best where b.edge != nil {
        let members = stored.filter { LRPilot.baseKey($0.plan.key) == b.key }
        let tried = members.compactMap(\.origin.multiplier)
        guard let base = members.first?.plan, tried.count == members.count, tried.count >= 2, Set(tried).count == tried.count else { continue }
        let beyond = b.edge == .low ? tried.filter { $0 < asked[0] * (1 - 1e-6) }
                                    : tried.filter { $0 > asked[asked.count - 1] * (1 + 1e-6) }
        guard beyond.count < limit else { continue }
        let m = LRPilot.beyondEdge(tried, low: b.edge == .low)
        guard !tried.contains(where: { abs($0 / m - 1) < 1e-6 }) else { continue }
        var plain = base
        plain.key = b.key
        more.append((.pilot(multiplier: m), LRPilot.run(plain, config: pilot, multiplier: m)))
    }
    return more
}

/// Each shape's best LR from the pilot's ended runs (diverged ones count as infinitely bad).
public func bestLRs(_ records: [RunRecord]) throws -> [PilotShape] {
    var byShape: [String: [LRTrial]] = [:]
    var order: [String] = []
    for r in records where r.status == .done || r.status == .diverged {
        let key = LRPilot.baseKey(r.plan.key)
        let loss = r.status == .done ? (r.finalEvalLoss ?? r.finalTrainLoss ?? .infinity) : .infinity
        if byShape[key] == nil { order.append(key) }
        byShape[key, default: []].append(LRTrial(budget: r.plan.budget, d: r.plan.model.d, layers: r.plan.model.layers,
                                                 headSize: r.plan.model.headSize, steps: r.plan.steps, lr: r.plan.peakLR, loss: loss))
    }
    return try order.map { PilotShape(key: $0, best: try bestLearningRate(byShape[$0]!)) }
        .sorted { ($0.best.budget, $0.best.d, $0.best.layers) < ($1.best.budget, $1.best.d, $1.best.layers) }
}

/// The learning-rate pilot of a sweep (the sweep "<name>-tune" in the same store), one curve per
/// shape and budget, for the report's figure; empty when the store holds none.
public func pilotCurves(_ url: String, sweep name: String) throws -> [LRCurve] {
    guard !name.hasSuffix(LRPilot.suffix) else { return [] }
    let store = try openExistingStore(url)
    var curves: [LRCurve] = []
    // The cosine's pilot "<name>-tune" and the wsd rate's "<name>-wsd-tune", each where present.
    for schedule in [ScheduleKind.matched, .wsd] {
        guard let id = try store.sweepID(named: LRPilot.name(sweep: name, schedule: schedule)) else { continue }
        let records = try store.runs(sweep: id)
        let byKey = Dictionary(grouping: records.filter { $0.status == .done || $0.status == .diverged }) { LRPilot.baseKey($0.plan.key) }
        // A shape whose every LR diverged has no best; its curve is drawn without one.
        let best = Dictionary(uniqueKeysWithValues: ((try? bestLRs(records)) ?? []).map { ($0.key, $0.best) })
        curves += byKey.keys.sorted().compactMap { key in
            guard let runs = byKey[key], let p = runs.first?.plan else { return nil }
            return LRCurve(budget: p.budget, shape: "d=\(p.model.d) L=\(p.model.layers) h=\(p.model.headSize)",
                           parameters: Double(p.parameters), lrs: runs.map(\.plan.peakLR),
                           losses: runs.map { $0.status == .done ? ($0.finalEvalLoss ?? $0.finalTrainLoss ?? .infinity) : .infinity },
                           bestLR: best[key].map { exp($0.lnLR) }, schedule: schedule.rawValue)
        }
    }
    return curves
}

extension LRRule {
    /// This rule with the pilot's fitted intercept, width and steps (its batch term and clipping
    /// kept): the fitted rule, by the one formula of `lnPeak`.
    public func fitted(_ fit: LRRuleFit) -> LRRule {
        var rule = self
        rule.intercept = fit.intercept
        rule.width = fit.width
        rule.steps = fit.steps
        return rule
    }
}

/// The rms of a fitted LR rule's residuals (in ln lr) above which `tune` does not trust it: at
/// 0.3 a typical shape's best LR lies more than 35% off the rule. The laptop pilots on pydocs
/// fit within 0.15–0.18; a single-seed pilot whose runs stall on the early plateau gave 0.42.
public let trustworthyRuleRMS = 0.3

/// Why a pilot's fitted rule should not be written into a config, or nil when it fits well.
public func poorRuleFit(rms: Double, shapes: Int) -> String? {
    guard !(rms <= trustworthyRuleRMS) else { return nil }
    return String(format: "the fitted rule's residuals have rms %.2f in ln lr over %d shapes (above %.1f: a typical shape's best LR "
                  + "is more than %.0f%% off the rule); runs stuck on the early loss plateau or an edge of the LRs tried make such a "
                  + "fit, so check the table above", rms, shapes, trustworthyRuleRMS, 100 * (exp(trustworthyRuleRMS) - 1))
}

/// What `tune` does with the pilot's fitted rule: a poor fit of the matched schedule
/// (`poorRuleFit`) is not written unless `force`, and is warned of; with `write`, the rule goes
/// into the [lr] table of the config `file`, whose text before the pilot was `original`.
/// Returns the lines that say what happened.
public func settlePilotRule(_ result: PilotResult, schedule: ScheduleKind, file: String, original: String, write: Bool,
                            force: Bool) throws -> [String] {
    let poor = schedule == .matched ? poorRuleFit(rms: result.rule.rms, shapes: result.shapes.count) : nil
    if let poor, write, !force { throw StudyError.poorRule(file: file, reason: poor) }
    var lines = poor.map { ["warning: \($0)"] } ?? []
    if write {
        try LRRuleFile.write(intercept: result.rule.intercept, width: result.rule.width, steps: result.rule.steps, to: file, startedFrom: original)
        lines.append("wrote the rule into \(file)'s [lr] table")
    } else {
        lines.append("(rerun with --write to put it into \(file); the pilot's runs are kept and not trained again)")
    }
    return lines
}
