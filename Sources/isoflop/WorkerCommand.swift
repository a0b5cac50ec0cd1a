// `isoflop worker`: worker processes for a sweep already planned into a store, on any number
// of machines at once (a Slurm task runs one), and the hidden per-process `sweep worker`.
import ArgumentParser
import Foundation
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
        let url = try self.store.required()
        let checkpoints = try checkpointFolder(checkpoints, store: url)
        try checkCheckpointOwner(checkpoints, store: url)
        let store = try openExistingStoreForWriting(url)
        try markCheckpointOwner(checkpoints, store: store)
        if let sweep, try store.sweepID(named: sweep) == nil { throw StoreError.unknownSweep(sweep) }
        let host = ProcessInfo.processInfo.hostName
        let released = try store.releaseDeadRuns(host: host, isAlive: processIsAlive)
        if released > 0 { print("released \(released) run(s) of dead workers on \(host)") }

        installStopHandler()
        var launch = WorkerLaunch(store: url, checkpoints: checkpoints, sweep: sweep, lease: lease)
        launch.waitForLeases = true
        launch.report = true
        let began = Date()
        let processes = min(self.processes ?? ProcessInfo.processInfo.activeProcessorCount, maxLocalWorkers)
        let failed = superviseWorkers(try spawnWorkers(processes, launch)) {}
        print("\(host): \(processes) worker process(es) finished in \(formatDuration(Date().timeIntervalSince(began)))")
        if stopRequested { throw ExitCode(130) }
        if failed > 0 { throw CLIError("\(failed) worker process(es) on \(host) exited with an error") }
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
        // Started by `sweep run` or `worker`: die with it. A worker whose parent was killed
        // (kill -9 leaves no chance to pass a signal on) sees its parent pid change, and then
        // checkpoints, hands its run back and exits like on Ctrl-C.
        let orphaned: () -> Bool = { [parent] in parent.map { getppid() != $0 } ?? false }
        if orphaned() { throw ExitCode(130) }
        OrphanWatch(isOrphaned: orphaned).start()
        setenv("OPENBLAS_NUM_THREADS", "1", 1)
        installStopHandler()
        let url = try self.store.required()
        let checkpoints = try checkpointFolder(checkpoints, store: url)
        try checkCheckpointOwner(checkpoints, store: url)
        let store = try openExistingStoreForWriting(url)
        try markCheckpointOwner(checkpoints, store: store)
        var sweepID: Int64?
        if let sweep {
            guard let found = try store.sweepID(named: sweep) else { throw StoreError.unknownSweep(sweep) }
            sweepID = found
        }
        let executor: RunExecutor
        if let dryRun {
            executor = DryRunExecutor(throughput: ThroughputModel(flopsPerSecond: flopsPerSecond,
                                                                  overheadPerToken: overheadPerToken), speedup: dryRun)
        } else {
            executor = TrainerExecutor()
        }
        // Host and pid name the worker: unique across machines, so one never renews another's lease.
        let host = ProcessInfo.processInfo.hostName, pid = ProcessInfo.processInfo.processIdentifier
        var worker = Worker(store: store, executor: executor, name: "\(host):\(pid)",
                            checkpointRoot: checkpoints, sweep: sweepID, lease: lease)
        // Renew well inside the lease even when steps are slow to fill a batch of rows.
        worker.maxSeconds = min(worker.maxSeconds, lease / 3)
        worker.waitForLeases = wait
        worker.pollSeconds = min(5, max(0.2, lease / 4))
        let report = try worker.runUntilDone(shouldStop: { stopRequested || orphaned() })
        if self.report { FileHandle.standardError.write(Data(String(
            format: "%@: %d done (and %d read from them), %d diverged, %d failed, %d stopped; %.2f s of %.1f s writing metrics (%.2f%%)\n",
            worker.name, report.done, report.shared, report.diverged, report.failed, report.stopped, report.secondsWriting, report.seconds,
            100 * report.secondsWriting / max(report.seconds, 1e-9)).utf8)) }
        if report.stopped > 0 || stopRequested || orphaned() { throw ExitCode(130) }
    }
}
