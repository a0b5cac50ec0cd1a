// The ladder's page: the exponent a of every rung with its intervals (in the style of Porian et
// al. 2024, Figure 1), each rung's isoFLOP profiles in small multiples, and a table of rungs.
import Fit
import Foundation
import Tensor

/// One rung as the page draws it.
public struct LadderRungView: Sendable {
    public var name: String
    /// What the rung changes, for people ("flop_count = kaplan, params = nonemb").
    public var changes: String
    /// Its counting: "Kaplan C, N_nonemb".
    public var counting: String
    public var runs: Int
    public var finished: Int
    public var copied: Int
    /// a of approaches 2 and 3 with 95% intervals, and b of approach 2; nil where not fitted.
    public var approach2A: Estimate?
    public var approach3A: Estimate?
    public var approach2B: Estimate?
    public var points: [IsoFLOPPoint]
    public var parabolas: [IsoFLOPProfile]

    public init(name: String, changes: String, counting: String, runs: Int, finished: Int, copied: Int,
                approach2A: Estimate?, approach3A: Estimate?, approach2B: Estimate?,
                points: [IsoFLOPPoint], parabolas: [IsoFLOPProfile]) {
        self.name = name
        self.changes = changes
        self.counting = counting
        self.runs = runs
        self.finished = finished
        self.copied = copied
        self.approach2A = approach2A
        self.approach3A = approach3A
        self.approach2B = approach2B
        self.points = points
        self.parabolas = parabolas
    }
}

/// The ladder's page and figures.
public struct LadderReportModel: Sendable {
    public var title: String
    public var rungs: [LadderRungView]
    public var generated: Date
    public var notes: [String]

    public init(title: String, rungs: [LadderRungView], generated: Date = Date(), notes: [String] = []) {
        self.title = title
        self.rungs = rungs
        self.generated = generated
        self.notes = notes
    }

    /// a per rung with 95% intervals (approach 2 circles, approach 3 squares beside them) and
    /// the reference lines of Kaplan et al. (0.73) and Chinchilla (0.50).
    public func exponentFigure() -> Figure {
        let n = Double(max(rungs.count, 1))
        var series: [Series] = []
        var notes: [Annotation] = []
        for (k, (name, offset, marker)) in [("approach 2", -0.08, Marker.circle), ("approach 3", 0.08, Marker.square)].enumerated() {
            let color = Color.categorical[k]
            var xs: [Double] = [], ys: [Double] = []
            for (i, r) in rungs.enumerated() {
                guard let e = k == 0 ? r.approach2A : r.approach3A, e.value.isFinite else { continue }
                let x = Double(i) + offset
                xs.append(x)
                ys.append(e.value)
                if let i = e.interval95, i.lower.isFinite, i.upper.isFinite {
                    series.append(Series(xs: [x, x], ys: [i.lower, i.upper], color: color, lineWidth: 1.6, marker: .none))
                }
            }
            series.append(.scatter("\(name), 95% interval", xs: xs, ys: ys, color: color, marker: marker))
        }
        for (label, value, dash) in [("Kaplan a = 0.73", kaplanExponents.a, [2.0, 3.0]), ("Chinchilla a = 0.50", chinchillaExponents.a, [6.0, 4.0])] {
            series.append(Series(name: label, xs: [-0.5, n - 0.5], ys: [value, value], color: .gray, lineWidth: 1.3,
                                 dash: dash, marker: .none))
        }
        for (i, r) in rungs.enumerated() {
            notes.append(Annotation("\(i): \(r.name)", at: .fraction(x: (Double(i) + 0.5) / n, y: 0.04), anchor: .middle, fontSize: 10))
        }
        let panel = Panel(title: "exponent a of N_opt ∝ C^a, rung by rung", x: AxisSpec("rung", range: -0.5...(n - 0.5)),
                          y: AxisSpec("a"), series: series, annotations: notes, legend: .outsideRight)
        return Figure(title: "From Kaplan's setup to Chinchilla's, one change at a time", panels: [panel], columns: 1,
                      plotWidth: max(360, 110 * n), plotHeight: 280)
    }

