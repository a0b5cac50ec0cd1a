// The one read path of the commands that read results (fit, report, export, compare): the
// options they share, one read of a sweep's runs and curves, and its translation into what the
// fitter and the report take, fits included.
import ArgumentParser
import Fit
import Foundation
import Ladder
import Report
import Sweep
import Tensor

/// `--sweep NAME`: which sweep of the store to read. Without it the store must hold exactly one.
struct SweepChoice: ParsableArguments {
    @Option(help: "The sweep to read (default: the only one in the store; with several, name one).")
    var sweep: String?
}

/// The sweep a results command reads: the store, as the positional argument or `--store`, and
/// `--sweep`.
struct ResultsSource: ParsableArguments {
    @Argument(help: ArgumentHelp("The sweep store (same as --store).", valueName: "store"))
    var storeArgument: String?

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var sweepChoice: SweepChoice

    /// The store's URL; one must be named.
    func url() throws -> String { try storeOptions.required(positional: storeArgument) }
}

/// `--bootstrap N` and `--seed S` of the commands that fit; `Default` gives the command's own
/// number of resamples (fitting alone defaults to none, the report and comparison to 200).
struct BootstrapOptions<Default: BootstrapDefault>: ParsableArguments {
    @Option(help: "Bootstrap resamples for the intervals (0: point estimates only).")
    var bootstrap: Int = Default.resamples

    @Option(help: "Seed of the bootstrap resamples.")
    var seed: UInt64 = 0

    func validate() throws {
        guard (0...1_000_000).contains(bootstrap) else { throw ValidationError("--bootstrap must be in 0...1000000, not \(bootstrap)") }
    }
}

protocol BootstrapDefault { static var resamples: Int { get } }
enum NoResamples: BootstrapDefault { static let resamples = 0 }
enum ReportResamples: BootstrapDefault { static let resamples = 200 }

/// Opens the store once and reads the chosen sweep's runs and the curves of its done runs.
func readResults(_ url: String, sweep: String?) throws -> SweepResults {
    try openExistingStore(url).results(sweep: sweep)
}

/// The done runs of one schedule, as the fitter takes them (with eval-loss curves for approach 1).
func fitRuns(_ results: SweepResults, schedule: String, source: String) throws -> [FitRun] {
    var runs: [FitRun] = []
    for r in results.finishedRuns(schedule: schedule) {
        guard let loss = r.finalEvalLoss ?? r.finalTrainLoss else { continue }
        let curve = (results.curves[r.id] ?? []).compactMap { m -> CurvePoint? in
            m.evalLoss.map { CurvePoint(flops: m.flops, tokens: Double(m.tokens), loss: $0) }
        }
        runs.append(FitRun(id: "\(results.name)/\(r.plan.key)", budget: r.plan.budget,
                           parameters: Double(r.plan.parameters),
                           nonEmbeddingParameters: Double(r.plan.nonEmbeddingParameters),
                           tokens: Double(r.plan.tokens), flops: r.plan.flops, finalLoss: loss,
                           schedule: schedule, curve: curve))
    }
    guard !runs.isEmpty else {
        throw CLIError("\(source) (sweep \(results.name)): no finished runs with schedule '\(schedule)'")
    }
    return runs
}

/// Every done run's metric rows, as the report and the curve export take them.
func reportCurves(_ results: SweepResults) -> [RunCurve] {
    results.finishedRuns().map { r in
        RunCurve(runID: Int(r.id), sweep: results.name, schedule: r.plan.schedule.rawValue,
                 budget: r.plan.budget, parameters: Double(r.plan.parameters), rows: results.curves[r.id] ?? [])
    }
}

/// Every run of the sweep, whatever its state, as the runs table lists it.
func runsTable(_ results: SweepResults) -> [RunsTableRow] {
    results.runs.map { r in
        let p = r.plan
        return RunsTableRow(
            id: Int(r.id), sweep: results.name, key: p.key, schedule: p.schedule.rawValue, budget: p.budget,
            d: p.model.d, layers: p.model.layers, headSize: p.model.headSize, parameters: p.parameters,
            nonEmbeddingParameters: p.nonEmbeddingParameters, flopsPerToken: p.flopsPerToken,
            flopsPerToken6N: 6 * Double(p.parameters), steps: p.steps, tokens: p.tokens, flops: p.flops,
            epochs: p.epochs, peakLR: p.peakLR, seed: p.seed, status: r.status.rawValue,
            finalTrainLoss: r.finalTrainLoss, finalEvalLoss: r.finalEvalLoss,
            tokensPerSecond: r.tokensPerSecond, wallSeconds: r.wallSeconds)
    }
}

