// The learning-rate panel: final loss against peak LR for every shape of a learning-rate pilot
// (`isoflop tune`), one panel per budget, each shape's best LR marked.
import Foundation
import Tensor

/// One shape of the pilot at one budget: its final loss at each peak LR tried.
public struct LRCurve: Equatable, Sendable {
    public var budget: Double
    /// "d=64 L=1 h=32".
    public var shape: String
    public var parameters: Double
    public var lrs: [Double]
    /// Final losses, in the order of `lrs`; a diverged run is infinite and not drawn.
    public var losses: [Double]
    /// The best LR (the parabola's vertex), drawn as a diamond on the curve's lowest point's level.
    public var bestLR: Double?
    /// The schedule piloted: "matched" (the cosine's peak) or "wsd" (its constant rate).
    public var schedule: String

    public init(budget: Double, shape: String, parameters: Double, lrs: [Double], losses: [Double], bestLR: Double? = nil,
                schedule: String = "matched") {
        self.schedule = schedule
        self.budget = budget
        self.shape = shape
        self.parameters = parameters
        self.lrs = lrs
        self.losses = losses
        self.bestLR = bestLR
    }
}

/// The LR figure's file beside index.html.
public let lrFigureFile = "fig5-lr.svg"

extension ReportModel {
    /// The figure files of this report in page order: the four of every report, the held-out
    /// check's when a fit made one, and the LR panel's when the store holds a pilot.
    public var figureFiles: [String] {
        reportFigureFiles + (holdoutSchedules.isEmpty ? [] : [holdoutFigureFile]) + (lrCurves.isEmpty ? [] : [lrFigureFile])
    }

    /// Final loss against peak LR per shape, one panel per budget, shapes coloured by N.
    public func lrFigure() -> Figure {
        let ns = lrCurves.map(\.parameters)
        let lo = ns.min() ?? 1, hi = ns.max() ?? 1
        var panels: [Panel] = []
        let schedules = ["matched", "wsd"].filter { s in lrCurves.contains { $0.schedule == s } }
        let groups = schedules.flatMap { s in Set(lrCurves.filter { $0.schedule == s }.map(\.budget)).sorted().map { (schedule: s, budget: $0) } }
        for (schedule, c) in groups {
            var series: [Series] = []
            for curve in lrCurves.filter({ $0.budget == c && $0.schedule == schedule }).sorted(by: { $0.parameters < $1.parameters }) {
                let color = hi > lo ? Color.sequential(logOf: curve.parameters, low: lo, high: hi) : Color.sequential(0.3)
                let order = curve.lrs.indices.filter { curve.losses[$0].isFinite }.sorted { curve.lrs[$0] < curve.lrs[$1] }
                series.append(Series(name: curve.shape, xs: order.map { curve.lrs[$0] }, ys: order.map { curve.losses[$0] },
                                     color: color, lineWidth: 1.3, marker: .circle))
                if let best = curve.bestLR, let floor = order.map({ curve.losses[$0] }).min() {
                    series.append(.scatter(xs: [best], ys: [floor], color: color, marker: .diamond, size: 5.5))
                }
            }
            // The wsd pilot's rates are its constant (stable) rate, not a cosine's peak.
            let title = schedules.count > 1 || schedule != "matched" ? "\(schedule), C = \(formatFLOPs(c))" : "C = \(formatFLOPs(c))"
            panels.append(Panel(title: title, x: AxisSpec(schedule == "wsd" ? "stable learning rate" : "peak learning rate", scale: .log10),
                                y: AxisSpec("final loss"), series: series, legend: .outsideRight))
        }
        return Figure(title: "Learning-rate pilot: final loss against peak LR", panels: panels, columns: 2)
    }
}
