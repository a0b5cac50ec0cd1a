// A fit's test of its own forecasts: refit without the largest budget (and without the two
// largest), forecast each left-out budget's optimum, and set it beside what the runs measured there.
import Foundation
import Tensor

/// What the runs of one budget measured: the best run and, where the full fit's parabola brackets
/// its minimum, approach 2's vertex.
public struct MeasuredOptimum: Codable, Equatable, Sendable {
    public var budget: Double
    public var bestLoss: Double
    public var bestParameters: Double
    public var bestTokens: Double
    public var bestRun: String
    /// The full fit's parabola vertex at this budget (nil where it was left out of approach 2).
    public var vertexParameters: Double?
    public var vertexTokens: Double?
    public var vertexLoss: Double?

    /// The N a forecast of N_opt is scored against: the vertex where there is one, else the best run's.
    public var targetParameters: Double { vertexParameters ?? bestParameters }
}

/// One approach's forecast at one left-out budget, scored.
public struct HoldoutRow: Codable, Equatable, Sendable {
    /// How many of the largest budgets the refit left out (1 or 2).
    public var leftOut: Int
    /// The largest budget the refit saw.
    public var fittedUpTo: Double
    public var forecast: Forecast
    public var measured: MeasuredOptimum
    /// forecast loss − best run's loss (nats); nil without a loss forecast.
    public var lossError: Double?
    /// measured N (vertex, else best run) / forecast N_opt.
    public var parameterRatio: Double
    /// Whether the 95% intervals contain the measured values (nil without an interval).
    public var lossCovered: Bool?
    public var parametersCovered: Bool?
}

public struct HoldoutCheck: Codable, Equatable, Sendable {
    public var rows: [HoldoutRow]
    /// Refits that could not be made, and why.
    public var notes: [String]

    public init(rows: [HoldoutRow] = [], notes: [String] = []) {
        self.rows = rows
        self.notes = notes
    }

    /// One line for a report's summary: how the forecasts one budget out fared.
    public var verdict: String {
        let one = rows.filter { $0.leftOut == 1 }
        guard let first = one.first else { return "held-out check: no forecast could be made" }
        return "held-out check: fitted up to \(formatFLOPs(first.fittedUpTo)), forecast at \(formatFLOPs(first.measured.budget)) "
            + "against the runs there: " + one.map(\.summary).joined(separator: "; ")
    }
}

extension HoldoutRow {
    /// "approach 2 loss +0.071 nats (inside its 95% interval), N_opt ×1.35 (outside its 95% interval)".
    public var summary: String {
        var s = "approach \(forecast.approach) "
        if let e = lossError {
            s += String(format: "loss %+.3f nats", e) + coverage(lossCovered) + ", "
        }
        return s + String(format: "N_opt ×%.2f", parameterRatio) + coverage(parametersCovered)
    }

    private func coverage(_ covered: Bool?) -> String {
        switch covered {
        case true?: return " (inside its 95% interval)"
        case false?: return " (outside its 95% interval)"
        case nil: return ""
        }
    }
}

/// Refits approaches 2 and 3 (those of `options.approaches`) on the runs of all but the largest
/// one and two isoFLOP budgets, with the same bootstrap, and scores each forecast against the
/// left-out budget's runs. `full` is the fit on every run, whose parabolas give the vertices.
func holdoutCheck(_ runs: [FitRun], groups budgets: [Double], full: FitReport, options: FitOptions) -> HoldoutCheck {
    var check = HoldoutCheck(rows: [], notes: [])
    let points = SeedGroups(runs, how: options.seeds).points
    let measured = budgets.map { measuredOptimum(points, budget: $0, full: full, convention: options.convention) }
    for leftOut in [1, 2] where budgets.count - leftOut >= 2 {
        let cutoff = budgets[budgets.count - leftOut - 1], ahead = Array(budgets.suffix(leftOut))
        let kept = runs.filter { fitBudget(of: $0) <= cutoff * (1 + 1e-6) }
        var sub = options
        sub.holdout = false
        sub.approaches = options.approaches.filter { $0 >= 2 }
        sub.forecastBudgets = ahead
        sub.allocationBudgets = []
        if sub.solver == .both { sub.solver = .varpro }
        options.stage?("held-out refit on the budgets up to \(formatFLOPs(cutoff))")
        let report: FitReport
        do { report = try fitScalingLaws(kept, options: sub) } catch {
            check.notes.append("fitted up to \(formatFLOPs(cutoff)): \(error)")
            continue
        }
        check.notes += report.notes.filter { $0.contains("skipped") }.map { "fitted up to \(formatFLOPs(cutoff)): " + $0 }
        for forecast in report.forecasts ?? [] {
            guard let m = measured[budgets.firstIndex(of: forecast.budget)!] else { continue }
            let lossError = forecast.loss.map { $0.value - m.bestLoss }
            check.rows.append(HoldoutRow(
                leftOut: leftOut, fittedUpTo: cutoff, forecast: forecast, measured: m, lossError: lossError,
                parameterRatio: m.targetParameters / forecast.parameters.value,
                lossCovered: forecast.loss?.interval95.map { $0.lower <= m.bestLoss && m.bestLoss <= $0.upper },
                parametersCovered: forecast.parameters.interval95.map { $0.lower <= m.targetParameters && m.targetParameters <= $0.upper }))
        }
    }
    check.rows.sort { ($0.leftOut, $0.measured.budget, $0.forecast.approach) < ($1.leftOut, $1.measured.budget, $1.forecast.approach) }
    return check
}

