// `isoflop sweep`: plan a sweep, run it with worker processes over one run store, show its
// status. The workers (`isoflop worker`) train each run through TrainerExecutor.
import ArgumentParser
import Foundation
import Sweep
import Tensor
import Corpus
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM; polled by workers and the monitor.
private var stopSignals: sig_atomic_t = 0

var stopRequested: Bool { stopSignals > 0 }

func installStopHandler() {
    signal(SIGINT) { _ in stopSignals += 1 }
    signal(SIGTERM) { _ in stopSignals += 1 }
}

/// Whether a process exists and is not a zombie (a killed worker nobody has reaped yet).
func processIsAlive(_ pid: Int) -> Bool {
    guard kill(pid_t(pid), 0) == 0 || errno == EPERM else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    return !stat[stat.index(after: close)...].hasPrefix(" Z")
}

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Plan, run and inspect IsoFLOP sweeps.",
        subcommands: [SweepPlanCommand.self, SweepRunCommand.self, SweepResumeCommand.self, SweepStatusCommand.self,
                      SweepSlurmCommand.self, SweepWorkerCommand.self])
}

/// The default store of a config: runs/<name>/sweep.sqlite.
func defaultStorePath(_ config: SweepConfig) -> String { "runs/\(config.name)/sweep.sqlite" }

