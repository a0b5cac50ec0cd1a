// The SVG chart library: well-formed output, escaping, ticks and the data-to-pixel mapping.
import Foundation
import FoundationXML
import XCTest
import Report

/// Parses XML and collects the element names and the text content.
final class XMLProbe: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var text = ""
    var error: Error?

    static func parse(_ s: String) -> XMLProbe {
        let probe = XMLProbe()
        let parser = XMLParser(data: Data(s.utf8))
        parser.delegate = probe
        if !parser.parse() { probe.error = parser.parserError ?? NSError(domain: "xml", code: 1) }
        return probe
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append(name)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
}

final class ChartTests: XCTestCase {
    func testLogTicksOverTwoDecadesLabelPowersOfTen() {
        let t = ticks(low: 1e11, high: 1e13, scale: .log10)
        XCTAssertEqual(t.filter(\.isMajor).map(\.value), [1e11, 1e12, 1e13])
        XCTAssertEqual(t.filter(\.isMajor).map(\.label), ["1e11", "1e12", "1e13"])
        XCTAssertEqual(t.filter { !$0.isMajor }.count, 16)
        XCTAssertTrue(t.filter { !$0.isMajor }.contains { abs($0.value - 2e11) < 1 })
    }

    func testLogTicksUnderTwoDecadesLabelOneAndThree() {
        let t = ticks(low: 1e11, high: 5e12, scale: .log10)
        XCTAssertEqual(t.filter(\.isMajor).map(\.label), ["1e11", "3e11", "1e12", "3e12"])
        for tick in t where tick.isMajor {
            XCTAssertEqual(tick.value, Double(tick.label)!, accuracy: tick.value * 1e-12)
        }
    }

    func testLogTicksDensifyForNarrowRanges() {
        XCTAssertEqual(ticks(low: 3, high: 7, scale: .log10).filter(\.isMajor).map(\.label), ["3", "4", "5", "6", "7"])
        XCTAssertEqual(ticks(low: 0.5, high: 50, scale: .log10).filter(\.isMajor).map(\.label), ["1", "3", "10", "30"])
        // Many decades: every k-th power of ten labelled.
        let wide = ticks(low: 1e2, high: 1e14, scale: .log10).filter(\.isMajor).map(\.label)
        XCTAssertEqual(wide, ["1000", "1e6", "1e9", "1e12"])
    }

