// `isoflop ladder`: Kaplan's setup to Chinchilla's one change at a time. Each rung is a sweep in
// one store; a run that an earlier rung already trained identically is copied, not trained; each
// rung is fitted under its own counting; ladder.json, the figures and a page are rewritten after
// every rung. Every stage can be killed and the same command resumes it.
import ArgumentParser
import Fit
import Foundation
import Ladder
import Report
import Sweep
import Tensor

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
        let ladder = try LadderConfig.load(path: config)
        let rungs = try ladder.rungConfigs(file: config)
        if plan { return try printPlan(ladder, rungs) }
        if slurm { return try writeSlurmScript(ladder, rungs) }
        let url = try store.resolved() ?? "runs/\(ladder.name)/sweep.sqlite"
        // Another store's checkpoint folder is refused before any rung is planned into this one.
        let checkpointDir = try checkpointFolder(checkpoints, store: url)
        try checkCheckpointOwner(checkpointDir, store: url)
        let rungFolder = (out as NSString).appendingPathComponent("rungs")
        try FileManager.default.createDirectory(atPath: rungFolder, withIntermediateDirectories: true)
        try prepareSweepData(rungs[0])
        var results: [LadderRungResult] = []
        var views: [LadderRungView] = []
        for (i, cfg) in rungs.enumerated() {
            // The rung's sweep config as a file: what `sweep run` trains, and a record for people.
            let file = (rungFolder as NSString).appendingPathComponent("\(cfg.name).json")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(cfg).write(to: URL(fileURLWithPath: file), options: .atomic)
            try checkSweepInputs(cfg, runs: try Planner.plan(cfg).runs)
            let (store, sweep) = try planIntoStore(cfg, url: url)
            let copied = try copySharedRuns(store, sweep: sweep, rungs: rungs)
            if copied > 0 { print("rung \(i) (\(ladder.rungs[i].name)): \(copied) run(s) copied from identical runs of other rungs") }
            print("rung \(i) (\(ladder.rungs[i].name)): sweep \(cfg.name)")
            try runStage(["sweep", "run", file, "--store", url, "--checkpoints", checkpointDir, "--lease", "\(lease)"]
                         + (workers.map { ["--workers", "\($0)"] } ?? []) + (waitForOthers ? ["--wait-for-others"] : []))
            let (result, view) = try fitRung(i, ladder.rungs[i], cfg, url: url)
            results.append(result)
            views.append(view)
            try writeOutputs(ladder, rungs: rungs, results: results, views: views)
        }
        printSummary(results)
        print("wrote \(out)/ladder.json and \(out)/index.html")
    }

    /// `--slurm`: checks every rung's inputs, plans the first rung into the store (so that
    /// `sweep status` follows the job from its start) and writes the job-array script whose
    /// every task runs this ladder with `--wait-for-others`.
    private func writeSlurmScript(_ ladder: LadderConfig, _ rungs: [SweepConfig]) throws {
        let url = try store.required()
        let checkpointDir = try checkpointFolder(checkpoints, store: url)
        try checkCheckpointOwner(checkpointDir, store: url)
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = { (path: String) in URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: cwd + "/")).standardizedFileURL.path }
        let file = absolute(script ?? "runs/\(ladder.name)/\(ladder.name).sbatch")
        let logs = (file as NSString).deletingLastPathComponent + "/slurm-logs"
        let (nodes, processesPerNode) = (cluster.nodes, cluster.processesPerNode)
        var job = SlurmJob(sweep: ladder.name, nodes: nodes, processesPerNode: processesPerNode, time: cluster.time ?? "",
                           partition: cluster.partition,
                           executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
                           workingDirectory: cwd, store: isSQLiteStore(url) ? "sqlite:" + absolute(storePath(url)) : url,
                           checkpoints: checkpointDir, logDirectory: logs, lease: lease,
                           ladder: SlurmLadder(config: absolute(config), out: absolute(out)))
        let all = try rungs.flatMap { try Planner.plan($0).runs }
        let distinct = try distinctTrainings(all)
        if cluster.time == nil {
            job.time = SlurmOptions.timeLimit(runs: distinct, config: rungs[0], workers: nodes * processesPerNode)
        }
        do { try job.validate() } catch let e as SlurmError { throw ValidationError(e.description) }
        if isSQLiteStore(url) {
            print("note: an SQLite store works across nodes only on a filesystem with reliable locks; prefer postgresql://")
        }
        try prepareSweepData(rungs[0])
        for cfg in rungs { try checkSweepInputs(cfg, runs: try Planner.plan(cfg).runs) }
        let (store, _) = try planIntoStore(rungs[0], url: url)
        try markCheckpointOwner(checkpointDir, store: store)
        for dir in [(file as NSString).deletingLastPathComponent, logs] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try job.script().write(toFile: file, atomically: true, encoding: .utf8)
        print("ladder \(ladder.name): \(rungs.count) rungs, \(all.count) runs, \(distinct.count) distinct trainings; "
              + "first rung planned in the store")
        print("wrote \(file): \(nodes) task(s) × \(processesPerNode) worker process(es), time limit \(job.time)")
        let exe = shellQuote(job.executable), quotedStore = shellQuote(job.store)
        print("next:")
        print("  sbatch \(shellQuote(file))")
        print("  \(exe) sweep status --store \(quotedStore) --watch 30")
        print("  open \(shellQuote(job.ladder!.out))/index.html (rewritten after every rung)")
    }

    /// Copies into the rung's planned runs the results of identical runs that ended in any other
    /// rung of the ladder; returns how many.
    private func copySharedRuns(_ store: RunStore, sweep: Int64, rungs: [SweepConfig]) throws -> Int {
        var donors: [RunRecord] = []
        for other in rungs {
            if let id = try store.sweepID(named: other.name), id != sweep { donors += try store.runs(sweep: id) }
        }
        let targets = try store.runs(sweep: sweep)
        let byID = Dictionary(uniqueKeysWithValues: targets.map { ($0.id, $0) })
        var copied = 0
        for share in try sharedRuns(targets: targets, donors: donors) {
            guard let target = byID[share.target] else { continue }
            if try store.copyResult(from: share.source, to: share.target, flopsPerToken: target.plan.flopsPerToken) { copied += 1 }
        }
        return copied
    }

    /// Approaches 2 and 3 with bootstrap intervals on the rung's ended runs, under its counting.
    private func fitRung(_ i: Int, _ rung: RungChange, _ cfg: SweepConfig, url: String) throws -> (LadderRungResult, LadderRungView) {
        let results = try readResults(url, sweep: cfg.name)
        let schedule = cfg.schedules[0].rawValue
        let finished = results.runs.filter { $0.status == .done || $0.status == .diverged }.count
        let copied = results.runs.filter { $0.message?.hasPrefix("copied from run") == true }.count
        var fit: FitReport?
        var runs: [FitRun] = []
        var notes: [String] = []
        do {
            runs = try fitRuns(results, schedule: schedule, source: url)
            fit = try fitScalingLaws(runs, options: rungFitOptions(cfg, resamples: bootstrap))
        } catch {
            notes.append("no fit (\(describeError(error)))")
        }
        var result = LadderRungResult(index: i, rung: rung, config: cfg, runs: results.runs.count, finished: finished,
                                      copied: copied, fit: fit)
        result.notes += notes
        let points = isoFLOPPoints(runs, convention: cfg.params.convention)
        let parabolas = (fit?.approach2?.profiles ?? []).filter(\.included).map {
            IsoFLOPParabola(budget: $0.budget, c0: $0.lossVsLogParameters.c0, c1: $0.lossVsLogParameters.c1, c2: $0.lossVsLogParameters.c2)
        }
        let changes = rung.delta.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
        let view = LadderRungView(name: rung.name, changes: changes, counting: countingLabel(cfg), runs: result.runs,
                                  finished: finished, copied: copied, approach2A: result.approach2A,
                                  approach3A: result.approach3A, approach2B: result.approach2B,
                                  points: points, parabolas: parabolas)
        return (result, view)
    }

    private func writeOutputs(_ ladder: LadderConfig, rungs: [SweepConfig], results: [LadderRungResult],
                              views: [LadderRungView]) throws {
        let planned = try rungs.flatMap { try Planner.plan($0).runs }
        let summary = LadderSummary(name: ladder.name, bootstrapResamples: bootstrap, rungs: results,
                                    plannedRuns: planned.count, distinctTrainings: try distinctTrainings(planned).count)
        try summary.encodedJSON().write(to: URL(fileURLWithPath: (out as NSString).appendingPathComponent("ladder.json")),
                                        options: .atomic)
        let pending = rungs.count - results.count
        let notes = results.flatMap { r in r.notes.map { "rung \(r.index) (\(r.name)): \($0)" } }
            + (pending > 0 ? ["\(pending) rung(s) still to come"] : [])
        try writeLadderReport(LadderReportModel(title: "isoflop ladder: \(ladder.name)", rungs: views, notes: notes), to: out)
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
    private func printPlan(_ ladder: LadderConfig, _ rungs: [SweepConfig]) throws {
        var seen: [String: String] = [:]
        var distinct: [PlannedRun] = []
        let all = try rungs.flatMap { try Planner.plan($0).runs }
        let model = rungs[0].flopsPerSecond.map { ThroughputModel(flopsPerSecond: $0, overheadPerToken: rungs[0].overheadPerToken) }
            ?? Calibration.throughput(for: all, cache: Calibration.defaultCacheFile)
        for (i, cfg) in rungs.enumerated() {
            let plan = try Planner.plan(cfg)
            let rung = ladder.rungs[i]
            let changes = rung.delta.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
            print("rung \(i) \(rung.name): \(rung.label ?? "")")
            print("  changes: \(changes.isEmpty ? "none" : changes); counting \(countingLabel(cfg)); \(plan.runs.count) runs")
            print("  " + [("budget", -7), ("d", 4), ("L", 2), ("head", 4), ("N", 8), ("steps", 7), ("warmup", 6), ("cycle", 6),
                          ("lr", 8), ("time", 8), ("trained", -16)].map { pad($0.0, $0.1) }.joined(separator: " "))
            var seconds = 0.0, fresh = 0
            for r in plan.runs {
                let key = try trainingFingerprint(r)
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

/// "Kaplan C, N_nonemb": how a rung counts compute and parameters.
func countingLabel(_ cfg: SweepConfig) -> String {
    let c: String
    switch cfg.flopCount {
    case .appendixF: c = "Appendix F C"
    case .sixN: c = "6ND C"
    case .kaplan: c = "Kaplan C"
    }
    return c + ", " + (cfg.params == .total ? "N" : "N_nonemb")
}
