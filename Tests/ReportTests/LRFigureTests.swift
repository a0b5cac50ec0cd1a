// The learning-rate pilot's figure: drawn as figure 5 only when the report has pilot curves.
import Foundation
import Report
import Tensor
import XCTest

final class LRFigureTests: XCTestCase {
    func testPilotCurvesAddFigureFive() throws {
        var model = Synthetic.model()
        let dir = NSTemporaryDirectory() + "isoflop-lr-figure-\(ProcessInfo.processInfo.processIdentifier)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(model.figureFiles, reportFigureFiles, "no pilot, no figure 5")
        XCTAssertEqual(try model.figures().count, 4)

        model.lrCurves = [
            LRCurve(budget: 3e11, shape: "d=32 L=1 h=32", parameters: 33e3, lrs: [2e-3, 4e-3, 8e-3], losses: [3.9, 3.8, 3.95], bestLR: 4.3e-3),
            // A diverged LR is left out of its line.
            LRCurve(budget: 3e11, shape: "d=64 L=1 h=32", parameters: 90e3, lrs: [1e-3, 2e-3, 4e-3], losses: [3.7, 3.6, .infinity]),
            LRCurve(budget: 6e11, shape: "d=32 L=1 h=32", parameters: 33e3, lrs: [3e-3, 6e-3, 1.2e-2], losses: [3.5, 3.4, 3.45], bestLR: 6.5e-3),
        ]
        let written = try writeReport(model, to: dir)
        XCTAssertEqual(written.map { ($0 as NSString).lastPathComponent }, reportFigureFiles + [lrFigureFile, "index.html"])
        let html = try String(contentsOfFile: dir + "/index.html", encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 5)
        XCTAssertTrue(html.contains("href=\"\(lrFigureFile)\"") && html.contains("Figure 5."))
        let svg = try String(contentsOfFile: dir + "/" + lrFigureFile, encoding: .utf8)
        XCTAssertNil(XMLProbe.parse(svg).error)
        for text in ["C = \(formatFLOPs(3e11))", "C = \(formatFLOPs(6e11))", "d=64 L=1 h=32", "peak learning rate"] {
            XCTAssertTrue(svg.contains(text), text)
        }
        let figure = model.lrFigure()
        XCTAssertEqual(figure.panels.count, 2)
        // Budget 3e11: two lines and one best-LR marker; the diverged point is not drawn.
        let first = figure.panels[0].series
        XCTAssertEqual(first.count, 3)
        XCTAssertEqual(first.first { $0.name == "d=64 L=1 h=32" }?.xs, [1e-3, 2e-3])
    }

    /// A wsd pilot ("<name>-wsd-tune") gets panels of its own, titled with its schedule and its
    /// rate called the stable rate; the cosine's panels say which schedule they are.
    func testWSDPilotCurvesGetTheirOwnPanels() {
        var model = Synthetic.model()
        model.lrCurves = [
            LRCurve(budget: 3e11, shape: "d=32 L=1 h=32", parameters: 33e3, lrs: [2e-3, 4e-3, 8e-3], losses: [3.9, 3.8, 3.95]),
            LRCurve(budget: 3e11, shape: "d=32 L=1 h=32", parameters: 33e3, lrs: [1e-3, 2e-3, 4e-3], losses: [3.85, 3.75, 3.9],
                    bestLR: 2.1e-3, schedule: "wsd"),
        ]
        let figure = model.lrFigure()
        XCTAssertEqual(figure.panels.map(\.title), ["matched, C = \(formatFLOPs(3e11))", "wsd, C = \(formatFLOPs(3e11))"])
        XCTAssertEqual(figure.panels[1].series.first?.xs, [1e-3, 2e-3, 4e-3], "the wsd panel draws the wsd pilot's rates only")
        XCTAssertEqual(figure.panels[1].x.label, "stable learning rate")
        XCTAssertEqual(figure.panels[0].x.label, "peak learning rate")
    }
}
