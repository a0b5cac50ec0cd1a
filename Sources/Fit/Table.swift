// The terminal table of a fit: our exponents with their intervals beside Chinchilla's and Kaplan's.
import Foundation
import Tensor

/// Renders reports (one per parameter convention) as plain text for a terminal.
public func renderTable(_ reports: [FitReport]) -> String {
    var out = ""
    let names = [1: "1 envelope", 2: "2 isoFLOP parabolas", 3: "3 parametric L(N,D)"]
    for (index, report) in reports.enumerated() {
        if index > 0 { out += "\n" }
        let budgets = report.budgets.map(formatFLOPs).joined(separator: ", ")
        let points = report.points.map { $0 == report.runs ? "" : " (\($0) shapes)" } ?? ""
        out += "N counts \(report.convention.label) parameters; \(report.runs) runs\(points), \(report.budgets.count) isoFLOP budgets (\(budgets))"
        out += report.bootstrapResamples > 0 ? "; bootstrap \(report.bootstrapResamples) resamples (\(report.bootstrapMethod?.rawValue ?? "runs"), approach 1: runs), seed \(report.seed)\n" : "\n"
        let header = [pad("approach", 21), pad("a (N_opt ∝ C^a)", 16), pad("95% interval", 16), pad("80% interval", 16),
                      pad("b (D_opt ∝ C^b)", 16), pad("95% interval", 16), pad("Chinchilla a", 13), "Kaplan a"]
        out += header.joined() + "\n"
        for row in report.exponents {
            out += pad(names[row.approach] ?? "\(row.approach)", 21)
            out += pad(fixed(row.a.value), 16) + pad(interval(row.a.interval95), 16) + pad(interval(row.a.interval80), 16)
            out += pad(fixed(row.b.value), 16) + pad(interval(row.b.interval95), 16)
            out += pad(String(format: "%.2f", row.chinchillaA), 13) + String(format: "%.2f", row.kaplanA) + "\n"
            if report.bootstrapResamples > 0 && row.bootstrapUsed < report.bootstrapResamples {
                out += "  (\(report.bootstrapResamples - row.bootstrapUsed) resamples could not be refitted and are not in the intervals)\n"
            }
        }
        if let p = report.approach3 { out += approach3Lines(p) }
        if let p = report.approach2 { out += approach2Lines(p, curvature: report.curvature) }
        for spread in report.seedSpreads ?? [] {
            out += "seeds: C=\(formatFLOPs(spread.budget)) N=\(formatCount(spread.parameters)): \(spread.seeds) seeds, loss "
                + String(format: "%.4f–%.4f (sd %.4f)\n", spread.lowest, spread.highest, spread.standardDeviation)
        }
        if let f = report.forecasts, !f.isEmpty {
            out += "forecasts beyond the runs (95% intervals):\n" + forecastTable(f)
        }
        if let h = report.holdout { out += holdoutLines(h) }
        for note in report.notes { out += "note: \(note)\n" }
    }
    return out
}

/// One row per forecast: approach, budget, N_opt, D_opt, the steps at `tokensPerStep` (where
/// given) and the loss at the optimum, each with its 95% interval.
public func forecastTable(_ forecasts: [Forecast], tokensPerStep: Double? = nil) -> String {
    var out = "  " + pad("approach", 10) + pad("at", 8) + pad("N_opt [95%]", 27) + pad("D_opt [95%]", 27)
        + (tokensPerStep == nil ? "" : pad("steps", 10)) + "loss [95%]\n"
    for f in forecasts {
        let loss = f.loss.map { fixed($0.value) + ($0.interval95.map { " " + interval($0) } ?? "") } ?? "–"
        out += "  " + pad("\(f.approach)", 10) + pad(formatFLOPs(f.budget), 8)
            + pad(formatCount(f.parameters.value) + " " + countInterval(f.parameters.interval95), 27)
            + pad(formatCount(f.tokens.value) + " " + countInterval(f.tokens.interval95), 27)
            + (tokensPerStep.map { pad(String(Int((f.tokens.value / $0).rounded())), 10) } ?? "") + loss + "\n"
    }
    return out
}

