// The report in a real browser: headless Chromium (scripts/screenshot.sh) renders the page from
// disk. Skipped where no Chromium is installed.
import Foundation
import XCTest
import Report

final class ScreenshotTests: XCTestCase {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/screenshot.sh").path

    /// Runs the script; returns the PNG's bytes, or nil when the machine has no browser.
    func screenshot(of dir: String) throws -> Data? {
        let png = dir + "/shot.png"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script, dir, png, "1280", "1600"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if p.terminationStatus != 0 && message.contains("no Chromium found") { return nil }
        XCTAssertEqual(p.terminationStatus, 0, message)
        return try Data(contentsOf: URL(fileURLWithPath: png))
    }

    func testChromiumRendersTheCharts() throws {
        let base = NSTemporaryDirectory() + "isoflop-shot-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        // Without the run table the first 1600 pixels are the exponents and the charts.
        var model = Synthetic.model()
        model.runs = []
        try writeReport(model, to: base + "/full")
        // The same page without its figures, to tell charts from text.
        try FileManager.default.createDirectory(atPath: base + "/bare", withIntermediateDirectories: true)
        try model.html(figures: []).write(toFile: base + "/bare/index.html", atomically: true, encoding: .utf8)
        guard let full = try screenshot(of: base + "/full") else { throw XCTSkip("no Chromium on this machine") }
        guard let bare = try screenshot(of: base + "/bare") else { throw XCTSkip("no Chromium on this machine") }
        // PNG header: signature, then IHDR with width and height.
        XCTAssertEqual(Array(full.prefix(4)), [0x89, 0x50, 0x4e, 0x47])
        let be = { (o: Int) in full[o..<o + 4].reduce(0) { $0 << 8 | Int($1) } }
        XCTAssertEqual(be(16), 1280)
        XCTAssertEqual(be(20), 1600)
        // Charts are many coloured strokes: the PNG with them is far bigger than the text-only page.
        print("screenshot: full \(full.count) bytes, without figures \(bare.count)")
        XCTAssertGreaterThan(full.count, 2 * bare.count, "full \(full.count) bytes, without figures \(bare.count)")
    }

    /// A half-finished sweep (two of four budgets done, as `sweep run --report` writes it while
    /// running) renders too: the progress box on top, the charts of the finished budgets below.
    /// Its twin has every figure blanked to an empty SVG of the same size, so the two pages lay
    /// out alike and differ only by the charts' strokes.
    func testChromiumRendersAHalfFinishedSweep() throws {
        let base = NSTemporaryDirectory() + "isoflop-shot-partial-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let model = Synthetic.partial()
        try writeReport(model, to: base + "/partial")
        let blank = try reportFigureFiles.map { name -> String in
            let svg = try String(contentsOfFile: base + "/partial/" + name, encoding: .utf8)
            let open = try XCTUnwrap(svg.range(of: "<svg ")).lowerBound
            let end = try XCTUnwrap(svg[open...].firstIndex(of: ">"))
            return String(svg[open...end]) + "</svg>\n"
        }
        try FileManager.default.createDirectory(atPath: base + "/blank", withIntermediateDirectories: true)
        try model.html(figures: blank).write(toFile: base + "/blank/index.html", atomically: true, encoding: .utf8)
        guard let partial = try screenshot(of: base + "/partial") else { throw XCTSkip("no Chromium on this machine") }
        guard let empty = try screenshot(of: base + "/blank") else { throw XCTSkip("no Chromium on this machine") }
        XCTAssertEqual(Array(partial.prefix(4)), [0x89, 0x50, 0x4e, 0x47])
        // With its charts the page compresses to 1.48–1.55 times its blanked twin (Chromium's
        // antialiasing varies from run to run); without them it would be about 1.0.
        print("screenshot: partial \(partial.count) bytes, figures blanked \(empty.count)")
        XCTAssertGreaterThan(partial.count, 5 * empty.count / 4, "partial \(partial.count) bytes, figures blanked \(empty.count)")
        if let keep = ProcessInfo.processInfo.environment["ISOFLOP_SHOT_DIR"] {
            try? FileManager.default.removeItem(atPath: keep + "/partial.png")
            try partial.write(to: URL(fileURLWithPath: keep + "/partial.png"))
        }
    }
}
