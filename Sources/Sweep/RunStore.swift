// The run store: what workers, status and export need from the database of a sweep, as a
// protocol (SQLite now; a PostgreSQL backend can implement the same later), and the records.
import Foundation

public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case planned, running, done, diverged, failed
}

/// One logged step of a run. Primary key (run, step): a resumed run rewrites, never duplicates.
public struct MetricRow: Equatable, Sendable {
    public var run: Int64
    public var step: Int
    public var tokens: Int
    public var flops: Double
    public var lr: Double
    public var trainLoss: Double
    public var evalLoss: Double?

    public init(run: Int64, step: Int, tokens: Int, flops: Double, lr: Double, trainLoss: Double, evalLoss: Double? = nil) {
        self.run = run
        self.step = step
        self.tokens = tokens
        self.flops = flops
        self.lr = lr
        self.trainLoss = trainLoss
        self.evalLoss = evalLoss
    }
}

/// How a run ended, as reported by its executor.
public enum RunOutcome: Equatable, Sendable {
    case done(finalTrainLoss: Double, finalEvalLoss: Double?, tokensPerSecond: Double)
    /// The loss became non-finite or exploded at `step`.
    case diverged(step: Int, loss: Double)
    /// Asked to stop (Ctrl-C): the executor has checkpointed; the run goes back to planned.
    case stopped
}

/// A run as stored.
public struct RunRecord: Sendable {
    public var id: Int64
    public var sweep: Int64
    public var plan: PlannedRun
    public var status: RunStatus
    public var worker: String?
    public var host: String?
    public var pid: Int?
    public var leaseExpiry: Double?
    public var started: Double?
    public var ended: Double?
    /// Last step and train loss flushed by the worker (for progress views).
    public var step: Int
    public var lastLoss: Double?
    public var finalTrainLoss: Double?
    public var finalEvalLoss: Double?
    public var tokensPerSecond: Double?
    public var wallSeconds: Double?
    public var message: String?
    public var attempts: Int
}

/// Errors of the store that are not plain SQLite errors.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    case newerSchema(path: String, found: Int, known: Int)
    case notADatabase(path: String, message: String)
    case sweepConflict(name: String, message: String)
    case unknownSweep(String)
    case unsupportedURL(String)
    case notOwner(run: Int64, worker: String)

    public var description: String {
        switch self {
        case let .newerSchema(path, found, known):
            return "\(path): run store schema version \(found) is newer than this isoflop knows (\(known)); use a newer isoflop. Nothing was changed."
        case let .notADatabase(path, message):
            return "\(path): not a run store (\(message)); the file was left untouched"
        case let .sweepConflict(name, message):
            return "sweep '\(name)': \(message)"
        case let .unsupportedURL(url):
            return "run store '\(url)': only sqlite:PATH (or a plain path) is supported by this build"
        case let .unknownSweep(name):
            return "no sweep named '\(name)' in the store"
        case let .notOwner(run, worker):
            return "run \(run) is no longer leased to worker \(worker) (its lease expired and another worker took it)"
        }
    }
}

/// Runs by state and FLOPs, for progress and status.
public struct SweepSummary: Sendable {
    public var total = 0
    public var byStatus: [RunStatus: Int] = [:]
    public var totalFLOPs = 0.0
    /// FLOPs of finished (done or diverged) runs plus the completed part of running ones.
    public var doneFLOPs = 0.0
    public var running: [RunRecord] = []

    public init() {}
}

/// The run store of a sweep. Claims are atomic: two workers never hold the same run. One store
/// object per thread (the SQLite one wraps a single connection); open one per worker.
public protocol RunStore: AnyObject {
    /// Creates the sweep with its runs, or returns the existing sweep of that name when its
    /// runs are the same (rerunning a command resumes); different runs → `sweepConflict`.
    func createSweep(name: String, configJSON: String, runs: [PlannedRun]) throws -> Int64
    func sweepID(named name: String) throws -> Int64?
    func sweepNames() throws -> [String]
    /// Takes the next planned run (or a running one whose lease expired), largest first, and
    /// marks it running under `worker` until now + `lease` seconds.
    func claimNextRun(sweep: Int64?, worker: String, host: String, pid: Int, lease: Double) throws -> RunRecord?
    /// Extends the lease; throws `notOwner` when another worker has taken the run.
    func renewLease(run: Int64, worker: String, lease: Double) throws
    /// Writes metric rows in one transaction (replacing rows of the same run and step) and
    /// records the last step and loss for progress.
    func appendMetrics(_ rows: [MetricRow]) throws
    /// Puts back to planned the running runs of workers on `host` whose process is gone
    /// (after a kill -9, rerunning on the same machine need not wait for their leases).
    func releaseDeadRuns(host: String, isAlive: (Int) -> Bool) throws -> Int
    /// Puts the sweep's failed runs back to planned (to retry them after a fix); returns how many.
    func retryFailedRuns(sweep: Int64) throws -> Int
    /// The config JSON the sweep was created with.
    func sweepConfigJSON(sweep: Int64) throws -> String
    func finishRun(_ run: Int64, worker: String, outcome: RunOutcome, wallSeconds: Double) throws
    /// Marks a run failed with a message (an executor error).
    func failRun(_ run: Int64, worker: String, message: String) throws
    func runs(sweep: Int64) throws -> [RunRecord]
    func metrics(run: Int64) throws -> [MetricRow]
    func summary(sweep: Int64) throws -> SweepSummary
}

/// Opens a run store by URL: `sqlite:PATH` or a plain path. Other schemes (a PostgreSQL backend
/// for clusters is planned) are rejected with a clear error, nothing created.
public func openRunStore(_ url: String) throws -> RunStore {
    if url.hasPrefix("sqlite:") { return try SQLiteRunStore(path: String(url.dropFirst("sqlite:".count))) }
    if url.contains("://") { throw StoreError.unsupportedURL(url) }
    return try SQLiteRunStore(path: url)
}
