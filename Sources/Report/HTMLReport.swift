// The HTML report: one self-contained page (inline CSS, figures inlined as SVG and also written
// beside it as files) with the fitted exponents, the figures and the table of runs.
import Foundation
import Tensor

/// The figure files `writeReport` writes next to index.html, in page order.
public let reportFigureFiles = ["fig1-isoflop.svg", "fig2-optima.svg", "fig3-curves.svg", "fig4-schedules.svg"]

let reportCSS = """
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; margin: 2em auto; max-width: 1180px;
       padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
.notes { color: #555; margin: 0.3em 0 1em 0; padding-left: 1.2em; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #444; font-size: 0.92em; max-width: 60em; }
table { border-collapse: collapse; font-size: 0.86em; margin: 0.6em 0; }
th, td { padding: 3px 9px; border-bottom: 1px solid #e5e5e5; text-align: right; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
tr:hover td { background: #fafae8; }
.runs { max-height: 40em; overflow-y: auto; display: inline-block; border: 1px solid #e5e5e5; }
a { color: #1f5fa8; }
.progress { background: #fff8e0; border: 1px solid #ecd98f; padding: 0.5em 0.9em; }
.progress ul { margin: 0.3em 0; padding-left: 1.2em; }
.written { color: #666; font-size: 0.9em; }
"""

/// Thousands separated by commas: 238,208.
func grouped(_ v: Double) -> String {
    guard v.isFinite else { return "–" }
    let digits = String(Int64(v.rounded()).magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
        out.append(ch)
    }
    return (v < 0 ? "-" : "") + out
}

func fixed(_ v: Double, _ digits: Int) -> String {
    v.isFinite ? String(format: "%.\(digits)f", v) : "–"
}

func tableHTML(header: [String], textColumns: Set<Int> = [], rows: [[String]], id: String? = nil) -> String {
    var out = "<table\(id.map { " id=\"\($0)\"" } ?? "")>\n<thead><tr>"
    for (i, h) in header.enumerated() {
        out += "<th\(textColumns.contains(i) ? " class=\"text\"" : "")>\(xmlEscape(h))</th>"
    }
    out += "</tr></thead>\n<tbody>\n"
    for row in rows {
        out += "<tr>" + row.enumerated().map { i, cell in
            "<td\(textColumns.contains(i) ? " class=\"text\"" : "")>\(xmlEscape(cell))</td>"
        }.joined() + "</tr>\n"
    }
    return out + "</tbody></table>\n"
}

