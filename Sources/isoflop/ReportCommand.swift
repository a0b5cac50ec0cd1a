// `isoflop report`: fits every schedule of a sweep store and writes the HTML report with its
// SVG figures (Study's `buildReportModel` maps stored runs and fit results to the report's model).
import ArgumentParser
import Foundation
import Report
import Study
import Sweep

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Fit a sweep store's runs per schedule and write a self-contained HTML report with SVG figures.")

    @OptionGroup var source: ResultsSource

    @Option(help: "Folder for index.html and the figures.")
    var out: String = "out/report"

    @OptionGroup var resampling: BootstrapOptions<ReportResamples>

    @Option(help: "CSV written by `isoflop horizon`, drawn in figure 4 (default: none).")
    var horizon: String?

    @Option(help: "While runs are still to come, the page reloads itself every this many seconds (default: never).")
    var refresh: Int?

    func validate() throws {
        if let refresh, refresh < 1 { throw ValidationError("--refresh must be at least 1 second, not \(refresh)") }
    }

    func run() throws {
        let url = try source.url()
        // Every input is read before the fits, which take a while.
        let horizonCurves = try horizon.map(readHorizonCSV)
        let results = try readResults(url, sweep: source.sweepChoice.sweep)
        // A live report (--refresh) may wait for its first runs; otherwise no data is an error.
        guard refresh != nil || !results.finishedRuns().isEmpty else {
            throw CLIError("\(redactedStoreURL(url)) (sweep \(results.name)): no finished runs to report")
        }
        var model = buildReportModel(results, bootstrap: resampling.bootstrap, seed: resampling.seed,
                                     predictions: try predictionResults(url, parent: results.name))
        model.written = Date()
        model.refreshSeconds = refresh
        if let horizonCurves { model.horizon = horizonCurves }
        model.lrCurves = try pilotCurves(url, sweep: results.name)
        let files = try writeReport(model, to: out)
        for note in model.notes { print("note: \(note)") }
        print("wrote \(files.count) files to \(out) (open \(out)/index.html)")
    }
}
