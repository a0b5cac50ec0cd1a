// `isoflop ladder`: Kaplan's setup to Chinchilla's one change at a time (Study's `runLadder`
// trains and fits the rungs); `--plan` prints what each rung trains, `--slurm` writes the job.
import ArgumentParser
import Foundation
import Ladder
import Study
import Sweep
#if canImport(Glibc)
import Glibc
#endif

struct LadderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ladder",
        abstract: "Run (or resume) a ladder of sweeps from Kaplan's setup to Chinchilla's, fit every rung and report the exponents.")

    @Option(help: "Ladder config.") var config: String = "configs/ladder.toml"
    @Flag(help: "Print every rung's runs (shared runs marked) and the estimated time; train nothing.") var plan = false
    @Option(help: "Folder for ladder.json, the figures, the page and the rungs' sweep configs.") var out: String = "out/ladder"
    @Option(help: "Bootstrap resamples for each rung's intervals.") var bootstrap: Int = 1000
    @Option(help: "Worker processes (default: the config's).") var workers: Int?
    @OptionGroup var store: StoreOptions
    @Option(help: "Folder for the runs' checkpoints (default: checkpoints beside an SQLite store; required for PostgreSQL).")
    var checkpoints: String?
    @Option(help: "Seconds a claimed run's lease lasts without renewal.") var lease: Double = 120
    @Flag(name: .customLong("wait-for-others"),
          help: "End each rung only when every one of its runs has ended, those that other machines' workers hold included (set by the Slurm script).")
    var waitForOthers = false

    @Flag(help: "Write a Slurm job-array script whose every task runs this ladder beside the others (on the --store, PostgreSQL); train nothing here.")
    var slurm = false
    @OptionGroup var cluster: SlurmOptions
    @Option(help: "Slurm: the script to write (default: runs/<ladder>/<ladder>.sbatch).") var script: String?

    func validate() throws {
        guard (0...100_000).contains(bootstrap) else { throw ValidationError("--bootstrap \(bootstrap) must be in 0...100000") }
        if let workers { try checkWorkerCount(workers, flag: "--workers") }
        try checkLease(lease)
        if slurm && plan { throw ValidationError("--slurm and --plan: choose one") }
        if !slurm && (!cluster.isDefault || script != nil) {
            throw ValidationError("--nodes, --processes-per-node, --time, --partition and --script go with --slurm")
        }
        if slurm && workers != nil { throw ValidationError("with --slurm, --processes-per-node sets each task's workers, not --workers") }
    }

    func run() throws {
        let plan = try LadderPlan(try LadderConfig.load(path: config), file: config)
        if self.plan { return print(ladderPlanText(plan, workers: workers)) }
        if slurm { return try writeSlurmScript(plan) }
        var options = LadderOptions()
        options.out = out
        options.bootstrap = bootstrap
        options.train.workers = workers
        options.train.lease = lease
        options.train.checkpoints = checkpoints
        options.train.waitForOthers = waitForOthers
        options.train.workerReports = isatty(STDOUT_FILENO) == 0
        let results = try runLadder(plan, store: try store.resolved() ?? "runs/\(plan.ladder.name)/sweep.sqlite",
                                    options: options, hooks: ProgressView.hooks())
        print(ladderSummaryTable(results))
        print("wrote \(out)/ladder.json and \(out)/index.html")
    }

    /// `--slurm`: the job-array script whose every task runs this ladder with `--wait-for-others`.
    private func writeSlurmScript(_ plan: LadderPlan) throws {
        do {
            try submitLadder(plan, config: config, out: out, store: try store.required(), checkpoints: checkpoints,
                             shape: cluster.shape, script: script, lease: lease) { print($0) }
        } catch let e as SlurmError { throw ValidationError(e.description) }
    }
}