extension ReportModel {
    /// The page's text, with the given figures' SVG inlined (in `reportFigureFiles` order).
    public func html(figures: [String]) -> String {
        let pending = pendingRuns
        // A plain meta refresh: the page reloads itself from disk while the sweep runs, no server.
        let refresh = pending.isEmpty ? "" : refreshSeconds.map { "<meta http-equiv=\"refresh\" content=\"\($0)\"/>\n" } ?? ""
        var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n" + refresh
            + "<title>\(xmlEscape(title))</title>\n<style>\n\(reportCSS)</style>\n</head>\n<body>\n"
        out += "<h1>\(xmlEscape(title))</h1>\n"
        out += progressHTML(pending: pending)
        if !notes.isEmpty {
            out += "<ul class=\"notes\">\n" + notes.map { "<li>\(xmlEscape($0))</li>\n" }.joined() + "</ul>\n"
        }

        out += "<h2 id=\"exponents\">Fitted exponents</h2>\n"
        out += "<p>N_opt ∝ C<sup>a</sup> and D_opt ∝ C<sup>b</sup>, with intervals. Chinchilla (Hoffmann et al. 2022) "
            + "found a ≈ b ≈ 0.50; Kaplan et al. (2020) a ≈ 0.73. Approach 1 takes, at each FLOP count, the run "
            + "with the lowest loss (the envelope of Figure 3); approach 2 the minima of parabolas fitted to each "
            + "IsoFLOP profile (Figure 1); approach 3 fits L(N, D) = E + A/N<sup>α</sup> + B/D<sup>β</sup> to "
            + "every final loss.</p>\n"
        var expRows: [[String]] = []
        for s in schedules {
            for ap in s.approaches {
                expRows.append([s.schedule, ap.name, ap.a.formatted(), ap.b.formatted(), String(format: "%.3g", ap.nCoefficient),
                                String(format: "%.3g", ap.dCoefficient)])
            }
        }
        out += tableHTML(header: ["schedule", "approach", "a (N_opt)", "b (D_opt)", "N_opt coefficient", "D_opt coefficient"],
                         textColumns: [0, 1], rows: expRows, id: "exponents-table")
        let verdicts = holdoutVerdicts
        if !verdicts.isEmpty {
            out += "<p id=\"holdout\">" + verdicts.map(xmlEscape).joined(separator: "<br/>\n") + "</p>\n"
        }

        let captions4 = [
            "Figure 1. IsoFLOP profiles: final loss of each run against its parameter count N, one colour per "
                + "FLOP budget C, with the parabola in ln N fitted to each budget and its minimum (diamond).",
            "Figure 2. Compute-optimal parameters N_opt and tokens D_opt against compute C, with the power law "
                + "fitted by each approach (exponent and interval in the corner). Grey lines show the Chinchilla "
                + "(dashed) and Kaplan (dotted) exponents drawn through the middle of our approach-2 line.",
            "Figure 3. Training loss (debiased EMA) of every run against FLOPs spent, coloured by budget; "
                + "the black line is approach 1's envelope, the lowest eval loss of any run at each FLOP count, "
                + "from which it reads the best run.",
            "Figure 4. Left and centre: per-budget optimum of each schedule (approach 2 where available) and its "
                + "exponent. Right: one model trained under cosine cycles of 1×, 1.5×, 2× and 5× its steps; a longer "
                + "cycle than the run leaves the learning rate high and the final loss worse.",
        ]
        let captions = captions4 + (holdoutSchedules.isEmpty ? [] : [
            "Figure \(captions4.count + 1). The held-out check: each fit redone without its largest budget (diamonds) and "
                + "without its two largest (triangles), and its forecast there with the 95% bootstrap interval (bars), against "
                + "what the runs measured (black: the best run's loss; the full fit's parabola vertex for N, else the best run's N). "
                + "Approach 2's loss is its frontier L_min(C) = E + k·C^−γ through the parabolas' minima; approach 3's is its law "
                + "at the optimum.",
        ]) + (lrCurves.isEmpty ? [] : [
            "Figure \(figureFiles.count). The learning-rate pilot (isoflop tune): final loss of each shape of the smallest budgets "
                + "against its peak LR, one line per shape coloured by N; the diamond marks the best LR (the vertex "
                + "of the parabola in ln lr through the best LR and its neighbours) from which the LR rule was fitted.",
        ])
        let headings = ["IsoFLOP curves", "Optimal size and data", "Training curves", schedulesHeading]
            + (holdoutSchedules.isEmpty ? [] : ["Forecasts against the runs"]) + (lrCurves.isEmpty ? [] : ["Learning rate"])
        let files = figureFiles
        for (i, svg) in figures.enumerated() where i < files.count {
            out += "<h2 id=\"figure\(i + 1)\">\(xmlEscape(headings[i]))</h2>\n<figure>\n\(svg)"
                + "<figcaption>\(xmlEscape(captions[i])) <a href=\"\(files[i])\">SVG</a></figcaption>\n</figure>\n"
            if i == 3 { out += comparisonTable() }
        }

        out += "<h2 id=\"runs\">Every run</h2>\n<div class=\"runs\">\n"
        let runRows = runs.sorted { ($0.schedule, $0.budget, $0.parameters) < ($1.schedule, $1.budget, $1.parameters) }.map {
            [String($0.id), $0.schedule, formatFLOPs($0.budget), $0.shape, grouped(Double($0.parameters)),
             grouped(Double($0.tokens)), fixed($0.epochs, 2), scientific($0.peakLR),
             fixed($0.finalEvalLoss ?? $0.finalTrainLoss ?? .nan, 4), fixed($0.wallSeconds ?? 0, 1), $0.status]
        }
        out += tableHTML(header: ["run", "schedule", "budget C", "shape", "N", "tokens", "epochs", "lr", "final loss",
                                  "time (s)", "status"], textColumns: [1, 3, 10], rows: runRows, id: "run-table")
        return out + "</div>\n</body>\n</html>\n"
    }

