// `isoflop sweep`: plan a sweep, run it with worker processes over one run store, show its
// status. What each does is a call into Study; this file holds the flags and the live view.
import ArgumentParser
import Foundation
import Study
import Sweep
import Tensor
#if canImport(Glibc)
import Glibc
#endif

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Plan, run and inspect IsoFLOP sweeps.",
        subcommands: [SweepPlanCommand.self, SweepRunCommand.self, SweepResumeCommand.self, SweepStatusCommand.self,
                      SweepSlurmCommand.self, SweepWorkerCommand.self])
}

/// Pads to |width| characters, on the left for positive widths (right-aligned), else on the right.
func pad(_ s: String, _ width: Int) -> String {
    let fill = String(repeating: " ", count: max(0, abs(width) - s.count))
    return width < 0 ? s + fill : fill + s
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
        print(planTable(plan, workers: workers ?? cfg.workers))
        if cfg.grid.adaptive {
            print("adaptive grid: this is the config's grid; budgets after the two smallest are centred on the optimum "
                  + "predicted from those finished when the sweep runs, and may get extra shapes (the fixed schedule keeps this grid)")
        }
        if let store {
            try refuseAdaptiveWithoutDriver(cfg, file: config)
            _ = try planIntoStore(cfg, RunBatches.initial(plan), url: store)
            print("planned into \(redactedStoreURL(store))")
        }
    }
}