    func testLinearTicks() {
        let t = ticks(low: 0, high: 1, scale: .linear)
        XCTAssertEqual(t.map(\.label), ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(ticks(low: 2.93, high: 3.61, scale: .linear).map(\.label), ["3.0", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6"])
        XCTAssertEqual(ticks(low: 0, high: 4e6, scale: .linear).map(\.label), ["0", "1e6", "2e6", "3e6", "4e6"])
    }

    func testMappingRoundTrip() {
        let log = AxisMapping(low: 1e11, high: 1e13, pixelLow: 300, pixelHigh: 20, scale: .log10)
        XCTAssertEqual(log.pixel(1e11), 300, accuracy: 1e-9)
        XCTAssertEqual(log.pixel(1e13), 20, accuracy: 1e-9)
        XCTAssertEqual(log.pixel(1e12), 160, accuracy: 1e-9)
        XCTAssertTrue(log.pixel(0).isNaN)
        let lin = AxisMapping(low: -2, high: 6, pixelLow: 66, pixelHigh: 426, scale: .linear)
        XCTAssertEqual(lin.pixel(0), 156, accuracy: 1e-9)
        for v in [1.3e11, 4.4e11, 2e12, 9.9e12] {
            XCTAssertEqual(log.value(atPixel: log.pixel(v)), v, accuracy: v * 1e-12)
        }
        for p in stride(from: 0.0, through: 500, by: 37) {
            XCTAssertEqual(lin.pixel(lin.value(atPixel: p)), p, accuracy: 1e-9)
            XCTAssertEqual(log.pixel(log.value(atPixel: p)), p, accuracy: 1e-9)
        }
    }

    func testSVGIsWellFormedAndEscapesText() throws {
        let odd = "loss <b> & \"quoted\" 'x'"
        let panel = Panel(title: odd, x: AxisSpec("N & <C>", scale: .log10), y: AxisSpec("y"),
                          series: [Series(name: odd, xs: [1e5, 1e6, 1e7], ys: [4, 3.5, 3.2], marker: .square),
                                   .scatter("pts", xs: [2e5, -1, 5e6], ys: [3.9, 3, .nan], color: .gray)],
                          annotations: [Annotation("a = 0.51 [0.45, 0.57] & <ok>", at: .fraction(x: 0.1, y: 0.1))],
                          legend: .topRight)
        let svg = Figure(title: odd, panels: [panel, panel], columns: 2).svg(id: "t")
        let probe = XMLProbe.parse(svg)
        XCTAssertNil(probe.error, "\(String(describing: probe.error))")
        XCTAssertEqual(probe.elements.first, "svg")
        XCTAssertTrue(probe.text.contains(odd))
        XCTAssertTrue(probe.text.contains("a = 0.51 [0.45, 0.57] & <ok>"))
        XCTAssertFalse(svg.contains("<b>"))
        XCTAssertTrue(svg.contains("viewBox=\"0 0 "))
        // Two panels, two clip paths with distinct ids.
        XCTAssertTrue(svg.contains("id=\"t-clip0\"") && svg.contains("id=\"t-clip1\""))
    }

    func testLineBreaksAtNonPositiveValuesOnLogAxis() {
        let panel = Panel(x: AxisSpec("x", scale: .log10), y: AxisSpec("y"),
                          series: [Series(xs: [1, 2, -3, 4, 5], ys: [1, 2, 3, 4, 5])], legend: .hidden)
        let svg = Figure(panels: [panel]).svg()
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
    }

    func testSequentialColoursRunDarkToLight() {
        XCTAssertEqual(Color.sequential(0).hex, "#440154")
        XCTAssertEqual(Color.sequential(1).hex, "#bddf26")
        XCTAssertEqual(Color.sequential(logOf: 1e11, low: 1e11, high: 1e13), Color.sequential(0))
        XCTAssertEqual(Color.sequential(logOf: 1e12, low: 1e11, high: 1e13), Color.sequential(0.5))
        XCTAssertEqual(Color(hex: "#1f77b4").hex, "#1f77b4")
    }
}

final class LayoutTests: XCTestCase {
    func testOutsideLegendWidensTheFigureInsteadOfCoveringData() {
        let series = [Series(name: "a rather long legend entry", xs: [1, 2], ys: [1, 2])]
        let outside = Figure(panels: [Panel(x: AxisSpec("x"), y: AxisSpec("y"), series: series, legend: .outsideRight)])
        let inside = Figure(panels: [Panel(x: AxisSpec("x"), y: AxisSpec("y"), series: series, legend: .topLeft)])
        XCTAssertGreaterThan(outside.size.width, inside.size.width + 100)
        // The plot area of both starts and ends at the same place: the legend sits to its right.
        let m = outside.panels[0].mappings(left: 66, top: 30, width: outside.plotWidth, height: outside.plotHeight)
        let legendText = outside.svg().components(separatedBy: ">a rather long legend entry<")[0]
        let x = Double(legendText.components(separatedBy: "<text x=\"").last!.prefix { $0 != "\"" })!
        XCTAssertGreaterThan(x, m.x.pixelHigh)
    }

    func testAutomaticRangeCoversTheDataWithAMargin() {
        let panel = Panel(x: AxisSpec("x", scale: .log10), y: AxisSpec("y"),
                          series: [Series(xs: [1e11, 1e13], ys: [2, 4]),
                                   Series(xs: [1, 1e20], ys: [-100, 100], fitsRange: false)])
        let m = panel.mappings(left: 0, top: 0, width: 100, height: 100)
        XCTAssertLessThan(m.x.low, 1e11)
        XCTAssertGreaterThan(m.x.low, 5e10)
        XCTAssertGreaterThan(m.x.high, 1e13)
        XCTAssertLessThan(m.x.high, 2e13)
        XCTAssertLessThan(m.y.low, 2)
        XCTAssertGreaterThan(m.y.low, 1.5)
        XCTAssertEqual(m.y.pixelLow, 100)
    }
}
