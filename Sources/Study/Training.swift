// Training a planned sweep with worker processes on this machine: start them, supervise them
// (passing a stop request on, planning an adaptive grid's next runs, rewriting a live report),
// start them again while an adaptive grid adds runs, and say how it ended.
import Foundation
import Sweep
import Tensor

/// How `train` drives the workers.
public struct TrainOptions {
    /// Worker processes; nil: the config's.
    public var workers: Int?
    /// Seconds a claimed run's lease lasts without renewal.
    public var lease: Double = 120
    /// The checkpoint folder; nil: `checkpoints` beside an SQLite store (required for PostgreSQL).
    public var checkpoints: String?
    /// Plan failed runs again before starting.
    public var retryFailed = false
    /// Train nothing: pretend, this many times faster than the config's throughput model.
    public var dryRun: Double?
    /// Return only when every run has ended, those that other machines' workers hold included.
    public var waitForOthers = false
    /// Keep the report in this folder up to date while the sweep runs.
    public var liveReport: String?
    /// Each worker prints what it did to standard error when it exits.
    public var workerReports = false
    /// The program the workers run (this program's `sweep worker`); nil: the one running now.
    public var executable: URL?

    public init() {}
}

/// What `train` tells its caller while it runs.
public struct TrainHooks {
    /// A line for people (resumed runs, an adaptive grid's new budget, …).
    public var message: (String) -> Void = { print($0) }
    /// The sweep's state, every half second while workers run and once at the end (`final`).
    public var progress: (SweepSnapshot) -> Void = { _ in }

    public init(message: @escaping (String) -> Void = { print($0) }, progress: @escaping (SweepSnapshot) -> Void = { _ in }) {
        self.message = message
        self.progress = progress
    }
}

/// A sweep's runs at one moment of its training, with what the progress line needs.
public struct SweepSnapshot {
    public var runs: [RunRecord]
    public var began: Date
    /// FLOPs done when this training began (resumed work does not count toward its rate).
    public var startFLOPs: Double
    /// FLOPs an adaptive grid has still to plan (its later budgets), counted in the total.
    public var unplannedFLOPs: Double
    public var final: Bool

    public var progress: SweepProgress { SweepProgress(runs) }
    public var elapsed: Double { Date().timeIntervalSince(began) }
    public var totalFLOPs: Double { progress.totalFLOPs + unplannedFLOPs }
    /// Seconds to go at the rate of this training so far; infinite before any run has ended.
    public var etaSeconds: Double {
        let p = progress
        let rate = (p.doneFLOPs - startFLOPs) / max(elapsed, 1e-9)
        return rate > 0 ? (totalFLOPs - p.doneFLOPs) / rate : .infinity
    }
}

/// Plans `config` into the store at `url` (created when missing) and trains it with local worker
/// processes until every run has ended: the one call behind `sweep run`, for any caller that has
/// a sweep config (an existing one, or one made for a new sweep name) and wants it trained.
///
/// Like `sweep run`, it builds missing corpus data, checks every run, the tokenizer and the token
/// files before it stores anything, refuses an empty plan, and resumes: a sweep the store already
/// holds with the same plan continues from its finished runs and checkpoints. An adaptive grid
/// plans its later budgets as earlier ones end. Progress (with the ETA) and lines for people go to
/// `hooks`. It installs a SIGINT/SIGTERM handler (`installStopHandler`): a stop request
/// checkpoints the workers, hands their runs back and throws `StudyError.stopped`; failed workers
/// or runs throw once the others have ended. The workers are `sweep worker` processes of
/// `options.executable` (this program by default), each given the store in its environment.
@discardableResult
public func runSweep(_ config: SweepConfig, store url: String, options: TrainOptions = TrainOptions(),
                     hooks: TrainHooks = TrainHooks()) throws -> [RunRecord] {
    let plan = try Planner.plan(config)
    let batches = RunBatches.initial(plan)
    guard !batches.runs.isEmpty else { throw StudyError.emptyPlan(sweep: config.name, warnings: plan.warnings) }
    let checkpoints = try Checkpoints.folder(options.checkpoints, store: url)
    if options.dryRun == nil {
        // Before the plan is written: a sweep none of whose runs could train stays out of the store.
        try prepareSweepData(config, progress: hooks.message)
        try checkSweepInputs(config, runs: plan.runs)
    }
    let sweep = try planIntoStore(config, batches, url: url)
    try Checkpoints.mark(checkpoints, store: sweep.store)
    return try train(sweep, checkpoints: checkpoints, options: options, hooks: hooks)
}

/// Finishes the sweep `name` (nil: the store's only one) already planned into the store at
/// `url`, as rerunning `sweep run` would: its data built and its runs checked first (unless a
/// dry run), then trained like `train`. Returns the sweep's runs.
@discardableResult
public func resumeSweep(store url: String, name: String?, options: TrainOptions, hooks: TrainHooks) throws -> [RunRecord] {
    let checkpoints = try Checkpoints.folder(options.checkpoints, store: url)
    let sweep = try storedSweep(url: url, name: name)
    try Checkpoints.mark(checkpoints, store: sweep.store)
    if options.dryRun == nil {
        // Fail here, once and clearly, rather than in every worker when no trainer is connected.
        try prepareSweepData(sweep.config, progress: hooks.message)
        try checkSweepInputs(sweep.config, runs: try sweep.store.runs(sweep: sweep.id).map(\.plan))
    }
    return try train(sweep, checkpoints: checkpoints, options: options, hooks: hooks)
}