/// `sweep plan`'s table: every run with its size, length and time, then the totals and warnings.
func planTable(_ plan: SweepPlan, workers w: Int) -> String {
    let cfg = plan.config
    let model = cfg.flopsPerSecond.map { ThroughputModel(flopsPerSecond: $0, overheadPerToken: cfg.overheadPerToken) }
        ?? Calibration.throughput(for: plan.runs, cache: Calibration.defaultCacheFile)
    var seconds: [Double] = []
    var lines = ["sweep \(cfg.name): \(plan.runs.count) result rows (\(plan.trainedRuns.count) runs trained), corpus \(cfg.corpus), V=\(cfg.vocab), batch \(cfg.batch)×\(cfg.context), fixed cycle \(plan.fixedCycle) steps"]
    let header: [(String, Int)] = [("budget", -7), ("d", 4), ("L", 2), ("head", 4), ("N", 8), ("N_nonemb", 8),
                                   ("steps", 7), ("tokens", 9), ("epochs", 6), ("lr", 8), ("schedule", -8), ("time", 8)]
    lines.append(header.map { pad($0.0, $0.1) }.joined(separator: " "))
    for r in plan.runs {
        // A run read from a shared run takes no time of its own.
        let s = r.sharedFrom == nil ? model.seconds(r) : 0
        if r.sharedFrom == nil { seconds.append(s) }
        lines.append(pad(formatFLOPs(r.budget), -7) + String(format: " %4d %2d %4d %8d %8d %7d ", r.model.d, r.model.layers,
                                                             r.model.headSize, r.parameters, r.nonEmbeddingParameters, r.steps)
                     + pad(formatWholeCount(r.tokens), 9) + String(format: " %6.2f %8.2e ", r.epochs, r.peakLR)
                     + pad(r.schedule.rawValue, -8) + " " + pad(r.sharedFrom == nil ? formatDuration(s) : "shared", 8))
    }
    let trained = plan.trainedRuns
    // Tokens each run trains itself: a wsd branch only its cooldown's.
    let trainedTokens = trained.reduce(0.0) { $0 + Double($1.tokens) * Double($1.steps - $1.firstTrainedStep) / Double(max($1.steps, 1)) }
    let branches = trained.filter { $0.branchOf != nil }.count
    var shared = ["\(plan.runs.count - trained.count) rows read from a longer run of the same fixed cycle"]
    if branches > 0 { shared.append("\(branches) wsd branches train only their cooldown, from their trunk's checkpoint") }
    lines.append(String(format: "planned %d result rows, %@ FLOPs, %.3g tokens, as if each were trained on its own",
                        plan.runs.count, formatFLOPs(plan.totalFLOPs), Double(plan.runs.reduce(0) { $0 + $1.tokens })))
    lines.append(String(format: "trained %d runs, %@ FLOPs, %.3g tokens (%@); estimated %@ on %d workers (%@ of single-worker time)",
                        trained.count, formatFLOPs(plan.trainedFLOPs), trainedTokens, shared.joined(separator: "; "),
                        formatDuration(estimateWallSeconds(seconds, workers: w)), w, formatDuration(seconds.reduce(0, +))))
    lines += plan.warnings.map { "warning: \($0)" }
    return lines.joined(separator: "\n")
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
        var url = try store.resolved() ?? defaultStoreURL(cfg)
        if options.dryRun != nil, try store.resolved() == nil {
            // Pretend results must never land in the sweep's real store: a scratch one instead.
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("isoflop-dry-run-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            url = scratch.appendingPathComponent("sweep.sqlite").path
            print("dry run: pretend results go to the scratch store \(url), not \(defaultStoreURL(cfg))")
        }
        try runSweep(cfg, store: url, options: options.trainOptions, hooks: ProgressView.hooks())
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
        let checkpoints = try Checkpoints.folder(options.checkpoints, store: url)
        let sweep = try storedSweep(url: url, name: self.sweep)
        try Checkpoints.mark(checkpoints, store: sweep.store)
        if options.dryRun == nil {
            // Fail here, once and clearly, rather than in every worker when no trainer is connected.
            try prepareSweepData(sweep.config) { print($0) }
            try checkSweepInputs(sweep.config, runs: try sweep.store.runs(sweep: sweep.id).map(\.plan))
        }
        try train(sweep, checkpoints: checkpoints, options: options.trainOptions, hooks: ProgressView.hooks())
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

    var trainOptions: TrainOptions {
        var o = TrainOptions()
        o.workers = workers
        o.lease = lease
        o.checkpoints = checkpoints
        o.retryFailed = retryFailed
        o.dryRun = dryRun
        o.liveReport = report
        o.waitForOthers = waitForOthers
        // A live view owns the terminal; workers report their logging share only in plain mode.
        o.workerReports = isatty(STDOUT_FILENO) == 0
        return o
    }
}

/// The live view: one block redrawn in place on a terminal, plain lines otherwise.
final class ProgressView {
    let live: Bool
    var drawnLines = 0
    var lastPlain = ""
    var lastPlainTime = Date.distantPast

    init(live: Bool) { self.live = live }

    /// Hooks that print a study's lines and draw its progress here.
    static func hooks() -> TrainHooks {
        let view = ProgressView(live: isatty(STDOUT_FILENO) != 0)
        return TrainHooks(message: { print($0) }, progress: view.draw)
    }

    /// The progress line (FLOPs an adaptive grid has still to plan counted in the total and the
    /// ETA and shown as "+ ... to plan") and, below it, every run being trained.
    func draw(_ snapshot: SweepSnapshot) {
        let s = snapshot.progress
        let finished = (s.byStatus[.done] ?? 0) + (s.byStatus[.diverged] ?? 0) + (s.byStatus[.failed] ?? 0)
        let unplanned = snapshot.unplannedFLOPs
        let toPlan = unplanned > 0 ? " (+\(formatFLOPs(unplanned)) to plan)" : ""
        var lines = [String(format: "runs %d/%d (%d diverged, %d failed)  FLOPs %@/%@%@ (%.1f%%)  elapsed %@  ETA %@",
                            finished, s.total, s.byStatus[.diverged] ?? 0, s.byStatus[.failed] ?? 0, formatFLOPs(s.doneFLOPs),
                            formatFLOPs(s.totalFLOPs), toPlan, 100 * s.doneFLOPs / max(snapshot.totalFLOPs, 1),
                            formatDuration(snapshot.elapsed), snapshot.final ? "-" : formatDuration(snapshot.etaSeconds))]
        let running = snapshot.runs.filter { $0.status == .running && $0.sharedFrom == nil }
        for r in running.sorted(by: { ($0.worker ?? "") < ($1.worker ?? "") }) {
            lines.append(String(format: "  %@: %@  step %d/%d  loss %@", r.worker ?? "?", r.plan.key, r.step, r.plan.steps,
                                r.lastLoss.map { String(format: "%.4f", $0) } ?? "-"))
        }
        live ? redraw(lines) : printPlain(lines, final: snapshot.final)
        fflush(stdout)
    }

    private func redraw(_ lines: [String]) {
        var out = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        for l in lines { out += "\u{1B}[2K" + l + "\n" }
        // Clear lines left over from a taller previous frame.
        for _ in lines.count..<max(drawnLines, lines.count) { out += "\u{1B}[2K\n" }
        print(out, terminator: "")
        drawnLines = max(drawnLines, lines.count)
    }

    /// Plain lines: the summary when a run finishes, and at most every 30 s otherwise.
    private func printPlain(_ lines: [String], final: Bool) {
        let head = lines[0].components(separatedBy: "  FLOPs")[0]
        if head != lastPlain || final || Date().timeIntervalSince(lastPlainTime) >= 30 {
            print(lines.joined(separator: "\n"))
            lastPlain = head
            lastPlainTime = Date()
        }
    }
}