/// Fits approaches 1–3 for each schedule of one sweep's results, N counted as the sweep's
/// `params` says, and fills the report's model. While runs are still to come, only budgets
/// whose runs have all ended enter the fits (a half-done isoFLOP profile would move its
/// parabola). A schedule whose fit fails is reported as a note.
func buildReportModel(_ results: SweepResults, bootstrap: Int, seed: UInt64) -> ReportModel {
    var notes: [String] = bootstrap > 0 ? [
        "Intervals are 95% percentile intervals from \(bootstrap) bootstrap resamples: approaches 2 and 3 resample residuals "
        + "(fixed design: every run keeps its N and D), approach 1 resamples runs within budgets. "
        + "`isoflop fit --bootstrap-method runs` gives the run-resampling intervals of approaches 2 and 3."] : []
    let pending = Set(results.runs.filter { $0.status == .planned || $0.status == .running }.map(\.plan.budget))
    if !pending.isEmpty {
        notes.append("Budgets with runs still to come are left out of the fits: "
                     + pending.sorted().map(formatFLOPs).joined(separator: ", ") + ".")
    }
    let convention = results.params.convention
    if convention == .nonEmbedding {
        notes.append("N counts non-embedding parameters (the sweep's params = \"nonemb\"): fits and isoFLOP profiles use N_nonemb.")
    }
    var complete = results
    complete.runs = results.runs.filter { !pending.contains($0.plan.budget) }
    var fitted: [ScheduleResult] = []
    for schedule in results.schedules {
        do {
            let runs = try fitRuns(complete, schedule: schedule, source: results.name)
            var options = FitOptions()
            options.approaches = [1, 2, 3]
            options.bootstrapResamples = bootstrap
            options.seed = seed
            options.convention = convention
            let fit = try fitScalingLaws(runs, options: options)
            notes += fit.notes.map { "\(schedule): \($0)" }
            notes += diagnosticLines(fit).map { "\(schedule): \($0)" }
            notes += (fit.approach2?.warnings ?? []).map { "\(schedule): \($0)" }
            fitted.append(scheduleResult(schedule, runs: runs, fit: fit, convention: convention))
        } catch {
            notes.append("\(schedule): no fit (\(error))")
        }
    }
    return ReportModel(title: "isoflop report: \(results.name)", notes: notes, schedules: fitted,
                       curves: reportCurves(results), runs: runsTable(results))
}

/// Final loss against N, N counted under `convention`: the points of the isoFLOP profiles.
func isoFLOPPoints(_ runs: [FitRun], convention: ParameterConvention) -> [IsoFLOPPoint] {
    runs.map {
        IsoFLOPPoint(budget: $0.budget, parameters: convention == .nonEmbedding ? ($0.nonEmbeddingParameters ?? $0.parameters) : $0.parameters,
                     loss: $0.finalLoss)
    }
}

func scheduleResult(_ schedule: String, runs: [FitRun], fit: FitReport, convention: ParameterConvention = .total) -> ScheduleResult {
    let points = isoFLOPPoints(runs, convention: convention)
    let profiles = fit.approach2?.profiles ?? []
    let parabolas = profiles.filter(\.included).map {
        IsoFLOPParabola(budget: $0.budget, c0: $0.lossVsLogParameters.c0, c1: $0.lossVsLogParameters.c1,
                        c2: $0.lossVsLogParameters.c2)
    }
    var approaches: [ApproachResult] = []
    for e in fit.exponents {
        let optima = e.approach != 2 ? [] : profiles.filter(\.included).map {
            Optimum(budget: $0.budget, parameters: $0.optimalParameters, tokens: $0.optimalTokens, loss: $0.lossAtOptimum)
        }
        let laws = optimalPowerLaws(fit, approach: e.approach)
        approaches.append(ApproachResult(
            name: "Approach \(e.approach)", optima: optima, a: e.a, nCoefficient: laws?.parameters.coefficient ?? .nan,
            b: e.b, dCoefficient: laws?.tokens.coefficient ?? .nan))
    }
    return ScheduleResult(schedule: schedule, points: points, parabolas: parabolas, approaches: approaches)
}
