// `isoflop sweep slurm`: plans a sweep into a (PostgreSQL) store and writes the sbatch
// job-array script whose tasks run `isoflop worker` on the cluster's nodes.
import ArgumentParser
import Foundation
import Sweep
import Tensor

struct SweepSlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Plan a sweep into a store and write a Slurm job-array script whose tasks run `isoflop worker`.",
        discussion: """
            Run it from the package folder, on a filesystem the nodes share: the tasks start there \
            so the config's relative token paths resolve, and run this same isoflop binary.
            """)

    @Argument(help: "Sweep config (TOML).") var config: String
    @OptionGroup var store: StoreOptions
    @Option(help: "Folder for the runs' checkpoints, on a filesystem every node sees.") var checkpoints: String
    @OptionGroup var cluster: SlurmOptions
    @Option(help: "Seconds a claimed run's lease lasts without renewal (a lost node's run is taken over after this).")
    var lease: Double = 120
    @Option(help: "The script to write (default: runs/<name>/<name>.sbatch).") var output: String?

    func run() throws {
        let cfg = try SweepConfig.load(path: config)
        try refuseAdaptiveWithoutDriver(cfg, file: config)
        let url = try store.required()
        let checkpoints = try checkpointFolder(checkpoints, store: url)
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = { (path: String) in URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: cwd + "/")).standardizedFileURL.path }
        let script = absolute(output ?? "runs/\(cfg.name)/\(cfg.name).sbatch")
        let logs = (script as NSString).deletingLastPathComponent + "/slurm-logs"
        let (nodes, processesPerNode) = (cluster.nodes, cluster.processesPerNode)
        var job = SlurmJob(sweep: cfg.name, nodes: nodes, processesPerNode: processesPerNode,
                           time: cluster.time ?? "", partition: cluster.partition,
                           executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
                           workingDirectory: cwd, store: isSQLiteStore(url) ? "sqlite:" + absolute(storePath(url)) : url,
                           checkpoints: checkpoints, logDirectory: logs, lease: lease)
        if cluster.time == nil { job.time = try defaultTimeLimit(cfg, workers: nodes * processesPerNode) }
        do { try job.validate() } catch let e as SlurmError { throw ValidationError(e.description) }
        if isSQLiteStore(url) {
            print("note: an SQLite store works across nodes only on a filesystem with reliable locks; prefer postgresql://")
        }

        try prepareSweepData(cfg)
        let (store, sweep) = try planIntoStore(cfg, url: url)
        let summary = SweepProgress(try store.runs(sweep: sweep))
        for dir in [(script as NSString).deletingLastPathComponent, logs] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try job.script().write(toFile: script, atomically: true, encoding: .utf8)
        print(String(format: "sweep %@: %d runs planned in the store (%d done), %@ FLOPs", cfg.name, summary.total,
                     summary.byStatus[.done] ?? 0, formatFLOPs(summary.totalFLOPs)))
        print("wrote \(script): \(nodes) task(s) × \(processesPerNode) worker process(es), time limit \(job.time)")
        let exe = shellQuote(job.executable), quotedStore = shellQuote(job.store)
        print("next:")
        print("  sbatch \(shellQuote(script))")
        print("  \(exe) sweep status --store \(quotedStore) --watch 30")
        print("  \(exe) report --store \(quotedStore)")
    }

    /// The time limit for the plan's runs on this many workers (`SlurmOptions.timeLimit`).
    func defaultTimeLimit(_ cfg: SweepConfig, workers: Int) throws -> String {
        SlurmOptions.timeLimit(runs: try Planner.plan(cfg).runs, config: cfg, workers: workers)
    }
}

/// The Slurm job's shape, shared by `sweep slurm` and `ladder --slurm`.
struct SlurmOptions: ParsableArguments {
    @Option(help: "Slurm: array tasks, one node each.") var nodes: Int = 1
    @Option(name: .customLong("processes-per-node"), help: "Slurm: worker processes per task (its CPUs).")
    var processesPerNode: Int = 1
    @Option(help: "Slurm: time limit per task, [D-]HH:MM:SS (default: twice the estimate, plus 15 minutes).")
    var time: String?
    @Option(help: "Slurm partition.") var partition: String?

    /// None of the options was given.
    var isDefault: Bool { nodes == 1 && processesPerNode == 1 && time == nil && partition == nil }

    /// Twice the throughput model's estimate for `runs` on this many workers, plus 15 minutes,
    /// in whole minutes. The cluster's nodes are not this machine: a rate measured here would
    /// not apply, so the config's rate or the fallback is used.
    static func timeLimit(runs: [PlannedRun], config cfg: SweepConfig, workers: Int) -> String {
        let model = ThroughputModel(flopsPerSecond: cfg.flopsPerSecond ?? Calibration.fallbackFLOPsPerSecond,
                                    overheadPerToken: cfg.overheadPerToken)
        let seconds = estimateWallSeconds(runs.map(model.seconds), workers: workers)
        let minutes = Int((2 * seconds / 60).rounded(.up)) + 15
        return String(format: "%02d:%02d:00", minutes / 60, minutes % 60)
    }
}
