// What a study prints about what it found: the LR pilot's table, the ladder's exponents per
// rung, a forecast with the runs that would test it and its score against them, and a worker
// process's account of itself.
import Fit
import Foundation
import Ladder
import Sweep
import Tensor
import Training

/// What `tune --json` writes.
public struct TuneResult: Codable {
    public var best: [BestLR]
    public var rule: LRRuleFit
    /// The config's intercept, width and steps before the pilot.
    public var previous: [Double]

    public init(_ result: PilotResult, config: SweepConfig) {
        best = result.shapes.map(\.best)
        rule = result.rule
        previous = [config.lr.intercept, config.lr.width, config.lr.steps]
    }

    /// Pretty-printed JSON with sorted keys.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

/// What the pilot found: its table and, for a wsd pilot, the `lr_wsd_multiplier` its best rates
/// imply against the config's [lr] rule.
public func pilotText(_ result: PilotResult, config cfg: SweepConfig, schedule: ScheduleKind) -> String {
    var out = tuneTable(result.shapes, fit: result.rule, config: cfg)
    if schedule == .wsd {
        let m = LRPilot.impliedMultiplier(result.shapes.map { (d: $0.best.d, steps: $0.best.steps, lnLR: $0.best.lnLR) }, config: cfg)
        out += String(format: "\nwsd: best rates at %.3g × the [lr] rule's on average: lr_wsd_multiplier = %.3g (the config has %.3g)",
                      m, m, cfg.lrWSDMultiplier)
    }
    return out
}

/// The pilot's table: per shape the losses at each LR, the best LR, the config's rule and the
/// fitted one; then the fitted rule beside the config's.
public func tuneTable(_ shapes: [PilotShape], fit: LRRuleFit, config: SweepConfig) -> String {
    var out = "budget  shape             steps  losses at the LRs tried                          best lr   rule lr   fitted   residual\n"
    let fitted = config.lr.fitted(fit)
    for (s, residual) in zip(shapes, fit.residuals) {
        let b = s.best
        let trials = b.trials.map { t in
            String(format: "%.2e:", t.lr) + (t.loss.isFinite ? String(format: "%.3f", t.loss) : "diverged")
        }.joined(separator: " ")
        let rule = config.lr.peak(d: b.d, steps: b.steps, batch: config.batch)
        out += pad(formatFLOPs(b.budget), -7) + " " + pad("d=\(b.d) L=\(b.layers) h=\(b.headSize)", -17)
            + String(format: " %5d  ", b.steps) + pad(trials, -48)
            + String(format: " %.2e%@ %.2e  %.2e  %+.3f", exp(b.lnLR), b.edge == nil ? " " : "*", rule,
                     exp(fitted.lnPeak(d: b.d, steps: b.steps, batch: config.batch)), residual) + "\n"
    }
    if shapes.contains(where: { $0.edge != nil }) {
        out += "* best at the edge of the LRs tried: the true best may lie beyond it\n"
    }
    out += String(format: "fitted:  ln lr = %.3f %+.3f·ln(d/128) %+.3f·ln(steps/300) %+.3f (batch %d); residuals rms %.3f over %d shapes\n",
                  fit.intercept, fit.width, fit.steps, fit.batchTerm, config.batch, fit.rms, shapes.count)
    out += String(format: "config:  ln lr = %.3f %+.3f·ln(d/128) %+.3f·ln(steps/300) %+.3f",
                  config.lr.intercept, config.lr.width, config.lr.steps, fit.batchTerm)
    return out
}

/// The ladder's result: per rung its counting, approach 2's and 3's exponent a, and its runs
/// (ended of all, and how many were copied from another rung).
public func ladderSummaryTable(_ results: [LadderRungResult]) -> String {
    var lines = [pad("rung", -18) + " " + pad("counting", -22) + " " + pad("a (approach 2)", -20) + " " + pad("a (approach 3)", -20)
                 + " runs (copied)"]
    for r in results {
        func f(_ e: Estimate?) -> String { e?.formatted() ?? "–" }
        lines.append(pad("\(r.index): \(r.name)", -18) + " " + pad("\(r.flopCount.rawValue) C, \(r.params.rawValue) N", -22) + " "
                     + pad(f(r.approach2A), -20) + " " + pad(f(r.approach3A), -20) + " \(r.finished)/\(r.runs) (\(r.copied))")
    }
    return lines.joined(separator: "\n")
}

/// `predict` before any training: what was fitted, the forecast table, the fit's notes, and the
/// runs that would test the forecast (`sizes` as given) with their estimated time on `workers`.
public func predictionText(_ p: PredictionPlan, budget: Double, resamples: Int, sizes: String, workers: Int) -> String {
    var out = "sweep \(p.sweep), schedule \(p.schedule.rawValue): \(p.fittedRuns) runs up to \(formatFLOPs(p.fit.budgets.last ?? 0)); "
        + "forecast at C = \(formatFLOPs(budget)) (95% intervals, \(resamples) resamples)\n"
    out += forecastTable(p.forecasts, tokensPerStep: p.tokensPerStep)
    for note in p.fit.notes { out += "note: \(note)\n" }
    out += "to train: sweep \(p.config.name), approach \(p.centred.approach)'s N_opt × \(sizes): "
        + p.plan.runs.map { "d=\($0.model.d) L=\($0.model.layers) N=\(Fit.formatCount(Double($0.parameters))) \($0.steps) steps" }
            .joined(separator: ", ")
        + "; \(formatFLOPs(p.plan.trainedFLOPs)) FLOPs, estimated \(formatDuration(estimatedSeconds(p, workers: workers))) on \(workers) workers"
    return out
}

/// The forecast against the trained runs.
public func renderScore(_ score: PredictionScore) -> String {
    let m = score.measured
    let vertex: String
    if let v = m.vertexParameters {
        vertex = "; vertex of the runs' parabola N = \(Fit.formatCount(v))"
    } else {
        vertex = "; the runs' parabola has no minimum inside them, so N_opt is scored against the best run's N"
    }
    let best = String(format: "%.4f", m.bestLoss)
    var out = "outcome at C = \(formatFLOPs(score.budget)): best run \(m.bestRun) loss \(best) at N = \(Fit.formatCount(m.bestParameters))"
    out += vertex + "\n"
    for row in score.rows {
        var line = "  approach \(row.forecast.approach): "
        if let error = row.lossError, let loss = row.forecast.loss {
            line += String(format: "loss forecast %.4f, error %+.4f nats", loss.value, error) + covered(row.lossCovered) + "; "
        }
        line += "N_opt forecast \(Fit.formatCount(row.forecast.parameters.value)), measured/forecast "
        line += String(format: "×%.2f", row.parameterRatio) + covered(row.parametersCovered)
        out += line + "\n"
    }
    return out
}

private func covered(_ c: Bool?) -> String {
    switch c {
    case true?: return " (inside its 95% interval)"
    case false?: return " (outside its 95% interval)"
    case nil: return ""
    }
}

/// A worker process's account of itself: what its runs came to and its share of time writing metrics.
public func workerReportLine(_ result: WorkerProcessResult) -> String {
    let r = result.report
    return String(format: "%@: %d done (and %d read from them), %d diverged, %d failed, %d stopped; %.2f s of %.1f s writing metrics (%.2f%%)",
                  result.name, r.done, r.shared, r.diverged, r.failed, r.stopped, r.secondsWriting, r.seconds,
                  100 * r.secondsWriting / max(r.seconds, 1e-9))
}
