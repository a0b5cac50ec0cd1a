// The ladder from Kaplan's setup to Chinchilla's, rung by rung in one process: each rung is a
// sweep in one store, planned once; a run an earlier rung already trained identically is copied,
// not trained; the rest is trained by local workers; each rung is fitted under its own counting;
// ladder.json, the figures and the page are rewritten after every rung. Rerunning resumes.
import Fit
import Foundation
import Ladder
import Report
import Sweep
import Tensor

/// A ladder's rungs and what they plan, worked out once.
public struct LadderPlan {
    public var ladder: LadderConfig
    public var rungs: [SweepConfig]
    /// Each rung's plan, in rung order.
    public var plans: [SweepPlan]

    public init(_ ladder: LadderConfig, file: String) throws {
        self.ladder = ladder
        rungs = try ladder.rungConfigs(file: file)
        plans = try rungs.map { try Planner.plan($0) }
    }

    public var allRuns: [PlannedRun] { plans.flatMap(\.runs) }
}

public struct LadderOptions {
    /// Folder of ladder.json, the figures, the page and the rungs' sweep configs.
    public var out = "out/ladder"
    /// Bootstrap resamples of each rung's intervals.
    public var bootstrap = 1000
    public var train = TrainOptions()

    public init() {}
}

/// Runs (or resumes) every rung of the ladder in the store at `url`; returns each rung's result.
public func runLadder(_ plan: LadderPlan, store url: String, options: LadderOptions, hooks: TrainHooks) throws -> [LadderRungResult] {
    // Another store's checkpoint folder is refused before any rung is planned into this one.
    let checkpoints = try Checkpoints.folder(options.train.checkpoints, store: url)
    let rungFolder = (options.out as NSString).appendingPathComponent("rungs")
    try FileManager.default.createDirectory(atPath: rungFolder, withIntermediateDirectories: true)
    try prepareSweepData(plan.rungs[0], progress: hooks.message)
    var results: [LadderRungResult] = []
    var views: [LadderRungView] = []
    for (i, cfg) in plan.rungs.enumerated() {
        let rung = plan.ladder.rungs[i]
        // The rung's sweep config as a file: a record for people of what the rung trains.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(cfg).write(to: URL(fileURLWithPath: (rungFolder as NSString).appendingPathComponent("\(cfg.name).json")),
                                      options: .atomic)
        try checkSweepInputs(cfg, runs: plan.plans[i].runs)
        let sweep = try planIntoStore(cfg, RunBatches.initial(plan.plans[i]), url: url)
        try Checkpoints.mark(checkpoints, store: sweep.store)
        let copied = try copySharedRuns(sweep, rungs: plan.rungs)
        if copied > 0 { hooks.message("rung \(i) (\(rung.name)): \(copied) run(s) copied from identical runs of other rungs") }
        hooks.message("rung \(i) (\(rung.name)): sweep \(cfg.name)")
        try train(sweep, checkpoints: checkpoints, options: options.train, hooks: hooks)
        let (result, view) = try fitRung(i, rung, cfg, url: url, bootstrap: options.bootstrap)
        results.append(result)
        views.append(view)
        try writeLadderOutputs(plan, results: results, views: views, options: options)
    }
    return results
}

/// Copies into the rung's planned runs the results of identical runs that ended in any other
/// rung of the ladder; returns how many.
public func copySharedRuns(_ sweep: PlannedSweep, rungs: [SweepConfig]) throws -> Int {
    var donors: [RunRecord] = []
    for other in rungs {
        if let id = try sweep.store.sweepID(named: other.name), id != sweep.id { donors += try sweep.store.runs(sweep: id) }
    }
    let targets = try sweep.store.runs(sweep: sweep.id)
    let byID = Dictionary(uniqueKeysWithValues: targets.map { ($0.id, $0) })
    var copied = 0
    for share in sharedRuns(targets: targets, donors: donors) {
        guard let target = byID[share.target] else { continue }
        if try sweep.store.copyResult(from: share.source, to: share.target, flopsPerToken: target.plan.flopsPerToken) { copied += 1 }
    }
    return copied
}

/// Approaches 2 and 3 with bootstrap intervals on the rung's ended runs, under its counting.
public func fitRung(_ i: Int, _ rung: RungChange, _ cfg: SweepConfig, url: String, bootstrap: Int) throws -> (LadderRungResult, LadderRungView) {
    let results = try readResults(url, sweep: cfg.name)
    let finished = results.runs.filter { $0.status == .done || $0.status == .diverged }.count
    let copied = results.runs.filter { $0.copiedFrom != nil }.count
    var fit: FitReport?
    var runs: [FitRun] = []
    var notes: [String] = []
    do {
        runs = try fitRuns(results, schedule: cfg.schedules[0].rawValue, source: url)
        fit = try fitScalingLaws(runs, options: rungFitOptions(cfg, resamples: bootstrap))
    } catch {
        notes.append("no fit (\(oneLine("\(error)")))")
    }
    var result = LadderRungResult(index: i, rung: rung, config: cfg, runs: results.runs.count, finished: finished,
                                  copied: copied, fit: fit)
    result.notes += notes
    let changes = rung.delta.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
    let view = LadderRungView(name: rung.name, changes: changes, counting: countingLabel(cfg), runs: result.runs,
                              finished: finished, copied: copied, approach2A: result.approach2A,
                              approach3A: result.approach3A, approach2B: result.approach2B,
                              points: isoFLOPPoints(runs, convention: cfg.params), parabolas: fit?.approach2?.includedProfiles ?? [])
    return (result, view)
}

/// ladder.json and the page, with the rungs fitted so far.
func writeLadderOutputs(_ plan: LadderPlan, results: [LadderRungResult], views: [LadderRungView], options: LadderOptions) throws {
    let planned = plan.allRuns
    let summary = LadderSummary(name: plan.ladder.name, bootstrapResamples: options.bootstrap, rungs: results,
                                plannedRuns: planned.count, distinctTrainings: distinctTrainings(planned).count)
    try summary.encodedJSON().write(to: URL(fileURLWithPath: (options.out as NSString).appendingPathComponent("ladder.json")),
                                    options: .atomic)
    let pending = plan.rungs.count - results.count
    let notes = results.flatMap { r in r.notes.map { "rung \(r.index) (\(r.name)): \($0)" } }
        + (pending > 0 ? ["\(pending) rung(s) still to come"] : [])
    try writeLadderReport(LadderReportModel(title: "isoflop ladder: \(plan.ladder.name)", rungs: views, notes: notes), to: options.out)
}

/// "Kaplan C, N_nonemb": how a rung counts compute and parameters.
public func countingLabel(_ cfg: SweepConfig) -> String {
    let c: String
    switch cfg.flopCount {
    case .appendixF: c = "Appendix F C"
    case .sixN: c = "6ND C"
    case .kaplan: c = "Kaplan C"
    }
    return c + ", " + (cfg.params == .total ? "N" : "N_nonemb")
}