func checkpointRoot(storePath: String) -> String {
    ((storePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("checkpoints")
}

func formatDuration(_ s: Double) -> String {
    // Beyond a century an estimate says nothing (and would not fit an Int).
    guard s.isFinite, s >= 0 else { return "?" }
    guard s < 3.2e9 else { return "> 100 years" }
    let t = Int(s.rounded())
    if t >= 3600 { return String(format: "%dh%02dm", t / 3600, (t % 3600) / 60) }
    if t >= 60 { return String(format: "%dm%02ds", t / 60, t % 60) }
    return "\(t)s"
}

/// Pads to |width| characters, on the left for positive widths (right-aligned), else on the right.
func pad(_ s: String, _ width: Int) -> String {
    let fill = String(repeating: " ", count: max(0, abs(width) - s.count))
    return width < 0 ? s + fill : fill + s
}

func formatCount(_ n: Int) -> String {
    if n >= 10_000_000 { return String(format: "%.1fM", Double(n) / 1e6) }
    if n >= 10_000 { return String(format: "%.0fk", Double(n) / 1e3) }
    return "\(n)"
}

struct SweepPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Print the runs a sweep config plans, with FLOPs and an estimated time.")

    @Argument(help: "Sweep config (TOML).") var config: String
    @Option(help: "Workers for the time estimate (default: the config's).") var workers: Int?
    @Option(name: .customLong("unique-tokens"), help: "Unique training tokens, for the epochs column (default: the config's).")
    var uniqueTokens: Int?
    @Option(help: ArgumentHelp("Also plan the runs into this store (for workers started elsewhere).", valueName: "url"))
    var store: String?

    func validate() throws {
        if let workers, !(1...1_000_000).contains(workers) { throw ValidationError("--workers \(workers) must be in 1...1000000") }
        if let uniqueTokens, uniqueTokens < 0 { throw ValidationError("--unique-tokens \(uniqueTokens) must not be negative") }
    }

    func run() throws {
        let cfg = try SweepConfig.load(path: config)
        let plan = try Planner.plan(cfg, uniqueTrainingTokens: uniqueTokens)
        let model = cfg.flopsPerSecond.map { ThroughputModel(flopsPerSecond: $0, overheadPerToken: cfg.overheadPerToken) }
            ?? Calibration.throughput(for: plan.runs, cache: Calibration.defaultCacheFile)
        var seconds: [Double] = []
        print("sweep \(cfg.name): \(plan.runs.count) result rows (\(plan.trainedRuns.count) runs trained), corpus \(cfg.corpus), V=\(cfg.vocab), batch \(cfg.batch)×\(cfg.context), fixed cycle \(plan.fixedCycle) steps")
        let header: [(String, Int)] = [("budget", -7), ("d", 4), ("L", 2), ("head", 4), ("N", 8), ("N_nonemb", 8),
                                       ("steps", 7), ("tokens", 9), ("epochs", 6), ("lr", 8), ("schedule", -8), ("time", 8)]
        print(header.map { pad($0.0, $0.1) }.joined(separator: " "))
        for r in plan.runs {
            // A run read from a shared run takes no time of its own.
            let s = r.sharedFrom == nil ? model.seconds(r) : 0
            if r.sharedFrom == nil { seconds.append(s) }
            print(pad(formatFLOPs(r.budget), -7) + String(format: " %4d %2d %4d %8d %8d %7d ", r.model.d, r.model.layers,
                                                           r.model.headSize, r.parameters, r.nonEmbeddingParameters, r.steps)
                  + pad(formatCount(r.tokens), 9) + String(format: " %6.2f %8.2e ", r.epochs, r.peakLR)
                  + pad(r.schedule.rawValue, -8) + " " + pad(r.sharedFrom == nil ? formatDuration(s) : "shared", 8))
        }
        let w = workers ?? cfg.workers
        let trained = plan.trainedRuns
        print(String(format: "planned %d result rows, %@ FLOPs, %.3g tokens, as if each were trained on its own",
                     plan.runs.count, formatFLOPs(plan.totalFLOPs), Double(plan.runs.reduce(0) { $0 + $1.tokens })))
        print(String(format: "trained %d runs, %@ FLOPs, %.3g tokens (%d rows read from a longer run of the same fixed cycle); "
                     + "estimated %@ on %d workers (%@ of single-worker time)",
                     trained.count, formatFLOPs(plan.trainedFLOPs), Double(trained.reduce(0) { $0 + $1.tokens }),
                     plan.runs.count - trained.count, formatDuration(estimateWallSeconds(seconds, workers: w)), w,
                     formatDuration(seconds.reduce(0, +))))
        for warning in plan.warnings { print("warning: \(warning)") }
        if cfg.grid.adaptive {
            print("adaptive grid: this is the config's grid; budgets after the two smallest are centred on the optimum "
                  + "predicted from those finished when the sweep runs, and may get extra shapes (the fixed schedule keeps this grid)")
        }
        if let store {
            try refuseAdaptiveWithoutDriver(cfg, file: config)
            _ = try planIntoStore(cfg, url: store)
            print("planned into \(store)")
        }
    }
}

struct SweepRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Plan a sweep into its store and train it with worker processes; rerunning resumes.")

    @Argument(help: "Sweep config (TOML).") var config: String
    @OptionGroup var store: StoreOptions
    @OptionGroup var options: SweepRunOptions

    func run() throws {
        let cfg = try SweepConfig.load(path: config)
        var url = try store.resolved() ?? defaultStorePath(cfg)
        if options.dryRun != nil, try store.resolved() == nil {
            // Pretend results must never land in the sweep's real store: a scratch one instead.
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("isoflop-dry-run-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            url = scratch.appendingPathComponent("sweep.sqlite").path
            print("dry run: pretend results go to the scratch store \(url), not \(defaultStorePath(cfg))")
        }
        let checkpoints = try checkpointFolder(options.checkpoints, store: url)
        try checkCheckpointOwner(checkpoints, store: url)
        if options.dryRun == nil {
            // Before the plan is written: a sweep none of whose runs could train stays out of the store.
            try prepareSweepData(cfg)
            try checkSweepInputs(cfg, runs: try Planner.plan(cfg).runs)
        }
        let (store, sweep) = try planIntoStore(cfg, url: url)
        try markCheckpointOwner(checkpoints, store: store)
        try runSweep(cfg, sweep: sweep, store: store, url: url, checkpoints: checkpoints, options: options)
    }
}

struct SweepResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Finish a sweep already planned in a store (same as rerunning `sweep run`).")

    @OptionGroup var store: StoreOptions
    @Option(help: "The sweep to resume (default: the only one in the store).") var sweep: String?
    @OptionGroup var options: SweepRunOptions

    func run() throws {
        let url = try self.store.required()
        let checkpoints = try checkpointFolder(options.checkpoints, store: url)
        try checkCheckpointOwner(checkpoints, store: url)
        let store = try openExistingStoreForWriting(url)
        try markCheckpointOwner(checkpoints, store: store)
        let names = try store.sweepNames()
        guard let name = sweep ?? (names.count == 1 ? names[0] : nil) else {
            throw CLIError("the store holds \(names.count) sweeps (\(names.joined(separator: ", "))); name one with --sweep")
        }
        guard let id = try store.sweepID(named: name) else { throw StoreError.unknownSweep(name) }
        let json = try store.sweepConfigJSON(sweep: id)
        let cfg = try ConfigDecoder.decode(SweepConfig.self, fromJSON: json, file: "\(url) (sweep \(name))")
        try cfg.validate(file: "\(url) (sweep \(name))")
        try runSweep(cfg, sweep: id, store: store, url: url, checkpoints: checkpoints, options: options)
    }
}