/// Trains a sweep already planned into its store, with `options.workers` worker processes on
/// this machine, until no run is left to them (see `runSweep`). Returns the sweep's runs.
@discardableResult
public func train(_ sweep: PlannedSweep, checkpoints: String, options: TrainOptions, hooks: TrainHooks) throws -> [RunRecord] {
    let (cfg, store) = (sweep.config, sweep.store)
    let n = options.workers ?? cfg.workers
    try checkWorkerCount(n, flag: "workers")
    // Runs left "running" by killed workers of this machine resume now, not after their lease.
    let released = try store.releaseDeadRuns(host: ProcessInfo.processInfo.hostName, isAlive: processIsAlive)
    if released > 0 { hooks.message("resuming \(released) interrupted run(s) from their checkpoints") }
    if options.retryFailed { hooks.message("retrying \(try store.retryFailedRuns(sweep: sweep.id)) failed run(s)") }

    installStopHandler()
    var launch = WorkerLaunch(store: sweep.url, checkpoints: checkpoints, sweep: cfg.name, lease: options.lease)
    launch.report = options.workerReports
    launch.executable = options.executable
    // Runs still held by live workers (e.g. of a sweep killed a moment ago, which hand their
    // runs back within a step): wait for them rather than leave them unfinished.
    let held = try store.runs(sweep: sweep.id).filter { $0.status == .running }
    if !held.isEmpty {
        launch.waitForLeases = true
        hooks.message("\(held.count) run(s) held by other workers (\(held.compactMap(\.worker).joined(separator: ", "))); "
                      + "waiting to take them over when they are handed back or their lease runs out")
    }
    if let dryRun = options.dryRun {
        launch.dryRun = (dryRun, cfg.flopsPerSecond ?? Calibration.fallbackFLOPsPerSecond, cfg.overheadPerToken)
    }
    // An adaptive grid adds runs while the last ones of a budget train: the workers wait for them.
    let adaptive = cfg.grid.adaptive ? AdaptiveDriver(sweep: sweep, message: hooks.message) : nil
    if adaptive != nil || options.waitForOthers { launch.waitForLeases = true }
    let live = options.liveReport.map { LiveReport(store: sweep.url, sweep: cfg.name, out: $0, executable: options.executable) }

    let began = Date()
    var runs = try store.runs(sweep: sweep.id)
    let startFLOPs = SweepProgress(runs).doneFLOPs
    let tick = {
        _ = try adaptive?.advance()
        runs = try store.runs(sweep: sweep.id)
        hooks.progress(SweepSnapshot(runs: runs, began: began, startFLOPs: startFLOPs,
                                     unplannedFLOPs: adaptive?.unplannedFLOPs(runs) ?? 0, final: false))
        try live?.update(store.budgetProgress(sweep: sweep.id))
    }
    var failedWorkers = try superviseWorkers(try launch.spawn(n), tick: tick)
    // Workers that ran out of runs before the adaptive grid planned more: start them again.
    while let adaptive, !stopRequested, failedWorkers == 0,
          try adaptive.advance() > 0 || store.runs(sweep: sweep.id).contains(where: { $0.status == .planned }) {
        failedWorkers += try superviseWorkers(try launch.spawn(n), tick: tick)
    }
    runs = try store.runs(sweep: sweep.id)
    let summary = SweepProgress(runs)
    try live?.finish(othersRunning: !stopRequested && summary.byStatus[.running, default: 0] > 0)
    hooks.progress(SweepSnapshot(runs: runs, began: began, startFLOPs: startFLOPs, unplannedFLOPs: 0, final: true))
    let end = Date().timeIntervalSince1970, start = began.timeIntervalSince1970
    let trained = runs.compactMap { r in r.started.flatMap { s in r.ended.map { (s, $0) } } }
    if !stopRequested, end - start >= 60, let share = busyShare(trained, from: start, to: end, workers: n) {
        hooks.message(String(format: "workers busy %.1f%% of %d × %@ (runs held from claim to end, tail included)",
                             100 * share, n, formatDuration(end - start)))
    }
    if stopRequested { throw StudyError.stopped }
    if failedWorkers > 0 { throw StudyError.workersFailed(count: failedWorkers) }
    if summary.byStatus[.planned, default: 0] + summary.byStatus[.running, default: 0] > 0 {
        hooks.message("some runs are still leased by other workers; rerun later to finish them")
    }
    let failed = runs.filter { $0.status == .failed }
    if !failed.isEmpty {
        hooks.message(failed.map { "failed: \($0.plan.key): " + oneLine($0.message ?? "no reason recorded") }.joined(separator: "\n"))
        throw StudyError.runsFailed(count: failed.count)
    }
    return runs
}

/// The share of `workers` × (`end` − `start`) that runs were held: each run's claim-to-end
/// interval, clipped to the window (runs of an earlier call, or of other machines' workers,
/// count only inside it). Nil for an empty window. With one run per worker at a time, 1 means no
/// worker waited, the sweep's tail included.
public func busyShare(_ intervals: [(start: Double, end: Double)], from start: Double, to end: Double, workers: Int) -> Double? {
    guard end > start, workers > 0 else { return nil }
    let held = intervals.reduce(0.0) { $0 + max(0, min($1.end, end) - max($1.start, start)) }
    return min(1, held / (Double(workers) * (end - start)))
}
