// `isoflop ladder`: Kaplan's setup to Chinchilla's one change at a time (Study's `runLadder`
// trains and fits the rungs); `--plan` prints what each rung trains, `--slurm` writes the job.
import ArgumentParser
import Fit
import Foundation
import Ladder
import Report
import Study
import Sweep
import Tensor
import Training
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
        if self.plan { return try printPlan(plan) }
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
        printSummary(results)
        print("wrote \(out)/ladder.json and \(out)/index.html")
    }

    /// `--slurm`: checks every rung's inputs, plans the first rung into the store (so that
    /// `sweep status` follows the job from its start) and writes the job-array script whose
    /// every task runs this ladder with `--wait-for-others`.
    private func writeSlurmScript(_ plan: LadderPlan) throws {
        let url = try store.required()
        let checkpointDir = try Checkpoints.folder(checkpoints, store: url)
        let distinct = distinctTrainings(plan.allRuns)
        let submission: SlurmSubmission
        do {
            submission = try SlurmSubmission(name: plan.ladder.name, shape: cluster.shape, store: url, checkpoints: checkpointDir,
                                             script: script, lease: lease, ladder: SlurmLadder(config: config, out: out),
                                             runs: distinct, config: plan.rungs[0])
        } catch let e as SlurmError { throw ValidationError(e.description) }
        if StoreURL.isSQLite(url) {
            print("note: an SQLite store works across nodes only on a filesystem with reliable locks; prefer postgresql://")
        }
        try prepareSweepData(plan.rungs[0]) { print($0) }
        for (cfg, rungPlan) in zip(plan.rungs, plan.plans) { try checkSweepInputs(cfg, runs: rungPlan.runs) }
        let sweep = try planIntoStore(plan.rungs[0], RunBatches.initial(plan.plans[0]), url: url)
        try Checkpoints.mark(checkpointDir, store: sweep.store)
        try submission.write()
        print("ladder \(plan.ladder.name): \(plan.rungs.count) rungs, \(plan.allRuns.count) runs, \(distinct.count) distinct trainings; "
              + "first rung planned in the store")
        print("wrote \(submission.file): \(cluster.nodes) task(s) × \(cluster.processesPerNode) worker process(es), time limit \(submission.job.time)")
        print("next:")
        for line in submission.nextSteps { print("  " + line) }
    }

    private func printSummary(_ results: [LadderRungResult]) {
        print(pad("rung", -18) + " " + pad("counting", -22) + " " + pad("a (approach 2)", -20) + " " + pad("a (approach 3)", -20) + " runs (copied)")
        for r in results {
            func f(_ e: Estimate?) -> String { e?.formatted() ?? "–" }
            print(pad("\(r.index): \(r.name)", -18) + " " + pad("\(r.flopCount.rawValue) C, \(r.params.rawValue) N", -22) + " "
                  + pad(f(r.approach2A), -20) + " " + pad(f(r.approach3A), -20) + " \(r.finished)/\(r.runs) (\(r.copied))")
        }
    }

    /// Every rung's runs, which of them an earlier rung already trains, and the time of the
    /// distinct trainings on the config's workers.
    private func printPlan(_ ladderPlan: LadderPlan) throws {
        let (ladder, rungs) = (ladderPlan.ladder, ladderPlan.rungs)
        var seen: [TrainConfig: String] = [:]
        var distinct: [PlannedRun] = []
        let all = ladderPlan.allRuns
        let model = rungs[0].flopsPerSecond.map { ThroughputModel(flopsPerSecond: $0, overheadPerToken: rungs[0].overheadPerToken) }
            ?? Calibration.throughput(for: all, cache: Calibration.defaultCacheFile)
        for (i, cfg) in rungs.enumerated() {
            let plan = ladderPlan.plans[i]
            let rung = ladder.rungs[i]
            let changes = rung.delta.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
            print("rung \(i) \(rung.name): \(rung.label ?? "")")
            print("  changes: \(changes.isEmpty ? "none" : changes); counting \(countingLabel(cfg)); \(plan.runs.count) runs")
            print("  " + [("budget", -7), ("d", 4), ("L", 2), ("head", 4), ("N", 8), ("steps", 7), ("warmup", 6), ("cycle", 6),
                          ("lr", 8), ("time", 8), ("trained", -16)].map { pad($0.0, $0.1) }.joined(separator: " "))
            var seconds = 0.0, fresh = 0
            for r in plan.runs {
                let key = r.training
                let shared = r.sharedFrom.map { "prefix of \($0)" } ?? seen[key].map { "as in \($0)" }
                if shared == nil {
                    seen[key] = "\(rung.name)"
                    distinct.append(r)
                    seconds += model.seconds(r)
                    fresh += 1
                }
                print("  " + pad(formatFLOPs(r.budget), -7) + String(format: " %4d %2d %4d %8d %7d %6d %6d %8.2e ", r.model.d,
                      r.model.layers, r.model.headSize, r.parameters, r.steps, r.warmupSteps, r.cycleSteps, r.peakLR)
                      + pad(shared == nil ? formatDuration(model.seconds(r)) : "-", 8) + " " + (shared ?? "here"))
            }
            print("  new trainings: \(fresh), single-worker time \(formatDuration(seconds))")
        }
        let w = workers ?? rungs[0].workers
        let times = distinct.map(model.seconds)
        print("ladder \(ladder.name): \(rungs.count) rungs, \(all.count) runs, \(distinct.count) distinct trainings, "
              + "\(formatFLOPs(distinct.reduce(0) { $0 + $1.model.trainingFLOPsPerToken * Double($1.tokens) })) FLOPs (Appendix F); "
              + "estimated \(formatDuration(estimateWallSeconds(times, workers: w))) on \(w) workers "
              + "(rungs run one after another, so expect somewhat more)")
    }
}
