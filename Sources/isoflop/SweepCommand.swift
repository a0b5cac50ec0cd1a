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
            url = try scratchStoreURL()
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
        try resumeSweep(store: try self.store.required(), name: sweep, options: options.trainOptions, hooks: ProgressView.hooks())
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

extension ProgressView {
    /// Hooks that print a study's lines and draw its progress on standard output.
    static func hooks() -> TrainHooks {
        hooks(live: isatty(STDOUT_FILENO) != 0) { text in
            print(text, terminator: "")
            fflush(stdout)
        }
    }
}
