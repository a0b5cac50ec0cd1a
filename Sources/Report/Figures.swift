// The report's figures, each built from the ReportModel as a Figure that renders to SVG.
import Foundation
import Tensor

/// Reference exponents drawn beside ours: Chinchilla (Hoffmann et al. 2022) N_opt ∝ C^0.50 and
/// D_opt ∝ C^0.50; Kaplan et al. 2020 N_opt ∝ C^0.73 (their compute-efficient frontier) and
/// therefore D_opt ∝ C^0.27.
public let chinchillaExponents = (a: 0.50, b: 0.50)
public let kaplanExponents = (a: 0.73, b: 0.27)

/// "3e11", "2.5e12": two significant digits in scientific form.
public func scientific(_ v: Double) -> String {
    guard v.isFinite, v != 0 else { return v.isNaN ? "–" : "0" }
    let e = Int(floor(log10(abs(v)) + 1e-9))
    var m = String(format: "%.1f", v / pow(10, Double(e)))
    if m == "10.0" { return "1e\(e + 1)" }
    if m.hasSuffix(".0") { m.removeLast(2) }
    return "\(m)e\(e)"
}

/// Points spaced evenly in log between two positive values.
func logSpace(_ lo: Double, _ hi: Double, count: Int) -> [Double] {
    let (a, b) = (log(lo), log(hi))
    return (0..<count).map { exp(a + (b - a) * Double($0) / Double(count - 1)) }
}

extension ReportModel {
    var allBudgets: [Double] {
        Array(Set(schedules.flatMap { $0.points.map(\.budget) } + curves.map(\.budget))).sorted()
    }

    func budgetColor(_ c: Double) -> Color {
        let b = allBudgets
        guard let lo = b.first, let hi = b.last, hi > lo else { return Color.sequential(0.3) }
        return Color.sequential(logOf: c, low: lo, high: hi)
    }

    /// Figure 1: final loss against N for each budget, with the fitted parabolas and their minima,
    /// one panel per schedule.
    public func isoFLOPFigure() -> Figure {
        var panels: [Panel] = []
        for s in schedules {
            var series: [Series] = []
            for c in Array(Set(s.points.map(\.budget))).sorted() {
                let pts = s.points.filter { $0.budget == c }.sorted { $0.parameters < $1.parameters }
                let color = budgetColor(c)
                series.append(.scatter("C = \(formatFLOPs(c))", xs: pts.map(\.parameters), ys: pts.map(\.loss), color: color))
                if let p = s.parabolas.first(where: { $0.budget == c }), let lo = pts.first?.parameters,
                   let hi = pts.last?.parameters {
                    let grid = logSpace(lo / 1.25, hi * 1.25, count: 60)
                    series.append(Series(xs: grid, ys: grid.map(p.loss(atParameters:)), color: color, lineWidth: 1.4, fitsRange: false))
                    let n = p.optimalParameters
                    if n.isFinite {
                        series.append(.scatter(xs: [n], ys: [p.lossAtOptimum], color: color, marker: .diamond, size: 5.5))
                    }
                }
            }
            if !s.parabolas.isEmpty {
                series.append(.scatter("fitted minimum", xs: [], ys: [], color: .gray, marker: .diamond, size: 5.5))
            }
            panels.append(Panel(title: "\(s.schedule) schedule", x: AxisSpec("parameters N", scale: .log10),
                                y: AxisSpec("final loss"), series: series, legend: .outsideRight))
        }
        return Figure(title: "IsoFLOP profiles: final loss against model size at fixed compute",
                      panels: panels, columns: 2)
    }