/// Options shared by `sweep run` and `sweep resume`.
struct SweepRunOptions: ParsableArguments {
    func validate() throws {
        if let workers { try checkWorkerCount(workers, flag: "--workers") }
        try checkLease(lease)
        if let dryRun, !(dryRun.isFinite && dryRun > 0) {
            throw ValidationError("--dry-run \(dryRun) must be a positive, finite speed-up")
        }
    }

    @Option(help: "Worker processes (default: the config's).") var workers: Int?
    @Option(help: "Seconds a claimed run's lease lasts without renewal.") var lease: Double = 120
    @Option(help: "Folder for the runs' checkpoints (default: checkpoints beside an SQLite store; required for PostgreSQL).")
    var checkpoints: String?
    @Flag(name: .customLong("retry-failed"), help: "Plan failed runs again before starting.") var retryFailed = false
    @Option(name: .customLong("dry-run"),
            help: "Train nothing: pretend, this many times faster than the config's throughput model, with a parametric loss (to try the runner).")
    var dryRun: Double?
    @Option(help: "Keep the report in this folder up to date while the sweep runs (rewritten when a budget's runs have all ended, and every few minutes).")
    var report: String?
    @Flag(name: .customLong("wait-for-others"),
          help: "Return only when every run of the sweep has ended, those that workers of other machines hold included (taking over any whose lease runs out).")
    var waitForOthers = false
}

/// Builds the corpus, tokenizer and token files a sweep trains on when they are missing
/// (built-in corpora and ones added with `isoflop corpus add`), so a fresh checkout can run
/// a sweep directly.
func prepareSweepData(_ cfg: SweepConfig) throws {
    let fm = FileManager.default
    if fm.fileExists(atPath: cfg.trainTokens), fm.fileExists(atPath: cfg.evalTokens) { return }
    print("preparing corpus \(cfg.corpus) at V=\(cfg.vocab)")
    let prepared = try prepareCorpus(cfg.corpus, vocabSize: cfg.vocab, layout: DataLayout(),
                                     threads: ProcessInfo.processInfo.activeProcessorCount,
                                     progress: { print("  " + $0) })
    for (want, got) in [(cfg.trainTokens, prepared.train), (cfg.evalTokens, prepared.validation)]
    where !fm.fileExists(atPath: want) {
        throw CLIError("\(want) is missing and the corpus build wrote \(got) instead; point the config at it")
    }
}

/// `sqlite:PATH` → PATH; other URLs are left for openRunStore to reject.
func storePath(_ url: String) -> String { url.hasPrefix("sqlite:") ? String(url.dropFirst("sqlite:".count)) : url }

