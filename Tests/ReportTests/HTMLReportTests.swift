// The HTML report built from a synthetic sweep: every figure and the run table are there, the
// page is well-formed, and odd text is escaped.
import Fit
import Foundation
import XCTest
import Report
import Tensor

final class HTMLReportTests: XCTestCase {
    /// Where the report is written: a temporary folder, or ISOFLOP_REPORT_DIR to keep it for a look.
    func outputDir(_ name: String) -> String {
        if let dir = ProcessInfo.processInfo.environment["ISOFLOP_REPORT_DIR"] { return dir + "/" + name }
        return NSTemporaryDirectory() + "isoflop-report-tests-\(ProcessInfo.processInfo.processIdentifier)/" + name
    }

    func testReportHoldsEveryFigureAndTheRunTable() throws {
        let model = Synthetic.model()
        let dir = outputDir("synthetic")
        let written = try writeReport(model, to: dir)
        XCTAssertEqual(written.map { ($0 as NSString).lastPathComponent }, reportFigureFiles + ["index.html"])
        let html = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 4)
        for title in ["IsoFLOP profiles", "Compute-optimal model size", "Training curves against compute",
                      "Matched against fixed", "Every run", "Chinchilla a = 0.50", "Kaplan a = 0.73", "cycle 5×"] {
            XCTAssertTrue(html.contains(title), "missing \(title)")
        }
        for file in reportFigureFiles {
            XCTAssertTrue(html.contains("href=\"\(file)\""))
            let svg = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
            XCTAssertNil(XMLProbe.parse(svg).error, file)
        }
        // One table row per run, plus the header.
        let table = html.components(separatedBy: "id=\"run-table\"")[1].components(separatedBy: "</table>")[0]
        XCTAssertEqual(table.components(separatedBy: "<tr>").count - 1, model.runs.count + 1)
        // No network: nothing is fetched from elsewhere.
        XCTAssertFalse(html.contains("http://") && html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http://"))
        XCTAssertFalse(html.contains("https://"))
        let probe = XMLProbe.parse(html)
        XCTAssertNil(probe.error, "\(String(describing: probe.error))")
        // The fitted exponent of the synthetic data (true value 0.5) is shown.
        let a2 = model.schedules[0].approaches[1].a
        XCTAssertEqual(a2.value, 0.5, accuracy: 0.03)
        XCTAssertTrue(html.contains(a2.formatted()))
    }

