// The plans a study prints before it trains anything: `sweep plan`'s table of runs and the
// ladder's rungs with what each shares, both with an estimated time on some workers.
import Foundation
import Ladder
import Sweep
import Tensor
import Training

/// The throughput a plan's times are estimated with: the config's own model where it gives
/// one, else this machine's calibration.
func planThroughput(_ cfg: SweepConfig, runs: [PlannedRun]) -> ThroughputModel {
    cfg.flopsPerSecond.map { ThroughputModel(flopsPerSecond: $0, overheadPerToken: cfg.overheadPerToken) }
        ?? Calibration.throughput(for: runs, cache: Calibration.defaultCacheFile)
}

/// `sweep plan`'s table: every run with its size, length and time, then the totals and warnings.
public func planTable(_ plan: SweepPlan, workers w: Int) -> String {
    let cfg = plan.config
    let model = planThroughput(cfg, runs: plan.runs)
    var seconds: [Double] = []
    var lines = ["sweep \(cfg.name): \(plan.runs.count) result rows (\(plan.trainedRuns.count) runs trained), corpus \(cfg.corpus), V=\(cfg.vocab), batch \(cfg.batch)×\(cfg.context), fixed cycle \(plan.fixedCycle) steps"]
    let header: [(String, Int)] = [("budget", -7), ("d", 4), ("L", 2), ("head", 4), ("N", 8), ("N_nonemb", 8),
                                   ("steps", 7), ("tokens", 9), ("epochs", 6), ("lr", 8), ("schedule", -8), ("time", 8)]
    lines.append(header.map { pad($0.0, $0.1) }.joined(separator: " "))
    for r in plan.runs {
        // A run read from a shared run takes no time of its own.
        let s = r.sharedFrom == nil ? model.seconds(r) : 0
        if r.sharedFrom == nil { seconds.append(s) }
        lines.append(pad(formatFLOPs(r.budget), -7) + String(format: " %4d %2d %4d %8d %8d %7d ", r.model.d, r.model.layers,
                                                             r.model.headSize, r.parameters, r.nonEmbeddingParameters, r.steps)
                     + pad(formatWholeCount(r.tokens), 9) + String(format: " %6.2f %8.2e ", r.epochs, r.peakLR)
                     + pad(r.schedule.rawValue, -8) + " " + pad(r.sharedFrom == nil ? formatDuration(s) : "shared", 8))
    }
    let trained = plan.trainedRuns
    // Tokens each run trains itself: a wsd branch only its cooldown's.
    let trainedTokens = trained.reduce(0.0) { $0 + Double($1.tokens) * Double($1.steps - $1.firstTrainedStep) / Double(max($1.steps, 1)) }
    let branches = trained.filter { $0.branchOf != nil }.count
    var shared = ["\(plan.runs.count - trained.count) rows read from a longer run of the same fixed cycle"]
    if branches > 0 { shared.append("\(branches) wsd branches train only their cooldown, from their trunk's checkpoint") }
    lines.append(String(format: "planned %d result rows, %@ FLOPs, %.3g tokens, as if each were trained on its own",
                        plan.runs.count, formatFLOPs(plan.totalFLOPs), Double(plan.runs.reduce(0) { $0 + $1.tokens })))
    lines.append(String(format: "trained %d runs, %@ FLOPs, %.3g tokens (%@); estimated %@ on %d workers (%@ of single-worker time)",
                        trained.count, formatFLOPs(plan.trainedFLOPs), trainedTokens, shared.joined(separator: "; "),
                        formatDuration(estimateWallSeconds(seconds, workers: w)), w, formatDuration(seconds.reduce(0, +))))
    lines += plan.warnings.map { "warning: \($0)" }
    return lines.joined(separator: "\n")
}

/// `ladder --plan`: every rung's runs, which of them an earlier rung already trains, and the
/// time of the distinct trainings on `workers` (default: the first rung's).
public func ladderPlanText(_ ladderPlan: LadderPlan, workers: Int?) -> String {
    let (ladder, rungs) = (ladderPlan.ladder, ladderPlan.rungs)
    var seen: [TrainConfig: String] = [:]
    var distinct: [PlannedRun] = []
    let all = ladderPlan.allRuns
    let model = planThroughput(rungs[0], runs: all)
    var lines: [String] = []
    for (i, cfg) in rungs.enumerated() {
        let plan = ladderPlan.plans[i]
        let rung = ladder.rungs[i]
        let changes = rung.delta.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
        lines.append("rung \(i) \(rung.name): \(rung.label ?? "")")
        lines.append("  changes: \(changes.isEmpty ? "none" : changes); counting \(countingLabel(cfg)); \(plan.runs.count) runs")
        lines.append("  " + [("budget", -7), ("d", 4), ("L", 2), ("head", 4), ("N", 8), ("steps", 7), ("warmup", 6), ("cycle", 6),
                             ("lr", 8), ("time", 8), ("trained", -16)].map { pad($0.0, $0.1) }.joined(separator: " "))
        var seconds = 0.0, fresh = 0
        for r in plan.runs {
            let key = r.training
            let shared = r.sharedFrom.map { "prefix of \($0)" } ?? seen[key].map { "as in \($0)" }
            if shared == nil {
                seen[key] = "\(rung.name)"
                distinct.append(r)
                seconds += model.seconds(r)
                fresh += 1
            }
            lines.append("  " + pad(formatFLOPs(r.budget), -7) + String(format: " %4d %2d %4d %8d %7d %6d %6d %8.2e ", r.model.d,
                         r.model.layers, r.model.headSize, r.parameters, r.steps, r.warmupSteps, r.cycleSteps, r.peakLR)
                         + pad(shared == nil ? formatDuration(model.seconds(r)) : "-", 8) + " " + (shared ?? "here"))
        }
        lines.append("  new trainings: \(fresh), single-worker time \(formatDuration(seconds))")
    }
    let w = workers ?? rungs[0].workers
    let times = distinct.map(model.seconds)
    lines.append("ladder \(ladder.name): \(rungs.count) rungs, \(all.count) runs, \(distinct.count) distinct trainings, "
                 + "\(formatFLOPs(distinct.reduce(0) { $0 + $1.model.trainingFLOPsPerToken * Double($1.tokens) })) FLOPs (Appendix F); "
                 + "estimated \(formatDuration(estimateWallSeconds(times, workers: w))) on \(w) workers "
                 + "(rungs run one after another, so expect somewhat more)")
    return lines.joined(separator: "\n")
}
