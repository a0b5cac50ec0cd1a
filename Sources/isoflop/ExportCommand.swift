// `isoflop export`: a sweep's loss curves as CSV or JSON, raw and smoothed, or (`--runs`) its
// runs table, one row per run.
import ArgumentParser
import Foundation
import Report
import Study
import Sweep

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every run's loss curve as CSV or JSON, raw and smoothed (debiased EMA and a centred window), or the runs table (--runs).")

    @OptionGroup var source: ResultsSource

    @Flag(help: "Write the runs table instead: one row per run (shape, N, D, C, schedule, lr, status, final losses), <sweep>-runs.csv or .json; its CSV is an input of `isoflop fit`.")
    var runs = false

    @Option(help: "Output folder.")
    var out: String = "out/curves"

    @Option(help: "csv or json.")
    var format: String = "csv"

    @Option(help: "x axis: steps, tokens or flops.")
    var axis: String = "flops"

    @Flag(help: "One file per run instead of one per sweep.")
    var perRun = false

    @Option(help: "Weight of the debiased exponential moving average, in [0, 1).")
    var ema: Double = 0.6

    @Option(help: "Width of the centred moving window (odd).")
    var window: Int = 9

    func validate() throws {
        guard ["csv", "json"].contains(format) else { throw ValidationError("--format must be csv or json, not '\(format)'") }
        guard ["steps", "tokens", "flops"].contains(axis) else { throw ValidationError("--axis must be steps, tokens or flops, not '\(axis)'") }
        guard ema >= 0, ema < 1 else { throw ValidationError("--ema must be in [0, 1), not \(ema)") }
        guard window >= 1, window % 2 == 1 else { throw ValidationError("--window must be a positive odd number, not \(window)") }
    }

    func run() throws {
        let url = try source.url()
        let results = try readResults(url, sweep: source.sweepChoice.sweep)
        let format: ExportFormat = format == "csv" ? .csv : .json
        if runs {
            let path = try exportRunsTable(runsTable(results), sweep: results.name, format: format, to: out)
            print("wrote \(results.runs.count) run(s) of sweep \(results.name) to \(path)")
            return
        }
        guard !results.finishedRuns().isEmpty else { throw CLIError("\(redactedStoreURL(url)) (sweep \(results.name)): no finished runs to export") }
        let options = ExportOptions(format: format,
                                    axis: axis == "steps" ? .steps : axis == "tokens" ? .tokens : .flops,
                                    grouping: perRun ? .run : .sweep, emaWeight: ema, windowWidth: window)
        let files = try exportCurves(reportCurves(results), options: options, to: out)
        print("wrote \(files.count) file(s) to \(out)")
    }
}