/// Opens (creating, for SQLite, its folder) the store and plans the sweep into it; planning
/// again the same sweep returns the stored one.
func planIntoStore(_ cfg: SweepConfig, url: String) throws -> (RunStore, Int64) {
    // An adaptive grid plans its later budgets as it runs (AdaptiveDriver).
    let runs = cfg.grid.adaptive ? try AdaptivePlan.initialRuns(cfg) : try Planner.plan(cfg).runs
    // A store named without a folder (`--store plain.sqlite`) lives in the current one.
    let folder = (storePath(url) as NSString).deletingLastPathComponent
    if isSQLiteStore(url), !folder.isEmpty {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }
    let store = try openRunStore(url)
    let configJSON = try cfg.storedJSON()
    if cfg.grid.adaptive, let id = try store.sweepID(named: cfg.name) {
        // The stored sweep holds the budgets planned since; the first ones must be the same.
        _ = try store.addRuns(sweep: id, runs: runs)
        return (store, id)
    }
    return (store, try store.createSweep(name: cfg.name, configJSON: configJSON, runs: runs))
}

/// Spawns the worker processes, shows progress until they exit, and reports how it ended.
func runSweep(_ cfg: SweepConfig, sweep: Int64, store: RunStore, url: String, checkpoints: String,
              options: SweepRunOptions) throws {
    let n = options.workers ?? cfg.workers
    do { try checkWorkerCount(n, flag: "workers") } catch let e as ValidationError { throw CLIError(e.message) }
    // Fail here, once and clearly, rather than in every worker when no trainer is connected.
    if options.dryRun == nil {
        try prepareSweepData(cfg)
        try checkSweepInputs(cfg, runs: try store.runs(sweep: sweep).map(\.plan))
    }
    // Runs left "running" by killed workers of this machine resume now, not after their lease.
    let released = try store.releaseDeadRuns(host: ProcessInfo.processInfo.hostName, isAlive: processIsAlive)
    if released > 0 { print("resuming \(released) interrupted run(s) from their checkpoints") }
    if options.retryFailed {
        print("retrying \(try store.retryFailedRuns(sweep: sweep)) failed run(s)")
    }

    installStopHandler()
    var launch = WorkerLaunch(store: url, checkpoints: checkpoints, sweep: cfg.name, lease: options.lease)
    // A live view owns the terminal; workers report their logging share only in plain mode.
    launch.report = isatty(STDOUT_FILENO) == 0
    // Runs still held by live workers (e.g. of a sweep killed a moment ago, which hand their
    // runs back within a step): wait for them rather than leave them unfinished.
    let held = try store.runs(sweep: sweep).filter { $0.status == .running }
    if !held.isEmpty {
        launch.waitForLeases = true
        print("\(held.count) run(s) held by other workers (\(held.compactMap(\.worker).joined(separator: ", "))); "
              + "waiting to take them over when they are handed back or their lease runs out")
    }
    if let dryRun = options.dryRun {
        launch.dryRun = (dryRun, cfg.flopsPerSecond ?? Calibration.fallbackFLOPsPerSecond, cfg.overheadPerToken)
    }
    // An adaptive grid adds runs while the last ones of a budget train: the workers wait for them.
    let adaptive = cfg.grid.adaptive ? AdaptiveDriver(config: cfg, store: store, sweep: sweep) : nil
    if adaptive != nil || options.waitForOthers { launch.waitForLeases = true }
    var children = try spawnWorkers(n, launch)

    let view = ProgressView(live: isatty(STDOUT_FILENO) != 0)
    let began = Date()
    let startFLOPs = SweepProgress(try store.runs(sweep: sweep)).doneFLOPs
    let live = options.report.map { LiveReport(store: url, sweep: cfg.name, out: $0, bootstrap: 100) }
    let tick = {
        _ = try adaptive?.advance()
        let runs = try store.runs(sweep: sweep)
        view.draw(runs, began: began, startFLOPs: startFLOPs, unplanned: adaptive?.unplannedFLOPs(runs) ?? 0)
        try live?.update(store.budgetProgress(sweep: sweep))
    }
    var failedWorkers = try superviseWorkers(children, tick: tick)
    // Workers that ran out of runs before the adaptive grid planned more: start them again.
    while let adaptive, stopSignals == 0, failedWorkers == 0,
          try adaptive.advance() > 0 || store.runs(sweep: sweep).contains(where: { $0.status == .planned }) {
        children = try spawnWorkers(n, launch)
        failedWorkers += try superviseWorkers(children, tick: tick)
    }
    let runs = try store.runs(sweep: sweep)
    let summary = SweepProgress(runs)
    try live?.finish(othersRunning: stopSignals == 0 && summary.byStatus[.running, default: 0] > 0)
    view.draw(runs, began: began, startFLOPs: startFLOPs, final: true)
    if stopSignals > 0 {
        print("stopped; rerun the same command to resume")
        throw ExitCode(130)
    }
    if failedWorkers > 0 { throw CLIError("\(failedWorkers) worker(s) exited with an error; rerun to resume") }
    if summary.byStatus[.planned, default: 0] + summary.byStatus[.running, default: 0] > 0 {
        print("some runs are still leased by other workers; rerun later to finish them")
    }
    if let failed = try failedRunsReport(store, sweep: sweep) {
        print(failed)
        throw CLIError("\(summary.byStatus[.failed] ?? 0) run(s) failed; fix the cause and rerun with --retry-failed")
    }
}

