// `isoflop report`: fits every schedule of a sweep store and writes the HTML report with its
// SVG figures. The mapping from stored runs and fit results to the report's plain model is here.
import ArgumentParser
import Fit
import Foundation
import Report
import Sweep
import Tensor

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Fit a sweep store's runs per schedule and write a self-contained HTML report with SVG figures.")

    @Argument(help: ArgumentHelp("The sweep store (same as --store).", valueName: "store"))
    var storeArgument: String?

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var sweepChoice: SweepChoice

    @Option(help: "Folder for index.html and the figures.")
    var out: String = "out/report"

    @Option(help: "Bootstrap resamples for the exponents' intervals.")
    var bootstrap: Int = 200

    @Option(help: "Seed of the bootstrap resamples.")
    var seed: UInt64 = 0

    @Option(help: "CSV written by `isoflop horizon`, drawn in figure 4 (default: none).")
    var horizon: String?

    @Option(help: "While runs are still to come, the page reloads itself every this many seconds (default: never).")
    var refresh: Int?

    func validate() throws {
        guard (0...1_000_000).contains(bootstrap) else { throw ValidationError("--bootstrap must be in 0...1000000, not \(bootstrap)") }
        if let refresh, refresh < 1 { throw ValidationError("--refresh must be at least 1 second, not \(refresh)") }
    }

    func run() throws {
        let url = try storeOptions.required(positional: storeArgument)
        // Every input is read before the fits, which take a while.
        let horizonCurves = try horizon.map(readHorizonCSV)
        let results = try readResults(url, sweep: sweepChoice.sweep)
        // A live report (--refresh) may wait for its first runs; otherwise no data is an error.
        guard refresh != nil || !results.finishedRuns().isEmpty else {
            throw CLIError("\(url) (sweep \(results.name)): no finished runs to report")
        }
        var model = buildReportModel(results, bootstrap: bootstrap, seed: seed)
        model.written = Date()
        model.refreshSeconds = refresh
        if let horizonCurves { model.horizon = horizonCurves }
        let files = try writeReport(model, to: out)
        for note in model.notes { print("note: \(note)") }
        print("wrote \(files.count) files to \(out) (open \(out)/index.html)")
    }
}

func estimate(_ e: Fit.Estimate) -> Report.Estimate {
    Report.Estimate(e.value, lower: e.interval95?.lower ?? e.value, upper: e.interval95?.upper ?? e.value)
}

/// Fits approaches 1–3 (total parameters) for each schedule of one sweep's results and fills
/// the report's model. While runs are still to come, only budgets whose runs have all ended
/// enter the fits (a half-done isoFLOP profile would move its parabola). A schedule whose fit
/// fails is reported as a note.
func buildReportModel(_ results: SweepResults, bootstrap: Int, seed: UInt64) -> ReportModel {
    let summaries = results.runs.map { r in
        let plan = r.plan
        let shape = "d=\(plan.model.d) L=\(plan.model.layers)" + (plan.model.headSize == 32 ? "" : " head \(plan.model.headSize)")
        return RunSummary(
            runID: Int(r.id), schedule: plan.schedule.rawValue, shape: shape, budget: plan.budget,
            parameters: Double(plan.parameters), tokens: Double(plan.tokens), epochs: plan.epochs,
            lr: plan.peakLR, finalLoss: r.finalEvalLoss ?? r.finalTrainLoss ?? .nan,
            seconds: r.wallSeconds ?? 0, status: r.status.rawValue)
    }
    var notes: [String] = bootstrap > 0 ? [
        "Intervals are 95% percentile intervals from \(bootstrap) bootstrap resamples: approaches 2 and 3 resample residuals "
        + "(fixed design: every run keeps its N and D), approach 1 resamples runs within budgets. "
        + "`isoflop fit --bootstrap-method runs` gives the run-resampling intervals of approaches 2 and 3."] : []
    let pending = Set(results.runs.filter { $0.status == .planned || $0.status == .running }.map(\.plan.budget))
    if !pending.isEmpty {
        notes.append("Budgets with runs still to come are left out of the fits: "
                     + pending.sorted().map(formatFLOPs).joined(separator: ", ") + ".")
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
            let fit = try fitScalingLaws(runs, options: options)
            notes += fit.notes.map { "\(schedule): \($0)" }
            notes += diagnosticLines(fit).map { "\(schedule): \($0)" }
            notes += (fit.approach2?.warnings ?? []).map { "\(schedule): \($0)" }
            fitted.append(scheduleResult(schedule, runs: runs, fit: fit))
        } catch {
            notes.append("\(schedule): no fit (\(error))")
        }
    }
    return ReportModel(title: "isoflop report: \(results.name)", notes: notes, schedules: fitted,
                       curves: reportCurves(results), runs: summaries)
}

/// The curves of `isoflop horizon`'s CSV (cycle, step, lr, eval_loss), one per cycle length.
func readHorizonCSV(_ path: String) throws -> [HorizonCurve] {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
        throw CLIError("\(path): cannot read the horizon curves (\(describeFileError(error)))")
    }
    var curves: [Double: HorizonCurve] = [:]
    for (k, line) in text.split(separator: "\n").enumerated().dropFirst() {
        let f = line.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard f.count == 4, let cycle = f[0], let step = f[1], let loss = f[3] else {
            throw CLIError("\(path):\(k + 1): expected cycle,step,lr,eval_loss, found '\(line.prefix(80))'")
        }
        // A NaN cycle would be a dictionary key that never finds itself again.
        guard cycle.isFinite, cycle > 0, step.isFinite, step >= 0, loss.isFinite else {
            throw CLIError("\(path):\(k + 1): cycle, step and eval_loss must be finite numbers (cycle and step positive), found '\(line.prefix(80))'")
        }
        curves[cycle, default: HorizonCurve(cycle: cycle, steps: [], loss: [])].steps.append(step)
        curves[cycle]!.loss.append(loss)
    }
    guard !curves.isEmpty else { throw CLIError("\(path): no horizon curves") }
    return curves.keys.sorted().map { curves[$0]! }
}

private func scheduleResult(_ schedule: String, runs: [FitRun], fit: FitReport) -> ScheduleResult {
    let points = runs.map { IsoFLOPPoint(budget: $0.budget, parameters: $0.parameters, loss: $0.finalLoss) }
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
            name: "Approach \(e.approach)", optima: optima, a: estimate(e.a), nCoefficient: laws?.parameters.coefficient ?? .nan,
            b: estimate(e.b), dCoefficient: laws?.tokens.coefficient ?? .nan))
    }
    return ScheduleResult(schedule: schedule, points: points, parabolas: parabolas, approaches: approaches)
}