/// A run's budget for choosing the refit's runs: its isoFLOP budget, else the FLOPs it used, else 6ND.
private func fitBudget(of run: FitRun) -> Double {
    run.budget > 0 ? run.budget : run.flops > 0 ? run.flops : 6 * run.parameters * run.tokens
}

private func measuredOptimum(_ points: [FitRun], budget: Double, full: FitReport,
                             convention: ParameterConvention) -> MeasuredOptimum? {
    let members = points.filter { abs($0.budget - budget) <= 1e-6 * budget }
    guard let best = members.min(by: { $0.finalLoss < $1.finalLoss }), let n = best.parameters(for: convention) else { return nil }
    let profile = full.approach2?.profiles.first { $0.budget == budget && $0.included }
    return MeasuredOptimum(budget: budget, bestLoss: best.finalLoss, bestParameters: n, bestTokens: best.tokens, bestRun: best.id,
                           vertexParameters: profile?.optimalParameters, vertexTokens: profile?.optimalTokens,
                           vertexLoss: profile?.lossAtOptimum)
}

/// A forecast trained: the runs at the forecast's budget (its optimum and neighbours) against
/// each approach's forecast there.
public struct PredictionScore: Codable, Equatable, Sendable {
    public var budget: Double
    public var measured: MeasuredOptimum
    /// The vertex of the parabola in ln N through the runs, when it opens upward and lies inside them.
    public var bracketed: Bool
    /// Runs (seed groups) trained at the budget.
    public var runCount: Int
    public var rows: [HoldoutRow]

    /// One line for a report's summary: the forecast against the runs trained to test it.
    public var verdict: String {
        guard !rows.isEmpty else { return "trained forecast at \(formatFLOPs(budget)): no forecast to score" }
        return "trained forecast at \(formatFLOPs(budget)) (the law fitted to every budget) against its \(runCount) runs: "
            + rows.map(\.summary).joined(separator: "; ")
    }
}

/// Scores `forecasts` (all at one budget) against `runs` trained there: the best run's loss, and
/// the vertex of the parabola in ln N through the runs (three sizes or more) where it lies inside
/// their range, else the best run's N.
public func scorePrediction(_ forecasts: [Forecast], runs: [FitRun], convention: ParameterConvention = .total,
                            seeds: SeedAggregate = .median) -> PredictionScore? {
    let points = SeedGroups(runs, how: seeds).points
    guard let budget = forecasts.first?.budget, let best = points.min(by: { $0.finalLoss < $1.finalLoss }),
          let bestN = best.parameters(for: convention) else { return nil }
    let x = points.compactMap { $0.parameters(for: convention) }.map { log($0) }, y = points.map(\.finalLoss)
    var vertex: Double? = nil, vertexLoss: Double? = nil
    if Set(x).count >= 3, let p = fitParabola(x: x, y: y, weights: [Double](repeating: 1, count: x.count)), p.c2 > 0,
       p.vertex >= x.min()!, p.vertex <= x.max()! {
        vertex = exp(p.vertex)
        vertexLoss = p.value(at: p.vertex)
    }
    let measured = MeasuredOptimum(budget: budget, bestLoss: best.finalLoss, bestParameters: bestN, bestTokens: best.tokens,
                                   bestRun: best.id, vertexParameters: vertex, vertexTokens: vertex.flatMap { v in
                                       // D at the vertex from C = k N D, k as the best run used it.
                                       convention == .total && best.flops > 0 ? budget / (best.flops / (best.parameters * best.tokens)) / v : nil },
                                   vertexLoss: vertexLoss)
    let rows = forecasts.map { f in
        HoldoutRow(leftOut: 0, fittedUpTo: 0, forecast: f, measured: measured, lossError: f.loss.map { $0.value - best.finalLoss },
                   parameterRatio: measured.targetParameters / f.parameters.value,
                   lossCovered: f.loss?.interval95.map { $0.lower <= best.finalLoss && best.finalLoss <= $0.upper },
                   parametersCovered: f.parameters.interval95.map {
                       $0.lower <= measured.targetParameters && measured.targetParameters <= $0.upper })
    }
    return PredictionScore(budget: budget, measured: measured, bracketed: vertex != nil, runCount: points.count, rows: rows)
}