/// The live view: one block redrawn in place on a terminal, plain lines otherwise.
final class ProgressView {
    let live: Bool
    var drawnLines = 0
    var lastPlain = ""
    var lastPlainTime = Date.distantPast

    init(live: Bool) { self.live = live }

    /// `unplanned`: FLOPs an adaptive grid has still to plan (its later budgets), counted in the
    /// total and the ETA and shown as "+ ... to plan".
    func draw(_ runs: [RunRecord], began: Date, startFLOPs: Double, unplanned: Double = 0, final: Bool = false) {
        let s = SweepProgress(runs)
        let finished = (s.byStatus[.done] ?? 0) + (s.byStatus[.diverged] ?? 0) + (s.byStatus[.failed] ?? 0)
        let elapsed = Date().timeIntervalSince(began)
        let rate = (s.doneFLOPs - startFLOPs) / max(elapsed, 1e-9)
        let total = s.totalFLOPs + unplanned
        let eta = rate > 0 ? (total - s.doneFLOPs) / rate : .infinity
        let toPlan = unplanned > 0 ? " (+\(formatFLOPs(unplanned)) to plan)" : ""
        var lines = [String(format: "runs %d/%d (%d diverged, %d failed)  FLOPs %@/%@%@ (%.1f%%)  elapsed %@  ETA %@",
                            finished, s.total, s.byStatus[.diverged] ?? 0, s.byStatus[.failed] ?? 0, formatFLOPs(s.doneFLOPs),
                            formatFLOPs(s.totalFLOPs), toPlan, 100 * s.doneFLOPs / max(total, 1), formatDuration(elapsed),
                            final ? "-" : formatDuration(eta))]
        for r in runs.filter({ $0.status == .running && $0.sharedFrom == nil }).sorted(by: { ($0.worker ?? "") < ($1.worker ?? "") }) {
            lines.append(String(format: "  %@: %@  step %d/%d  loss %@", r.worker ?? "?", r.plan.key, r.step, r.plan.steps,
                                r.lastLoss.map { String(format: "%.4f", $0) } ?? "-"))
        }
        if live {
            var out = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
            for l in lines { out += "\u{1B}[2K" + l + "\n" }
            // Clear lines left over from a taller previous frame.
            for _ in lines.count..<max(drawnLines, lines.count) { out += "\u{1B}[2K\n" }
            print(out, terminator: "")
            drawnLines = max(drawnLines, lines.count)
        } else {
            // Plain lines: the summary when a run finishes, and at most every 30 s otherwise.
            let head = lines[0].components(separatedBy: "  FLOPs")[0]
            if head != lastPlain || final || Date().timeIntervalSince(lastPlainTime) >= 30 {
                print(lines.joined(separator: "\n"))
                lastPlain = head
                lastPlainTime = Date()
            }
        }
        fflush(stdout)
    }
}
