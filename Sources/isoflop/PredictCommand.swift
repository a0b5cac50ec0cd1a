// `isoflop predict`: a sweep's law forecast at a budget beyond it, and, with --train, the
// forecast trained and scored.
import ArgumentParser
import Fit
import Foundation
import Study
import Sweep
import Tensor
import Training

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Forecast the compute-optimal model at a new budget from a sweep's runs; --train trains the forecast and scores it.",
        discussion: """
            Approaches 2 and 3 are fitted to the sweep's finished runs of one schedule and give N_opt, D_opt, \
            the steps and the loss at --budget, with 95% bootstrap intervals. With --train, the family shapes \
            nearest to N_opt × each of --sizes are planned as the sweep <name>-predict in the same store (the \
            sweep's corpus, batch, schedule, LR rule and seeds), trained like any sweep (rerun to resume), and \
            the forecast is scored against them: loss against the best run, N_opt against the vertex of their \
            parabola in ln N, and whether each 95% interval covers the outcome.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var sweepChoice: SweepChoice

    @Option(help: "The budget C in FLOPs to forecast at.")
    var budget: Double

    @Option(help: "Which schedule's runs to fit (default: the sweep's only schedule, else matched).")
    var schedule: String?

    @Option(help: "Multiples of the forecast N_opt to train with --train (the nearest family shapes).")
    var sizes: String = "0.5,1,2"

    @Option(help: "Whose N_opt the trained shapes are centred on: approach 2 (the default: its forecasts held best one budget out on pydocs and gcide, docs/predicting.md) or 3.")
    var centre: Int = 2

    @Flag(help: "Train the forecast optimum and its neighbours, then score the forecast.")
    var train = false

    @Option(help: "Worker processes for --train (default: the sweep's).")
    var workers: Int?

    @OptionGroup var resampling: BootstrapOptions<ReportResamples>

    func validate() throws {
        guard budget.isFinite, budget > 0, budget <= maximumFLOPs else {
            throw ValidationError("--budget must be a finite positive number of FLOPs up to \(formatFLOPs(maximumFLOPs)), not \(budget)")
        }
        guard parsedSizes != nil else {
            throw ValidationError("--sizes must be positive, finite multiples separated by commas, not '\(sizes)'")
        }
        guard [2, 3].contains(centre) else { throw ValidationError("--centre must be 2 or 3, not \(centre)") }
        if let workers { try checkWorkerCount(workers, flag: "--workers") }
    }

    private var parsedSizes: [Double]? {
        let values = sizes.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 && $0!.isFinite && $0! <= 1e6 }) else { return nil }
        return values.map { $0! }
    }

    func run() throws {
        let url = try storeOptions.required()
        let results = try readResults(url, sweep: try sweepChoice.sweep ?? parentSweep(url))
        let scheduleName = schedule ?? defaultSchedule(results.schedules)
        guard let kind = ScheduleKind(rawValue: scheduleName), kind != .fixed else {
            throw CLIError("predict trains a schedule whose learning rate follows each run's own length (matched, wsd or constant), "
                           + "not '\(scheduleName)'")
        }
        let config = try storedConfig(url, sweep: results.name)
        let runs = try fitRuns(results, schedule: scheduleName, source: url)
        var options = FitOptions()
        options.approaches = [2, 3]
        options.forecastBudgets = [budget]
        options.allocationBudgets = []
        options.holdout = false
        options.bootstrapResamples = resampling.bootstrap
        options.seed = resampling.seed
        options.convention = results.params
        options.progress = resampling.bootstrap >= 200 ? ProgressLine.report : nil
        let report = try fitScalingLaws(runs, options: options)
        let forecasts = report.forecasts ?? []
        print("sweep \(results.name), schedule \(scheduleName): \(runs.count) runs up to \(formatFLOPs(report.budgets.last ?? 0)); "
              + "forecast at C = \(formatFLOPs(budget)) (95% intervals, \(resampling.bootstrap) resamples)")
        print(renderForecasts(forecasts, tokensPerStep: Double(config.batch * config.context)))
        for note in report.notes { print("note: \(note)") }
        guard let centred = forecasts.first(where: { $0.approach == centre }) ?? forecasts.first else {
            throw CLIError("no approach could forecast at \(formatFLOPs(budget))")
        }
        let shapes = try Prediction.nearestShapes(config, targets: parsedSizes!.map { $0 * centred.parameters.value })
        let predicted = Prediction.config(config, budget: budget, schedule: kind, shapes: shapes)
        try predicted.validate(file: "\(url) (sweep \(predicted.name))")
        let plan = try Planner.plan(predicted)
        let rate = predicted.flopsPerSecond.map { ThroughputModel(flopsPerSecond: $0, overheadPerToken: predicted.overheadPerToken) }
            ?? Calibration.throughput(for: plan.runs, cache: Calibration.defaultCacheFile)
        let seconds = plan.runs.map(rate.seconds)
        let w = workers ?? config.workers
        print("to train: sweep \(predicted.name), approach \(centred.approach)'s N_opt × \(sizes): "
              + plan.runs.map { "d=\($0.model.d) L=\($0.model.layers) N=\(Fit.formatCount(Double($0.parameters))) \($0.steps) steps" }
                .joined(separator: ", ")
              + "; \(formatFLOPs(plan.trainedFLOPs)) FLOPs, estimated \(formatDuration(estimateWallSeconds(seconds, workers: w))) on \(w) workers")
        guard train else { return }
        try trainPrediction(predicted, url: url)
        let trained = try readResults(url, sweep: predicted.name)
        let outcome = try fitRuns(trained, schedule: scheduleName, source: url)
        guard let score = scorePrediction(forecasts, runs: outcome, convention: options.convention) else {
            throw CLIError("no finished runs of \(predicted.name) to score the forecast against")
        }
        print(renderScore(score))
    }

    /// Plans `predicted` into the store beside its parent sweep and trains it as `sweep run` does.
    private func trainPrediction(_ predicted: SweepConfig, url: String) throws {
        var options = TrainOptions()
        options.workers = workers
        try runSweep(predicted, store: url, options: options, hooks: ProgressView.hooks())
    }
}

/// The sweep a forecast is made from when none is named: the store's only sweep that is not a
/// forecast of another, so rerunning `predict --train` after it planned `<name>-predict` (to
/// resume it) reads the same sweep as the first time. Nil leaves the choice to `readResults`.
func parentSweep(_ url: String) throws -> String? {
    let names = try openExistingStore(url).sweepNames()
    let parents = names.filter { name in !names.contains { Prediction.sweepName($0) == name } }
    return parents.count == 1 ? parents[0] : nil
}

/// One row per approach: N_opt, D_opt, steps and loss with their intervals.
func renderForecasts(_ forecasts: [Forecast], tokensPerStep: Double) -> String {
    var out = "  approach  N_opt [95%]                D_opt [95%]                steps     loss [95%]\n"
    for f in forecasts {
        let n = Fit.formatCount(f.parameters.value) + " " + countRange(f.parameters.interval95)
        let d = Fit.formatCount(f.tokens.value) + " " + countRange(f.tokens.interval95)
        let loss = f.loss.map { String(format: "%.3f", $0.value) + ($0.interval95.map { String(format: " [%.3f, %.3f]", $0.lower, $0.upper) } ?? "") } ?? "–"
        out += "  " + pad("\(f.approach)", -10) + pad(n, -27) + pad(d, -27) + pad(String(Int((f.tokens.value / tokensPerStep).rounded())), -10)
            + loss + "\n"
    }
    return out
}

/// The forecast against the trained runs.
func renderScore(_ score: PredictionScore) -> String {
    let m = score.measured
    let vertex: String
    if let v = m.vertexParameters {
        vertex = "; vertex of the runs' parabola N = \(Fit.formatCount(v))"
    } else {
        vertex = "; the runs' parabola has no minimum inside them, so N_opt is scored against the best run's N"
    }
    let best = String(format: "%.4f", m.bestLoss)
    var out = "outcome at C = \(formatFLOPs(score.budget)): best run \(m.bestRun) loss \(best) at N = \(Fit.formatCount(m.bestParameters))"
    out += vertex + "\n"
    for row in score.rows {
        var line = "  approach \(row.forecast.approach): "
        if let error = row.lossError, let loss = row.forecast.loss {
            line += String(format: "loss forecast %.4f, error %+.4f nats", loss.value, error) + covered(row.lossCovered) + "; "
        }
        line += "N_opt forecast \(Fit.formatCount(row.forecast.parameters.value)), measured/forecast "
        line += String(format: "×%.2f", row.parameterRatio) + covered(row.parametersCovered)
        out += line + "\n"
    }
    return out
}

private func covered(_ c: Bool?) -> String {
    switch c {
    case true?: return " (inside its 95% interval)"
    case false?: return " (outside its 95% interval)"
    case nil: return ""
    }
}

private func countRange(_ i: Interval?) -> String {
    i.map { "[\(Fit.formatCount($0.lower)), \(Fit.formatCount($0.upper))]" } ?? ""
}
