// The one read path of what a study produced: a sweep's runs and curves read once from its
// store, turned into what the fitter takes, fitted per schedule, and into the report's model.
// `fit`, `report`, `export`, `compare` and the ladder's rungs all read through here.
import Fit
import Foundation
import Report
import Sweep
import Tensor

/// Opens the store read-only and reads the chosen sweep's runs and (unless `withCurves` is
/// false) the curves of its done runs.
public func readResults(_ url: String, sweep: String?, withCurves: Bool = true) throws -> SweepResults {
    try openExistingStore(url).results(sweep: sweep, withCurves: withCurves)
}

/// The done runs of one schedule, as the fitter takes them (with eval-loss curves for approach
/// 1). None is an error naming `source`, the sweep and the schedule.
public func fitRuns(_ results: SweepResults, schedule: String, source: String) throws -> [FitRun] {
    var runs: [FitRun] = []
    for r in results.finishedRuns(schedule: schedule) {
        // A done run without an eval loss (NaN written as NULL) is left out, not fitted on its
        // train loss, a different quantity; `missingEvalLossNote` says so.
        guard let loss = r.finalEvalLoss else { continue }
        let curve = (results.curves[r.id] ?? []).compactMap { m -> CurvePoint? in
            m.evalLoss.map { CurvePoint(flops: m.flops, tokens: Double(m.tokens), loss: $0) }
        }
        runs.append(FitRun(id: "\(results.name)/\(r.plan.key)", budget: r.plan.budget,
                           parameters: Double(r.plan.parameters),
                           nonEmbeddingParameters: Double(r.plan.nonEmbeddingParameters),
                           tokens: Double(r.plan.tokens), flops: r.plan.flops, finalLoss: loss,
                           schedule: schedule, curve: curve, steps: r.plan.steps))
    }
    guard !runs.isEmpty else { throw StudyError.noFinishedRuns(source: source, sweep: results.name, schedule: schedule) }
    return runs
}

/// What `fit` fits from a store: the done runs of one schedule (`schedule`, else the sweep's
/// only one, else matched), the sweep's `params` knob, and the note on done runs left out for
/// want of an eval loss (nil when none is).
public func storeFitInput(_ url: String, sweep: String?, schedule: String?) throws
    -> (runs: [FitRun], params: ParameterConvention?, note: String?) {
    let results = try readResults(url, sweep: sweep)
    let chosen = schedule ?? defaultSchedule(results.schedules)
    let note = missingEvalLossNote(results, schedule: chosen)
    return (try fitRuns(results, schedule: chosen, source: url), results.params, note)
}

/// A CSV of runs; one with a schedule column (such as `isoflop export --runs` writes) gives the
/// runs of `schedule` only (by default its only schedule, else matched).
public func csvFitRuns(_ path: String, schedule: String?) throws -> [FitRun] {
    let runs = try readRunsCSV(path: path)
    let schedules = Set(runs.compactMap(\.schedule))
    guard !schedules.isEmpty else { return runs }
    let schedule = schedule ?? defaultSchedule(Array(schedules))
    let chosen = runs.filter { $0.schedule == schedule }
    guard !chosen.isEmpty else { throw StudyError.noCSVRuns(path: path, schedule: schedule, found: schedules.sorted()) }
    return chosen
}

/// The note for done runs of `schedule` that have no final eval loss and so are left out of the
/// fits; nil when there are none.
public func missingEvalLossNote(_ results: SweepResults, schedule: String) -> String? {
    let missing = results.finishedRuns(schedule: schedule).filter { $0.finalEvalLoss == nil }
    guard !missing.isEmpty else { return nil }
    return "\(missing.count) done run(s) of schedule \(schedule) have no final eval loss and are left out of the fits: "
        + missing.prefix(5).map(\.plan.key).joined(separator: ", ") + (missing.count > 5 ? ", …" : "")
}

/// Every done run's metric rows, as the report and the curve export take them.
public func reportCurves(_ results: SweepResults) -> [RunCurve] {
    results.finishedRuns().map { r in
        RunCurve(runID: Int(r.id), sweep: results.name, schedule: r.plan.schedule.rawValue,
                 budget: r.plan.budget, parameters: Double(r.plan.parameters), rows: results.curves[r.id] ?? [])
    }
}

