// `isoflop export`: a sweep's loss curves as CSV or JSON, raw and smoothed.
import ArgumentParser
import Foundation
import Report
import Sweep

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every run's loss curve as CSV or JSON, raw and smoothed (debiased EMA and a centred window).")

    @Argument(help: ArgumentHelp("The sweep store (same as --store).", valueName: "store"))
    var storeArgument: String?

    @OptionGroup var storeOptions: StoreOptions

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
        let url = try storeOptions.required(positional: storeArgument)
        let curves = try storedCurves(url)
        guard !curves.isEmpty else { throw CLIError("\(url): no finished runs to export") }
        let options = ExportOptions(format: format == "csv" ? .csv : .json,
                                    axis: axis == "steps" ? .steps : axis == "tokens" ? .tokens : .flops,
                                    grouping: perRun ? .run : .sweep, emaWeight: ema, windowWidth: window)
        let files = try exportCurves(curves, options: options, to: out)
        print("wrote \(files.count) file(s) to \(out)")
    }
}

/// Every finished run's metric rows, as the report and the export take them.
func storedCurves(_ url: String) throws -> [RunCurve] {
    let store = try openExistingStore(url)
    var curves: [RunCurve] = []
    for name in try store.sweepNames() {
        guard let sweep = try store.sweepID(named: name) else { continue }
        for r in try store.runs(sweep: sweep) where r.status == .done {
            let rows = try store.metrics(run: r.id).map {
                Report.MetricRow(step: $0.step, tokens: Double($0.tokens), flops: $0.flops, lr: $0.lr,
                                 trainLoss: $0.trainLoss, evalLoss: $0.evalLoss)
            }
            curves.append(RunCurve(runID: Int(r.id), sweep: name, schedule: r.plan.schedule.rawValue,
                                   budget: r.plan.budget, parameters: Double(r.plan.parameters), rows: rows))
        }
    }
    return curves
}
