// The terminal table of a fit: our exponents with their intervals beside Chinchilla's and Kaplan's.
import Foundation

/// Renders reports (one per parameter convention) as plain text for a terminal.
public func renderTable(_ reports: [FitReport]) -> String {
    var out = ""
    let names = [1: "1 envelope", 2: "2 isoFLOP parabolas", 3: "3 parametric L(N,D)"]
    for (index, report) in reports.enumerated() {
        if index > 0 { out += "\n" }
        let budgets = report.budgets.map(formatFLOPs).joined(separator: ", ")
        out += "N counts \(report.convention.label) parameters; \(report.runs) runs, \(report.budgets.count) budgets (\(budgets))"
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
        if let p = report.approach3 {
            out += "approach 3: L(N, D) = E + A/N^α + B/D^β with\n"
            for (name, e) in [("E", p.E), ("A", p.A), ("B", p.B), ("α", p.alpha), ("β", p.beta)] {
                out += "  " + pad(name, 3) + pad(String(format: "%.5g", e.value), 12) + interval(e.interval95, format: "%.4g") + "\n"
            }
            out += String(format: "  Huber objective %.4g; %d of %d starts converged; C ≈ %.3g N D\n",
                          p.objective, p.convergedStarts, p.starts, p.flopsPerParameterToken)
            out += "  optimum:" + p.allocations.map {
                " C=\(formatFLOPs($0.budget)): N=\(formatCount($0.parameters)) D=\(formatCount($0.tokens)) "
                    + String(format: "(%.1f tokens/parameter)", $0.tokensPerParameter)
            }.joined(separator: ";") + "\n"
        }
        if let p = report.approach2 {
            out += "approach 2 optima per budget:"
            out += p.profiles.map {
                " \(formatFLOPs($0.budget)): N=\(formatCount($0.optimalParameters))\($0.included ? "" : " (left out)")"
            }.joined(separator: ";") + "\n"
        }
        for note in report.notes { out += "note: \(note)\n" }
    }
    return out
}

private func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}

private func fixed(_ v: Double) -> String { String(format: "%.3f", v) }

private func interval(_ i: Interval?, format: String = "%.3f") -> String {
    guard let i else { return "–" }
    return "[" + String(format: format, i.lower) + ", " + String(format: format, i.upper) + "]"
}
