// `isoflop sweep slurm`: plans a sweep into a (PostgreSQL) store and writes the sbatch
// job-array script whose tasks run `isoflop worker` on the cluster's nodes.
import ArgumentParser
import Foundation
import Study
import Sweep

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
        do {
            try submitSweep(cfg, file: config, store: try store.required(), checkpoints: checkpoints, shape: cluster.shape,
                            script: output, lease: lease) { print($0) }
        } catch let e as SlurmError { throw ValidationError(e.description) }
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