/// The held-out check as a table: each forecast beside what the left-out budget's runs measured.
private func holdoutLines(_ h: HoldoutCheck) -> String {
    var out = "held-out check: refit without the largest budget(s), forecast there, against the runs (95% intervals; "
        + "measured N is the full fit's vertex, * the best run's N where the vertex is not bracketed)\n"
    out += "  " + pad("fitted up to", 13) + pad("at", 7) + pad("approach", 9) + pad("loss forecast", 24) + pad("best run", 9)
        + pad("error", 8) + pad("N_opt forecast", 25) + pad("measured N", 11) + "ratio\n"
    for row in h.rows {
        let f = row.forecast
        let loss = f.loss.map { String(format: "%.3f ", $0.value) + interval($0.interval95) + mark(row.lossCovered) } ?? "–"
        let n = formatCount(f.parameters.value) + " " + countInterval(f.parameters.interval95) + mark(row.parametersCovered)
        out += "  " + pad(formatFLOPs(row.fittedUpTo), 13) + pad(formatFLOPs(row.measured.budget), 7) + pad("\(f.approach)", 9)
            + pad(loss, 24) + pad(String(format: "%.3f", row.measured.bestLoss), 9)
            + pad(row.lossError.map { String(format: "%+.3f", $0) } ?? "–", 8) + pad(n, 25)
            + pad(formatCount(row.measured.targetParameters) + (row.measured.vertexParameters == nil ? "*" : ""), 11)
            + String(format: "×%.2f", row.parameterRatio) + "\n"
    }
    for note in h.notes { out += "  note: \(note)\n" }
    out += "  " + h.verdict + "\n"
    return out
}

/// "" inside the interval, " out" outside, "" without one.
private func mark(_ covered: Bool?) -> String { covered == false ? " out" : "" }

/// Approach 3's law with intervals, the solvers side by side, and the optimum per budget.
private func approach3Lines(_ p: Approach3Summary) -> String {
    var out = "approach 3: L(N, D) = E + A/N^α + B/D^β, Huber δ = \(formatFLOPs(p.huberDelta ?? 1e-3)) on log loss, summed; "
        + "headline: \(solverName(p.solver))\n"
    var header = "  " + pad("", 3) + pad(solverName(p.solver), 12) + pad("95% interval", 22)
    if let c = p.comparison { header += solverName(c.solver) }
    out += header + "\n"
    let other = p.comparison?.law
    for (name, e, o) in [("E", p.E, other?.E), ("A", p.A, other?.A), ("B", p.B, other?.B), ("α", p.alpha, other?.alpha),
                         ("β", p.beta, other?.beta)] {
        out += "  " + pad(name, 3) + pad(String(format: "%.5g", e.value), 12) + pad(interval(e.interval95, format: "%.4g"), 22)
            + (o.map { String(format: "%.5g", $0) } ?? "") + "\n"
    }
    out += String(format: "  objective %.6g in %.2f s", p.objective, p.seconds) + " (\(p.detail))\n"
    if let c = p.comparison {
        out += "  \(solverName(c.solver)): " + String(format: "objective %.6g in %.2f s", c.objective, c.seconds) + " (\(c.detail))\n"
    }
    if let r = p.alphaBetaCorrelation { out += String(format: "  α–β correlation over the resamples: %.3f\n", r) }
    out += String(format: "  C ≈ %.3g N D\n", p.flopsPerParameterToken)
    for a in p.allocations {
        out += "  optimum at C=\(formatFLOPs(a.budget)): N=\(formatCount(a.parameters)) \(countInterval(a.parametersInterval95)) "
            + "D=\(formatCount(a.tokens)) \(countInterval(a.tokensInterval95)) " + String(format: "(%.1f tokens/parameter)\n", a.tokensPerParameter)
    }
    return out
}

