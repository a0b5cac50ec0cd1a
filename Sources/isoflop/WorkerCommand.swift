// `isoflop worker`: worker processes for a sweep already planned into a store, on any number
// of machines at once (a Slurm task runs one), and the hidden per-process `sweep worker`.
import ArgumentParser
import Foundation
import Study
import Sweep
#if canImport(Glibc)
import Glibc
#endif

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Claim and train a store's planned runs with worker processes until none is left.",
        discussion: """
            Start any number of these on any number of machines against one store: claims are \
            atomic, and a run whose worker died is taken over when its lease runs out, resuming \
            from its latest checkpoint in the shared --checkpoints folder.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "Folder for the runs' checkpoints, seen by every machine (default: checkpoints beside an SQLite store; required for PostgreSQL).")
    var checkpoints: String?
    @Option(help: "Worker processes, one BLAS thread each (default: this machine's CPUs).")
    var processes: Int?
    @Option(help: "Only runs of this sweep (default: any sweep in the store).") var sweep: String?
    @Option(help: "Seconds a claimed run's lease lasts without renewal.") var lease: Double = 120

    func validate() throws {
        if let processes { try checkWorkerCount(processes, flag: "--processes") }
        try checkLease(lease)
    }

    func run() throws {
        let processes = min(self.processes ?? ProcessInfo.processInfo.activeProcessorCount, maxLocalWorkers)
        let failed = try runWorkers(store: try store.required(), checkpoints: checkpoints, processes: processes, sweep: sweep,
                                    lease: lease) { print($0) }
        if stopRequested { throw ExitCode(130) }
        if failed > 0 { throw CLIError("\(failed) worker process(es) on \(ProcessInfo.processInfo.hostName) exited with an error") }
    }
}

/// One worker process; `sweep run` and `worker` start these.
struct SweepWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "One worker process: claim and train runs from a store until none are left.",
        shouldDisplay: false)

    @OptionGroup var store: StoreOptions
    @Option(help: "Folder for the runs' checkpoints.") var checkpoints: String?
    @Option(help: "Only runs of this sweep (default: any sweep in the store).") var sweep: String?
    @Option(help: "Seconds a claimed run's lease lasts without renewal.") var lease: Double = 120
    @Flag(help: "While other workers hold runs, wait to take over any whose lease runs out.") var wait = false
    @Flag(help: "Print what the worker did and its share of time writing metrics.") var report = false
    @Option(name: .customLong("dry-run"), help: "Pretend to train, this many times faster than the throughput model.")
    var dryRun: Double?
    @Option(name: .customLong("flops-per-second"), help: "Throughput model of the dry run.") var flopsPerSecond: Double = 5.7e10
    @Option(name: .customLong("overhead-per-token"), help: "Throughput model of the dry run.") var overheadPerToken: Double = 4.4e-6
    @Option(help: "Pid of the process that started this worker: when it is gone, checkpoint and stop.") var parent: Int32?

    func validate() throws {
        try checkLease(lease)
        if let dryRun, !(dryRun.isFinite && dryRun > 0) { throw ValidationError("--dry-run \(dryRun) must be a positive, finite speed-up") }
        guard flopsPerSecond.isFinite, flopsPerSecond > 0, overheadPerToken.isFinite, overheadPerToken >= 0 else {
            throw ValidationError("--flops-per-second \(flopsPerSecond) must be positive and --overhead-per-token \(overheadPerToken) not negative")
        }
    }

    func run() throws {
        var options = WorkerProcessOptions()
        options.checkpoints = checkpoints
        options.sweep = sweep
        options.lease = lease
        options.waitForLeases = wait
        options.parent = parent
        options.dryRun = dryRun.map { ($0, ThroughputModel(flopsPerSecond: flopsPerSecond, overheadPerToken: overheadPerToken)) }
        let result = try runWorkerProcess(store: try store.required(), options: options)
        if report { FileHandle.standardError.write(Data((workerReportLine(result) + "\n").utf8)) }
        if result.stopped { throw ExitCode(130) }
    }
}