    /// When the page was written, and while runs are still to come, which ones, by budget.
    func progressHTML(pending: [RunsTableRow]) -> String {
        let stamp = written.map { "Written \(utcStamp($0))." } ?? ""
        guard !pending.isEmpty else {
            return stamp.isEmpty ? "" : "<p class=\"written\" id=\"written\">\(stamp) Every run of the sweep has ended.</p>\n"
        }
        let done = runs.filter { $0.status == "done" }.count
        let budgets = Set(runs.map(\.budget)).sorted()
        let waiting = Set(pending.map(\.budget))
        let complete = budgets.filter { !waiting.contains($0) }
        var out = "<div class=\"progress\" id=\"progress\">\n<p><b>The sweep is still running</b>: \(done) of \(runs.count) runs done, "
            + "\(pending.count) still to come. \(stamp)"
            + (refreshSeconds.map { " This page reloads itself every \($0) s." } ?? "") + "</p>\n"
        out += "<p>Budgets complete: " + (complete.isEmpty ? "none yet" : complete.map(scientific).joined(separator: ", "))
            + ". Still to come:</p>\n<ul>\n"
        for c in waiting.sorted() {
            let left = pending.filter { $0.budget == c }.sorted { ($0.schedule, $0.parameters) < ($1.schedule, $1.parameters) }
            let total = runs.filter { $0.budget == c }.count
            let names = left.map { "\($0.shape) \($0.schedule)" + ($0.status == "running" ? " (running)" : "") }
            out += "<li>C = \(formatFLOPs(c)): \(total - left.count) of \(total) ended; missing \(xmlEscape(names.joined(separator: ", ")))</li>\n"
        }
        return out + "</ul>\n</div>\n"
    }

    /// Per budget, each schedule's optimum (approach 2 where available) side by side.
    func comparisonTable() -> String {
        let reps = schedules.compactMap { s in representative(s).map { (s.schedule, $0) } }
        guard !reps.isEmpty else { return "" }
        let budgets = Array(Set(reps.flatMap { $0.1.optima.map(\.budget) })).sorted()
        var header = ["budget C"]
        for (name, _) in reps { header += ["\(name) N_opt", "\(name) loss"] }
        var rows: [[String]] = budgets.map { c in
            var row = [formatFLOPs(c)]
            for (_, ap) in reps {
                let o = ap.optima.first { $0.budget == c }
                row += [o.map { grouped($0.parameters) } ?? "–", o?.loss.map { fixed($0, 4) } ?? "–"]
            }
            return row
        }
        var expRow = ["exponent a"]
        for (_, ap) in reps { expRow += [ap.a.formatted(), ""] }
        rows.append(expRow)
        return tableHTML(header: header, textColumns: [0], rows: rows, id: "comparison-table")
    }

    /// All figures in page order: four, and the LR pilot's when there is one.
    public func figures() throws -> [Figure] {
        [isoFLOPFigure(), optimaFigure(), try curvesFigure(), try scheduleFigure()]
            + (holdoutSchedules.isEmpty ? [] : [holdoutFigure()]) + (lrCurves.isEmpty ? [] : [lrFigure()])
    }
}

/// "2026-01-31 18:05:09 UTC".
func utcStamp(_ date: Date) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return f.string(from: date) + " UTC"
}

/// Writes `index.html` and the figure SVGs (`reportFigureFiles`) into `dir`, creating it if
/// needed, and returns the paths written. The page inlines the figures, so it opens from disk
/// without the SVG files or any network. Each file is written to a temporary name and renamed
/// into place, so a browser reloading the page during a rewrite sees the old page or the new one.
@discardableResult
public func writeReport(_ model: ReportModel, to dir: String) throws -> [String] {
    let svgs = try model.figures().enumerated().map { i, f in f.svg(id: "f\(i + 1)") }
    return try writePage(dir, figures: Array(zip(model.figureFiles, svgs)), index: model.html(figures: svgs))
}

/// Writes each figure's SVG under its name and the page as index.html into `dir` (created if
/// needed), each file atomically; returns the paths, index.html last.
func writePage(_ dir: String, figures: [(String, String)], index html: String) throws -> [String] {
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    } catch {
        throw ExportError.cannotCreateDirectory(path: dir, reason: error.localizedDescription)
    }
    var written: [String] = []
    for (name, svg) in figures {
        let path = (dir as NSString).appendingPathComponent(name)
        try writeText(svg, to: path)
        written.append(path)
    }
    let index = (dir as NSString).appendingPathComponent("index.html")
    try writeText(html, to: index)
    return written + [index]
}