/// Approach 2's optima with the vertex's place in the sampled sizes, and the curvature test.
private func approach2Lines(_ p: Approach2Fit, curvature: CurvatureTest?) -> String {
    var out = "approach 2 optima per budget (vertex position in the sampled ln N range, 0–1):"
    out += p.profiles.map {
        " \(formatFLOPs($0.budget)): N=\(formatCount($0.optimalParameters))"
            + ($0.included ? " (" + String(format: "%.2f", vertexPosition($0)) + (isOffCentre($0) ? ", off-centre)" : ")") : " (left out)")
    }.joined(separator: ";") + "\n"
    if let c = curvature {
        out += "approach 2 curvature: ln N_opt = c + a x + q x², x = ln C − mean: q = \(fixed(c.q.value)) \(interval(c.q.interval95)), "
            + "a at the centre \(fixed(c.centralA.value)) \(interval(c.centralA.interval95))\n"
        out += "  local exponents:" + c.localExponents.map {
            " \(formatFLOPs($0.lowerBudget))–\(formatFLOPs($0.upperBudget)) \(fixed($0.a.value)) \(interval($0.a.interval95))"
        }.joined(separator: ";") + "\n"
    }
    return out
}

/// The diagnostics of one fit in a few sentences (for the HTML report): approach 2's vertex
/// positions, curvature and local exponents; approach 3's α–β correlation and its two solvers.
public func diagnosticLines(_ report: FitReport) -> [String] {
    var lines: [String] = []
    if let p = report.approach2 {
        lines.append("approach 2 vertex position in each budget's sampled ln N range (0 smallest, 1 largest; outside 0.25–0.75 "
            + "is off-centre): " + p.profiles.filter(\.included).map {
                "\(formatFLOPs($0.budget)) \(String(format: "%.2f", vertexPosition($0)))\(isOffCentre($0) ? " (off-centre)" : "")"
            }.joined(separator: ", ")
            + (p.profiles.contains { $0.included && isOffCentre($0) }
               ? "; an off-centre grid biases the vertex toward the grid's centre: centre the sizes on the optimum" : ""))
    }
    if let c = report.curvature {
        lines.append("approach 2 curvature of ln N_opt in ln C: q = \(fixed(c.q.value)) \(interval(c.q.interval95))"
            + (c.curved ? ", the exponent changes across these budgets" : "") + "; local exponents "
            + c.localExponents.map { "\(formatFLOPs($0.lowerBudget))–\(formatFLOPs($0.upperBudget)) \(fixed($0.a.value)) \(interval($0.a.interval95))" }
                .joined(separator: ", "))
    }
    if let p = report.approach3 {
        var line = "approach 3 (\(solverName(p.solver))): E = \(String(format: "%.4g", p.E.value)), α = \(fixed(p.alpha.value)) "
            + "\(interval(p.alpha.interval95)), β = \(fixed(p.beta.value)) \(interval(p.beta.interval95))"
        if let r = p.alphaBetaCorrelation { line += String(format: ", α–β correlation %.3f", r) }
        if let c = p.comparison {
            line += "; \(solverName(c.solver)) " + String(format: "gives α = %.3f, β = %.3f at objective %.6g (headline %.6g)",
                                                                  c.law.alpha, c.law.beta, c.objective, p.objective)
        }
        lines.append(line)
    }
    return lines
}

private func solverName(_ s: Approach3Solver) -> String { s == .lbfgs ? "L-BFGS grid" : "VarPro" }

private func countInterval(_ i: Interval?) -> String {
    guard let i else { return "" }
    return "[\(formatCount(i.lower)), \(formatCount(i.upper))]"
}

private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}

private func fixed(_ v: Double) -> String { String(format: "%.3f", v) }

private func interval(_ i: Interval?, format: String = "%.3f") -> String {
    guard let i else { return "–" }
    return "[" + String(format: format, i.lower) + ", " + String(format: format, i.upper) + "]"
}