    /// Each rung's isoFLOP profiles (final loss against N under the rung's counting), with the
    /// parabolas of approach 2 and their minima; one small panel per rung.
    public func profilesFigure() -> Figure {
        let budgets = Array(Set(rungs.flatMap { $0.points.map(\.budget) })).sorted()
        func color(_ c: Double) -> Color {
            guard let lo = budgets.first, let hi = budgets.last, hi > lo else { return Color.sequential(0.3) }
            return Color.sequential(logOf: c, low: lo, high: hi)
        }
        var panels: [Panel] = []
        for (i, r) in rungs.enumerated() {
            var series: [Series] = []
            for c in Array(Set(r.points.map(\.budget))).sorted() {
                let pts = r.points.filter { $0.budget == c }.sorted { $0.parameters < $1.parameters }
                series.append(.scatter(xs: pts.map(\.parameters), ys: pts.map(\.loss), color: color(c), size: 3.5))
                if let p = r.parabolas.first(where: { $0.budget == c }), let lo = pts.first?.parameters, let hi = pts.last?.parameters {
                    let grid = logSpace(lo / 1.2, hi * 1.2, count: 40)
                    series.append(Series(xs: grid, ys: grid.map(p.loss(atParameters:)), color: color(c), lineWidth: 1.2, fitsRange: false))
                    if p.optimalParameters.isFinite {
                        series.append(.scatter(xs: [p.optimalParameters], ys: [p.lossAtOptimum], color: color(c), marker: .diamond, size: 4.5))
                    }
                }
            }
            panels.append(Panel(title: "\(i): \(r.name) (\(r.counting))", x: AxisSpec("N", scale: .log10),
                                y: AxisSpec("final loss"), series: series, legend: .hidden))
        }
        return Figure(title: "IsoFLOP profiles of every rung (colour: budget, light to dark as C grows)",
                      panels: panels, columns: 3, plotWidth: 250, plotHeight: 180)
    }

    /// The page, with the two figures' SVG inlined.
    public func html(figures: [String]) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
            + "<title>\(xmlEscape(title))</title>\n<style>\n\(reportCSS)</style>\n</head>\n<body>\n"
        out += "<h1>\(xmlEscape(title))</h1>\n<p class=\"written\">Written \(utcStamp(generated)).</p>\n"
        if !notes.isEmpty { out += "<ul class=\"notes\">\n" + notes.map { "<li>\(xmlEscape($0))</li>\n" }.joined() + "</ul>\n" }
        out += "<h2 id=\"ladder\">The ladder</h2>\n<p>Each rung changes one thing in the rung before it, from Kaplan et al. "
            + "(2020)'s setup toward Chinchilla's (Hoffmann et al. 2022), as Porian et al. (2024) did; each is fitted under its "
            + "own counting of C and N. Intervals are 95% residual-bootstrap intervals.</p>\n"
        let rows = rungs.enumerated().map { i, r in
            [String(i), r.name, r.changes, r.counting, "\(r.finished)/\(r.runs)", String(r.copied),
             r.approach2A?.formatted() ?? "–", r.approach3A?.formatted() ?? "–", r.approach2B?.formatted() ?? "–"]
        }
        out += tableHTML(header: ["rung", "name", "changes", "counting", "runs ended", "copied", "a, approach 2",
                                  "a, approach 3", "b, approach 2"], textColumns: [1, 2, 3], rows: rows, id: "ladder-table")
        let captions = [
            "Exponent a of N_opt ∝ C^a per rung: approach 2 (circles) and approach 3 (squares) with 95% intervals; "
                + "dotted: Kaplan et al.'s 0.73, dashed: Chinchilla's 0.50.",
            "IsoFLOP profiles of each rung: final loss against N (as the rung counts it), one colour per budget, with the "
                + "parabolas of approach 2 and their minima (diamonds).",
        ]
        for (i, svg) in figures.enumerated() where i < ladderFigureFiles.count {
            out += "<figure>\n\(svg)<figcaption>\(xmlEscape(captions[i])) <a href=\"\(ladderFigureFiles[i])\">SVG</a></figcaption>\n</figure>\n"
        }
        return out + "</body>\n</html>\n"
    }
}

/// The figure files `writeLadderReport` writes next to index.html.
public let ladderFigureFiles = ["ladder-exponents.svg", "ladder-profiles.svg"]

/// Writes the ladder's `index.html` and its figures into `dir` (each file atomically); returns the paths.
@discardableResult
public func writeLadderReport(_ model: LadderReportModel, to dir: String) throws -> [String] {
    let svgs = [model.exponentFigure(), model.profilesFigure()].enumerated().map { i, f in f.svg(id: "l\(i + 1)") }
    return try writePage(dir, figures: Array(zip(ladderFigureFiles, svgs)), index: model.html(figures: svgs))
}