    /// Figure 2: N_opt and D_opt against C with each approach's power law and exponent interval,
    /// and the Chinchilla and Kaplan slopes drawn through the middle of our fitted line.
    public func optimaFigure() -> Figure {
        var panels: [Panel] = []
        let markers: [Marker] = [.circle, .square, .triangle, .diamond]
        for s in schedules {
            let budgets = Array(Set(s.points.map(\.budget) + s.approaches.flatMap { $0.optima.map(\.budget) })).sorted()
            guard let cLo = budgets.first, let cHi = budgets.last else { continue }
            let grid = logSpace(cLo / 2, cHi * 2, count: 40)
            let cMid = sqrt(cLo * cHi)
            for tokens in [false, true] {
                var series: [Series] = []
                var notes: [Annotation] = []
                for (k, ap) in s.approaches.enumerated() {
                    let color = Color.categorical[k % Color.categorical.count]
                    let marker = markers[k % markers.count]
                    if !ap.optima.isEmpty {
                        series.append(.scatter(xs: ap.optima.map(\.budget),
                                               ys: ap.optima.map { tokens ? $0.tokens : $0.parameters },
                                               color: color, marker: marker))
                    }
                    let line = grid.map { tokens ? ap.optimalTokens(budget: $0) : ap.optimalParameters(budget: $0) }
                    series.append(Series(name: ap.name, xs: grid, ys: line, color: color, lineWidth: 1.8,
                                         marker: .none, fitsRange: ap.optima.isEmpty))
                    let e = tokens ? ap.b : ap.a
                    notes.append(Annotation("\(ap.name): \(tokens ? "b" : "a") = \(e.formatted())",
                                            at: .fraction(x: 0.03, y: 0.08 + 0.075 * Double(k)), color: color))
                }
                if let ref = s.approaches.first(where: { $0.name.contains("2") }) ?? s.approaches.first {
                    let anchor = tokens ? ref.optimalTokens(budget: cMid) : ref.optimalParameters(budget: cMid)
                    let refs = tokens ? [("Chinchilla b = 0.50", chinchillaExponents.b, [6.0, 4.0]),
                                         ("Kaplan b = 0.27", kaplanExponents.b, [2.0, 3.0])]
                                      : [("Chinchilla a = 0.50", chinchillaExponents.a, [6.0, 4.0]),
                                         ("Kaplan a = 0.73", kaplanExponents.a, [2.0, 3.0])]
                    for (name, slope, dash) in refs {
                        series.append(Series(name: name, xs: grid, ys: grid.map { anchor * pow($0 / cMid, slope) },
                                             color: .gray, lineWidth: 1.3, dash: dash, fitsRange: false))
                    }
                }
                panels.append(Panel(title: "\(s.schedule): \(tokens ? "D_opt (tokens)" : "N_opt (parameters)")",
                                    x: AxisSpec("compute C (FLOPs)", scale: .log10),
                                    y: AxisSpec(tokens ? "optimal tokens D_opt" : "optimal parameters N_opt", scale: .log10),
                                    series: series, annotations: notes, legend: .outsideRight))
            }
        }
        return Figure(title: "Compute-optimal model size and data against compute", panels: panels, columns: 2)
    }

    /// Figure 3: every run's smoothed training loss against FLOPs, coloured by budget, with the
    /// envelope approach 1 fitted (the lowest eval loss at each FLOP count), one panel per schedule.
    public func curvesFigure() throws -> Figure {
        var panels: [Panel] = []
        var names = schedules.map(\.schedule)
        for c in curves where !names.contains(c.schedule) { names.append(c.schedule) }
        for name in names {
            var series: [Series] = []
            var cloudX: [Double] = [], cloudY: [Double] = []
            var labelled = Set<Double>()
            for run in curves.filter({ $0.schedule == name }).sorted(by: { $0.budget < $1.budget }) {
                let xs = run.rows.map(\.flops)
                let ys = try debiasedEMA(run.rows.map(\.trainLoss), weight: curveSmoothing)
                cloudX += xs
                cloudY += ys
                let label = labelled.insert(run.budget).inserted ? "C = \(formatFLOPs(run.budget))" : nil
                series.append(Series(name: label, xs: xs, ys: ys, color: budgetColor(run.budget), lineWidth: 1.1, opacity: 0.85))
            }
            if let envelope = schedules.first(where: { $0.schedule == name })?.envelope, !envelope.isEmpty {
                series.append(Series(name: "envelope (approach 1)", xs: envelope.map(\.flops), ys: envelope.map(\.loss),
                                     color: .black, lineWidth: 2.4))
                // It is eval loss, which may lie below the training curves: the ranges include it.
                cloudX += envelope.map(\.flops)
                cloudY += envelope.map(\.loss)
            }
            // Every run starts near ln V; showing the loss up to 1.5 × the best keeps the end of
            // training, where the runs differ, from being squeezed into a thin band.
            // The x range follows: from the first point inside the y range.
            var yRange: ClosedRange<Double>? = nil, xRange: ClosedRange<Double>? = nil
            if let lo = cloudY.filter({ $0.isFinite && $0 > 0 }).min(), let hi = cloudY.filter(\.isFinite).max(), hi > lo {
                let top = min(hi * 1.03, lo * 1.5)
                yRange = (lo / 1.03)...top
                let shown = zip(cloudX, cloudY).filter { $0.0 > 0 && $0.1 <= top }.map(\.0)
                if let x0 = shown.min(), let x1 = cloudX.max(), x1 > x0 { xRange = (x0 / 1.15)...(x1 * 1.15) }
            }
            panels.append(Panel(title: "\(name) schedule", x: AxisSpec("FLOPs so far", scale: .log10, range: xRange),
                                y: AxisSpec("training loss (EMA \(curveSmoothing))", scale: .log10, range: yRange),
                                series: series, legend: .outsideRight))
        }
        return Figure(title: "Training curves against compute", panels: panels, columns: 2)
    }

