// One worker process (`sweep worker`, which `sweep run`, `isoflop worker` and every Slurm task
// start): claim and train a store's runs until none is left, stopping with its parent.
import Foundation
import Sweep
#if canImport(Glibc)
import Glibc
#endif

public struct WorkerProcessOptions {
    /// The checkpoint folder; nil: `checkpoints` beside an SQLite store.
    public var checkpoints: String?
    /// Only runs of this sweep; nil: any sweep in the store.
    public var sweep: String?
    public var lease: Double = 120
    /// While other workers hold runs, wait to take over any whose lease runs out.
    public var waitForLeases = false
    /// Pretend to train (the dry run's parametric loss) under this throughput model, `speedup` times faster.
    public var dryRun: (speedup: Double, throughput: ThroughputModel)?
    /// The process that started this one: when it is gone, checkpoint and stop.
    public var parent: Int32?

    public init() {}
}

/// How a worker process ended.
public struct WorkerProcessResult {
    /// Host and pid: unique across machines, so one worker never renews another's lease.
    public var name: String
    public var report: WorkerReport
    /// Asked to stop, or orphaned: its run was checkpointed and handed back.
    public var stopped: Bool
}

/// Trains the store's runs in this process until none is left (or, waiting for leases, until
/// every run has ended). A worker whose parent was killed (kill -9 leaves no chance to pass a
/// signal on) sees its parent pid change, and then checkpoints, hands its run back and stops as
/// on Ctrl-C.
public func runWorkerProcess(store url: String, options: WorkerProcessOptions) throws -> WorkerProcessResult {
    let orphaned: () -> Bool = { options.parent.map { getppid() != $0 } ?? false }
    let name = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    if orphaned() { return WorkerProcessResult(name: name, report: WorkerReport(), stopped: true) }
    OrphanWatch(isOrphaned: orphaned).start()
    setenv("OPENBLAS_NUM_THREADS", "1", 1)
    installStopHandler()
    let checkpoints = try Checkpoints.folder(options.checkpoints, store: url)
    let store = try openExistingStore(url, forWriting: true)
    try Checkpoints.mark(checkpoints, store: store)
    var sweepID: Int64?
    if let sweep = options.sweep {
        guard let found = try store.sweepID(named: sweep) else { throw StoreError.unknownSweep(sweep) }
        sweepID = found
    }
    let executor: RunExecutor = options.dryRun.map { DryRunExecutor(throughput: $0.throughput, speedup: $0.speedup) } ?? TrainerExecutor()
    var worker = Worker(store: store, executor: executor, name: name, checkpointRoot: checkpoints, sweep: sweepID, lease: options.lease)
    // Renew well inside the lease even when steps are slow to fill a batch of rows.
    worker.maxSeconds = min(worker.maxSeconds, options.lease / 3)
    worker.waitForLeases = options.waitForLeases
    worker.pollSeconds = min(5, max(0.2, options.lease / 4))
    let report = try worker.runUntilDone(shouldStop: { stopRequested || orphaned() })
    return WorkerProcessResult(name: name, report: report, stopped: report.stopped > 0 || stopRequested || orphaned())
}