    /// A half-finished sweep: the page says when it was written and which runs are missing, by
    /// budget, and reloads itself; once every run has ended it no longer reloads.
    func testPartialReportSaysWhatIsMissingAndRefreshes() throws {
        let model = Synthetic.partial()
        let dir = outputDir("partial")
        try writeReport(model, to: dir)
        let html = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        XCTAssertNil(XMLProbe.parse(html).error)
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 4, "every figure is drawn from the finished budgets")
        XCTAssertTrue(html.contains("<meta http-equiv=\"refresh\" content=\"60\"/>"))
        XCTAssertTrue(html.contains("Written 2027-01-15 08:00:00 UTC."))
        let pending = model.runs.filter { $0.status != "done" }
        XCTAssertEqual(pending.count, model.runs.count / 2)
        XCTAssertTrue(html.contains("\(model.runs.count - pending.count) of \(model.runs.count) runs done, \(pending.count) still to come"))
        XCTAssertTrue(html.contains("Budgets complete: 1e12, 3e12."))
        let progress = html.components(separatedBy: "id=\"progress\"")[1].components(separatedBy: "</div>")[0]
        for budget in ["1e13", "3e13"] {
            let line = try XCTUnwrap(progress.components(separatedBy: "<li>C = \(budget): ").dropFirst().first)
            let missing = pending.filter { formatFLOPs($0.budget) == budget }
            XCTAssertTrue(line.hasPrefix("0 of \(missing.count) ended; missing "), line)
            for r in missing { XCTAssertTrue(line.contains(r.shape + " " + r.schedule), "\(budget): \(r.shape) \(r.schedule)") }
        }
        XCTAssertTrue(progress.contains("(running)"))
        // Finished: stamped, no reload even though a refresh period is set.
        var done = Synthetic.model()
        done.written = model.written
        done.refreshSeconds = 60
        let final = done.html(figures: [])
        XCTAssertFalse(final.contains("http-equiv"))
        XCTAssertFalse(final.contains("id=\"progress\""))
        XCTAssertTrue(final.contains("Written 2027-01-15 08:00:00 UTC. Every run of the sweep has ended."))
        // Half done but written by `isoflop report` alone (no refresh asked): no reload.
        var still = model
        still.refreshSeconds = nil
        XCTAssertFalse(still.html(figures: []).contains("http-equiv"))
    }

    func testOddTextIsEscaped() throws {
        var model = Synthetic.model(schedules: ["a<b & \"c\" 'd'"], budgets: [1e12, 1e13], sizes: 3)
        model.title = "<script>alert(1)</script>"
        model.notes = ["x < y && y > z"]
        model.runs[0].status = "d<64> & L\"2\""
        let html = model.html(figures: try model.figures().enumerated().map { $0.element.svg(id: "f\($0.offset)") })
        XCTAssertFalse(html.contains("<script>"))
        XCTAssertFalse(html.contains("a<b"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("a&lt;b &amp; &quot;c&quot; &apos;d&apos;"))
        XCTAssertTrue(html.contains("d&lt;64&gt; &amp; L&quot;2&quot;"))
        let probe = XMLProbe.parse(html)
        XCTAssertNil(probe.error)
        XCTAssertTrue(probe.text.contains("x < y && y > z"))
    }

    func testEmptyModelStillWritesAValidPage() throws {
        let model = ReportModel()
        let html = model.html(figures: try model.figures().map { $0.svg() })
        XCTAssertNil(XMLProbe.parse(html).error)
        XCTAssertTrue(html.contains("no data"))
    }

    /// Figure 1 draws the fit's parabolas and minima, figure 3 the envelope approach 1 fitted.
    func testFiguresDrawTheFitsParabolasAndEnvelope() throws {
        let model = Synthetic.model()
        let schedule = try XCTUnwrap(model.schedules.first)
        XCTAssertFalse(schedule.envelope.isEmpty)
        let curves = try model.curvesFigure().panels[0].series
        let envelope = try XCTUnwrap(curves.first { $0.name == "envelope (approach 1)" })
        XCTAssertEqual(envelope.xs, schedule.envelope.map(\.flops))
        XCTAssertEqual(envelope.ys, schedule.envelope.map(\.loss))
        let profiles = model.isoFLOPFigure().panels[0].series
        let p = try XCTUnwrap(schedule.parabolas.first)
        let minimum = try XCTUnwrap(profiles.first { $0.xs == [p.optimalParameters] })
        XCTAssertEqual(minimum.ys, [p.lossAtOptimum])
        // Without a fitted envelope there is no envelope line.
        var bare = model
        for i in bare.schedules.indices { bare.schedules[i].envelope = [] }
        XCTAssertFalse(try bare.curvesFigure().panels[0].series.contains { $0.name == "envelope (approach 1)" })
    }

    func testScientificAndEstimateFormatting() {
        XCTAssertEqual(scientific(3e11), "3e11")
        XCTAssertEqual(scientific(2.5e12), "2.5e12")
        XCTAssertEqual(scientific(9.99e12), "1e13")
        XCTAssertEqual(Estimate(value: 0.512, interval95: Interval(lower: 0.449, upper: 0.571)).formatted(), "0.51 [0.45, 0.57]")
        // Without a bootstrap the value stands for both ends, as the report has always shown it.
        XCTAssertEqual(Estimate(value: 0.5).formatted(digits: 3), "0.500 [0.500, 0.500]")
    }
}