    /// The approach whose per-budget optima stand for a schedule in comparisons: approach 2
    /// (parabola minima) where present, else the first with optima.
    func representative(_ s: ScheduleResult) -> ApproachResult? {
        s.approaches.first { $0.name.contains("2") && !$0.optima.isEmpty } ?? s.approaches.first { !$0.optima.isEmpty }
    }

    /// The heading of figure 4, naming the schedules it draws ("Matched against fixed
    /// schedules" for the main job's two).
    public var schedulesHeading: String {
        let names = schedules.map(\.schedule)
        if Set(names) == ["matched", "fixed"] { return "Matched against fixed schedules" }
        guard names.count > 1 else { return names.isEmpty ? "Schedules" : "The \(names[0]) schedule" }
        return "Schedules side by side: " + names.dropLast().joined(separator: ", ") + " and " + names.last!
    }

    /// Figure 4: the schedules side by side (per-budget optimal N and loss, with exponents) and
    /// the horizon experiment (loss against steps for cosine cycles of several lengths).
    public func scheduleFigure() throws -> Figure {
        var nSeries: [Series] = [], lossSeries: [Series] = []
        var notes: [Annotation] = []
        let markers: [Marker] = [.circle, .square, .triangle, .diamond]
        for (k, s) in schedules.enumerated() {
            guard let ap = representative(s) else { continue }
            let color = Color.categorical[k % Color.categorical.count]
            let opt = ap.optima.sorted { $0.budget < $1.budget }
            nSeries.append(Series(name: "\(s.schedule) (\(ap.name))", xs: opt.map(\.budget), ys: opt.map(\.parameters),
                                  color: color, lineWidth: 1.2, dash: [4, 3], marker: markers[k % markers.count]))
            lossSeries.append(Series(name: s.schedule, xs: opt.map(\.budget), ys: opt.map { $0.loss ?? .nan }, color: color,
                                     lineWidth: 1.4, marker: markers[k % markers.count]))
            notes.append(Annotation("\(s.schedule): a = \(ap.a.formatted())",
                                    at: .fraction(x: 0.03, y: 0.08 + 0.075 * Double(k)), color: color))
        }
        var horizonSeries: [Series] = []
        for (k, h) in horizon.sorted(by: { $0.cycle < $1.cycle }).enumerated() {
            horizonSeries.append(Series(name: "cycle \(String(format: "%g", h.cycle))×", xs: h.steps, ys: h.loss,
                                        color: Color.categorical[k % Color.categorical.count], lineWidth: 1.5))
        }
        let empty = [Annotation("no data", at: .fraction(x: 0.5, y: 0.5), anchor: .middle, color: .gray, fontSize: 13)]
        return Figure(title: schedulesHeading + ", and the cost of an overlong cosine cycle", panels: [
            Panel(title: "optimal N per budget", x: AxisSpec("compute C (FLOPs)", scale: .log10),
                  y: AxisSpec("N_opt", scale: .log10), series: nSeries,
                  annotations: nSeries.isEmpty ? empty : notes, legend: .bottomRight),
            Panel(title: "loss at the optimum", x: AxisSpec("compute C (FLOPs)", scale: .log10),
                  y: AxisSpec("loss"), series: lossSeries, annotations: lossSeries.isEmpty ? empty : [],
                  legend: .topRight),
            Panel(title: "horizon: one model, cosine cycle × its steps", x: AxisSpec("step"),
                  y: AxisSpec("held-out loss", scale: .log10), series: horizonSeries,
                  annotations: horizonSeries.isEmpty ? empty : [], legend: .topRight),
        ], columns: 3, plotWidth: 300, plotHeight: 240)
    }
}
