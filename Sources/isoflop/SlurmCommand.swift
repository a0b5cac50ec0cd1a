// `isoflop sweep slurm`: plans a sweep into a (PostgreSQL) store and writes the sbatch
// job-array script whose tasks run `isoflop worker` on the cluster's nodes.
import ArgumentParser
import Foundation
import Study
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
        let checkpoints = try Checkpoints.folder(checkpoints, store: url)
        let plan = try Planner.plan(cfg)
        let submission: SlurmSubmission
        do {
            submission = try SlurmSubmission(name: cfg.name, shape: cluster.shape, store: url, checkpoints: checkpoints,
                                             script: output, lease: lease, runs: plan.runs, config: cfg)
        } catch let e as SlurmError { throw ValidationError(e.description) }
        if StoreURL.isSQLite(url) {
            print("note: an SQLite store works across nodes only on a filesystem with reliable locks; prefer postgresql://")
        }
        try prepareSweepData(cfg) { print($0) }
        let sweep = try planIntoStore(cfg, RunBatches.initial(plan), url: url)
        let summary = SweepProgress(try sweep.store.runs(sweep: sweep.id))
        try submission.write()
        print(String(format: "sweep %@: %d runs planned in the store (%d done), %@ FLOPs", cfg.name, summary.total,
                     summary.byStatus[.done] ?? 0, formatFLOPs(summary.totalFLOPs)))
        print("wrote \(submission.file): \(cluster.nodes) task(s) × \(cluster.processesPerNode) worker process(es), time limit \(submission.job.time)")
        print("next:")
        for line in submission.nextSteps { print("  " + line) }
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

    var shape: ClusterShape { ClusterShape(nodes: nodes, processesPerNode: processesPerNode, time: time, partition: partition) }
}