/// Every run of the sweep, whatever its state, as the runs table lists it.
public func runsTable(_ results: SweepResults) -> [RunsTableRow] {
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
/// parabola). A schedule whose fit fails is reported as a note. Each note is stated once.
/// `predictions`: the sweep's trained forecasts (`predictionResults`), against which each
/// schedule's law, fitted to every budget, is scored at each forecast's budget.
public func buildReportModel(_ results: SweepResults, bootstrap: Int, seed: UInt64, predictions: [SweepResults] = []) -> ReportModel {
    var notes: [String] = bootstrap > 0 ? [
        "Intervals are 95% percentile intervals from \(bootstrap) bootstrap resamples: approaches 2 and 3 resample residuals "
        + "(fixed design: every run keeps its N and D), approach 1 resamples runs within budgets. "
        + "`isoflop fit --bootstrap-method runs` gives the run-resampling intervals of approaches 2 and 3."] : []
    let pending = Set(results.runs.filter { $0.status == .planned || $0.status == .running }.map(\.plan.budget))
    if !pending.isEmpty {
        notes.append("Budgets with runs still to come are left out of the fits: "
                     + pending.sorted().map(formatFLOPs).joined(separator: ", ") + ".")
    }
    let convention = results.params
    if convention == .nonEmbedding {
        notes.append("N counts non-embedding parameters (the sweep's params = \"nonemb\"): fits and isoFLOP profiles use N_nonemb.")
    }
    var complete = results
    complete.runs = results.runs.filter { !pending.contains($0.plan.budget) }
    var fitted: [ScheduleResult] = []
    for schedule in results.schedules {
        do {
            if let note = missingEvalLossNote(complete, schedule: schedule), !notes.contains(note) { notes.append(note) }
            let runs = try fitRuns(complete, schedule: schedule, source: results.name)
            var options = FitOptions()
            options.approaches = [1, 2, 3]
            options.bootstrapResamples = bootstrap
            options.seed = seed
            options.convention = convention
            // Each trained forecast of this schedule, at its one budget.
            let trained: [(budget: Double, runs: [FitRun])] = predictions.compactMap { p in
                guard let runs = try? fitRuns(p, schedule: schedule, source: p.name),
                      Set(runs.map(\.budget)).count == 1, let budget = runs.first?.budget else { return nil }
                return (budget, runs)
            }.sorted { $0.budget < $1.budget }
            if !trained.isEmpty { options.forecastBudgets = trained.map(\.budget) }
            let fit = try fitScalingLaws(runs, options: options)
            // The fit's notes already hold approach 2's warnings ("approach 2: budget …"): each once.
            // Approach 2's warnings are in the fit's notes and, for every budget, in its diagnostic
            // lines: the report states them once, as the diagnostic lines.
            let repeated = Set(fit.approach2.map { approach2Diagnostics($0, curvature: fit.curvature) } ?? [])
            for note in fit.notes.filter({ !repeated.contains($0) }) + diagnosticLines(fit) {
                let line = "\(schedule): \(note)"
                if !notes.contains(line) { notes.append(line) }
            }
            var result = scheduleResult(schedule, runs: runs, fit: fit, convention: convention)
            result.predictions = trained.compactMap { t in
                scorePrediction((fit.forecasts ?? []).filter { $0.budget == t.budget }, runs: t.runs, convention: convention)
            }
            fitted.append(result)
        } catch {
            notes.append("\(schedule): no fit (\(error))")
        }
    }
    return ReportModel(title: "isoflop report: \(results.name)", notes: notes, schedules: fitted,
                       curves: reportCurves(results), runs: runsTable(results))
}

/// Final loss against N, N counted under `convention`: the points of the isoFLOP profiles.
public func isoFLOPPoints(_ runs: [FitRun], convention: ParameterConvention) -> [IsoFLOPPoint] {
    runs.map {
        IsoFLOPPoint(budget: $0.budget, parameters: convention == .nonEmbedding ? ($0.nonEmbeddingParameters ?? $0.parameters) : $0.parameters,
                     loss: $0.finalLoss)
    }
}

/// One schedule's points, parabolas and fitted laws, as the report shows them.
public func scheduleResult(_ schedule: String, runs: [FitRun], fit: FitReport, convention: ParameterConvention = .total) -> ScheduleResult {
    let included = fit.approach2?.includedProfiles ?? []
    var approaches: [ApproachResult] = []
    for e in fit.exponents {
        let optima = e.approach != 2 ? [] : included.map(\.optimum)
        let laws = optimalPowerLaws(fit, approach: e.approach)
        approaches.append(ApproachResult(
            name: "Approach \(e.approach)", optima: optima, a: e.a, nCoefficient: laws?.parameters.coefficient ?? .nan,
            b: e.b, dCoefficient: laws?.tokens.coefficient ?? .nan))
    }
    var result = ScheduleResult(schedule: schedule, points: isoFLOPPoints(runs, convention: convention),
                                parabolas: included, approaches: approaches)
    result.envelope = fit.approach1?.envelope ?? []
    result.holdout = fit.holdout
    return result
}

/// Per budget and schedule, the done run of lowest eval loss; and per schedule, approach 2's
/// fit (N counted as the sweep's `params` says) or why there is none.
public struct Comparison {
    public var schedules: [String]
    public var budgets: [Double]
    public var best: [String: [Double: RunRecord]]
    public var fits: [(schedule: String, result: Result<FitReport, Error>)]
    public var convention: ParameterConvention
    /// The table `compare` prints: the best runs side by side, the loss between two schedules,
    /// and what each schedule cost.
    public var table: ScheduleComparison

    /// What `compare` prints: the table, then each schedule's exponent a (with its 95% interval
    /// when resampled) or why it has none.
    public var lines: [String] {
        let counting = convention == .nonEmbedding ? "non-embedding parameters" : "all parameters"
        var lines = table.lines()
        for (s, result) in fits {
            do {
                for e in try result.get().exponents {
                    let i = e.a.interval95.map { String(format: " [%.3f, %.3f]", $0.lower, $0.upper) } ?? ""
                    lines.append(String(format: "%@: a = %.3f%@ (approach 2, %@)", s, e.a.value, i, counting))
                }
            } catch {
                lines.append("\(s): no fit (\(error))")
            }
        }
        return lines
    }
}

/// `compare`: the schedules of one sweep side by side, read like every other results command
/// (without the curves, which approach 2 does not need). `wanted`: the schedules to compare, in
/// that order (nil: every schedule with finished runs).
public func compareSchedules(_ url: String, sweep: String?, schedules wanted: [String]? = nil, bootstrap: Int, seed: UInt64) throws -> Comparison {
    var results = try readResults(url, sweep: sweep, withCurves: false)
    // The fits' input in the order the store's finished runs came in before this read path.
    results.runs.sort { ($0.plan.schedule.rawValue, $0.plan.budget, $0.plan.parameters, $0.id)
        < ($1.plan.schedule.rawValue, $1.plan.budget, $1.plan.parameters, $1.id) }
    guard results.finishedRuns().contains(where: { $0.finalEvalLoss != nil }) else {
        throw StudyError.noFinishedRuns(source: url, sweep: results.name, schedule: nil)
    }
    let table = try ScheduleComparison(results, schedules: wanted)
    var best: [String: [Double: RunRecord]] = [:]
    for (budget, runs) in table.best {
        for (s, r) in runs { best[s, default: [:]][budget] = r }
    }
    let schedules = table.schedules
    var options = FitOptions()
    options.approaches = [2]
    options.bootstrapResamples = bootstrap
    options.seed = seed
    options.convention = results.params
    let fits = schedules.map { s in
        (s, Result { try fitScalingLaws(try fitRuns(results, schedule: s, source: url), options: options) })
    }
    return Comparison(schedules: schedules, budgets: table.best.map(\.budget), best: best,
                      fits: fits, convention: results.params, table: table)
}
