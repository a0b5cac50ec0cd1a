// The report's held-out figure: each fit's forecasts at its largest budgets, made without them,
// with 95% interval bars, against what the runs there measured.
import Fit
import Foundation
import Tensor

/// The figure file of the held-out check, written when a schedule has one.
public let holdoutFigureFile = "fig-holdout.svg"

extension ReportModel {
    /// Schedules whose fit tested its own forecasts, or whose forecast was trained.
    var holdoutSchedules: [ScheduleResult] {
        schedules.filter { !($0.holdout?.rows.isEmpty ?? true) || $0.predictions.contains { !$0.rows.isEmpty } }
    }

    /// Loss at the optimum and N_opt against C: the best run of every budget (black), each
    /// approach's forecast (colour; diamond one budget out, triangle two out) with its interval;
    /// where forecasts beyond the sweep were trained (`predict --train`), the full law's forecast
    /// at each (square) against the best of its runs (black square).
    public func holdoutFigure() -> Figure {
        var panels: [Panel] = []
        for s in holdoutSchedules {
            let check = s.holdout ?? HoldoutCheck()
            let budgets = Set(s.points.map(\.budget)).sorted()
            let best = budgets.compactMap { c in s.points.filter { $0.budget == c }.min { $0.loss < $1.loss } }
            var loss: [Series] = [.scatter("best run", xs: best.map(\.budget), ys: best.map(\.loss), color: .black)]
            var size: [Series] = [.scatter("measured (vertex, else best run)", xs: check.rows.map(\.measured.budget),
                                           ys: check.rows.map(\.measured.targetParameters), color: .black)]
            let scored = s.predictions.filter { !$0.rows.isEmpty }
            let trained = scored.flatMap(\.rows)
            if !scored.isEmpty {
                loss.append(.scatter("trained forecast: best run", xs: scored.map(\.budget), ys: scored.map(\.measured.bestLoss),
                                     color: .black, marker: .square, size: 5.5))
                size.append(.scatter("trained forecast: measured", xs: scored.map(\.budget), ys: scored.map(\.measured.targetParameters),
                                     color: .black, marker: .square, size: 5.5))
            }
            for (k, approach) in Set((check.rows + trained).map(\.forecast.approach)).sorted().enumerated() {
                let color = Color.categorical[(k + 1) % Color.categorical.count]
                for leftOut in [1, 2] {
                    let rows = check.rows.filter { $0.forecast.approach == approach && $0.leftOut == leftOut }
                    guard !rows.isEmpty else { continue }
                    // Side by side rather than on top of each other: a small shift in C per series.
                    forecastMarks(rows, name: "approach \(approach), \(leftOut == 1 ? "one budget" : "two budgets") out",
                                  shift: 1 + 0.06 * Double(2 * k + leftOut), color: color, marker: leftOut == 1 ? .diamond : .triangle,
                                  loss: &loss, size: &size)
                }
                let beyond = trained.filter { $0.forecast.approach == approach }
                if !beyond.isEmpty {
                    forecastMarks(beyond, name: "approach \(approach), trained forecast", shift: 1 + 0.06 * Double(2 * k + 1),
                                  color: color, marker: .square, loss: &loss, size: &size)
                }
            }
            // Beside the plot, not on it: the points fill the panel from top left to bottom right.
            panels.append(Panel(title: "\(s.schedule): loss at the optimum", x: AxisSpec("compute C (FLOPs)", scale: .log10),
                                y: AxisSpec("final loss"), series: loss, legend: .outsideRight))
            panels.append(Panel(title: "\(s.schedule): N_opt", x: AxisSpec("compute C (FLOPs)", scale: .log10),
                                y: AxisSpec("parameters N", scale: .log10), series: size, legend: .outsideRight))
        }
        let beyond = holdoutSchedules.contains { !$0.predictions.isEmpty }
        return Figure(title: "Forecasts made without the largest budgets" + (beyond ? ", and beyond the sweep (trained)" : "")
                      + ", against the runs there", panels: panels, columns: 2)
    }

    /// One line per schedule for the page's summary: how its law forecast its own largest budget.
    public var holdoutVerdicts: [String] {
        holdoutSchedules.flatMap { s in
            [s.holdout.map { "\(s.schedule): \($0.verdict)" }].compactMap { $0 } + s.predictions.map { "\(s.schedule): \($0.verdict)" }
        }
    }
}

/// Forecasts of `rows` (each at its budget × `shift`) with their interval bars in both panels:
/// the loss where a forecast has one (no series where none has), N_opt for every row.
private func forecastMarks(_ rows: [HoldoutRow], name: String, shift: Double, color: Color, marker: Marker,
                           loss: inout [Series], size: inout [Series]) {
    let withLoss = rows.filter { $0.forecast.loss != nil }
    if !withLoss.isEmpty {
        let xs = withLoss.map { $0.measured.budget * shift }
        loss.append(.scatter(name, xs: xs, ys: withLoss.map { $0.forecast.loss!.value }, color: color, marker: marker, size: 5.5))
        loss.append(intervalBars(xs: xs, intervals: withLoss.map { $0.forecast.loss?.interval95 }, color: color))
    }
    let xs = rows.map { $0.measured.budget * shift }
    size.append(.scatter(name, xs: xs, ys: rows.map(\.forecast.parameters.value), color: color, marker: marker, size: 5.5))
    size.append(intervalBars(xs: xs, intervals: rows.map(\.forecast.parameters.interval95), color: color))
}

/// Vertical bars from each interval's lower to upper end, as one series broken between bars.
private func intervalBars(xs: [Double], intervals: [Interval?], color: Color) -> Series {
    var bx: [Double] = [], by: [Double] = []
    for (x, i) in zip(xs, intervals) {
        guard let i else { continue }
        bx += [x, x, .nan]
        by += [i.lower, i.upper, .nan]
    }
    return Series(xs: bx, ys: by, color: color, lineWidth: 1.2)
}
