// The run store: what workers, status and export need from the database of a sweep, as a
// protocol with two backends (SQLite embedded, PostgreSQL for clusters) chosen by URL.
import Foundation

/// The run store of a sweep. Claims are atomic: two workers never hold the same run. One store
/// object per thread (the SQLite one wraps a single connection); open one per worker.
public protocol RunStore: AnyObject {
    /// Creates the sweep with its runs, all planned for `origin`, or returns the existing sweep
    /// of that name when its runs are the same (rerunning a command resumes); different runs →
    /// `sweepConflict`.
    func createSweep(name: String, configJSON: String, runs: [PlannedRun], origin: RunOrigin) throws -> Int64
    /// Adds to an existing sweep the runs whose keys it does not hold yet (a pilot extended, a grid
    /// that follows its optimum), recording `origin` with each; a key it holds with a different
    /// plan is a `sweepConflict`. Returns how many were added.
    func addRuns(sweep: Int64, runs: [PlannedRun], origin: RunOrigin) throws -> Int
    func sweepID(named name: String) throws -> Int64?
    func sweepNames() throws -> [String]
    /// Takes the next planned run (or a running one whose lease expired), the one with the most
    /// work left first (`StoreSchema.remainingWork`), and marks it running under `worker` until
    /// now + `lease` seconds. A branch waits until its trunk's checkpoint is written.
    func claimNextRun(sweep: Int64?, worker: String, host: String, pid: Int, lease: Double) throws -> RunRecord?
    /// Marks running under `worker` every run read from `trainer` (`sharedFrom`) that is not
    /// ended, while `worker` holds `trainer`; returns all of them, ended ones too, in id order.
    /// They are finished or failed with `finishRun`/`failRun` like a claimed run, and are
    /// never claimed on their own.
    func claimSharedRuns(of trainer: RunRecord, worker: String, host: String, pid: Int) throws -> [RunRecord]
    /// The runs that branch from `trunk` (`branchOf` its key), in id order.
    func branches(of trunk: RunRecord) throws -> [RunRecord]
    /// Marks the branches of `trunk` starting at `step` claimable: their starting checkpoint is
    /// written.
    func markBranchesReady(of trunk: RunRecord, step: Int) throws
    /// Gives a branch its trunk's metric rows up to its branch step (replacing any it has
    /// there), as its own: the trunk trained those steps exactly as the branch would have.
    func copyTrunkRows(into branch: RunRecord) throws
    /// Ends the branches of `trunk` still waiting for a checkpoint it will not write: after a
    /// divergence at step s, those starting at s or later diverge (they would have trained the
    /// same steps); after a failure (`outcome` nil), all fail with `message`. Returns how many.
    func endWaitingBranches(of trunk: RunRecord, outcome: RunOutcome?, message: String) throws -> Int
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
    /// A random id written once into the store when a command first writes to it; checkpoint
    /// folders record it, so that two stores never resume each other's checkpoints. Nil for
    /// a store no command has written to since ids were introduced.
    func storeID() throws -> String?
    /// The sweep's done runs (of one schedule, or all when nil), ordered by schedule, budget and N.
    func finishedRuns(sweep: Int64, schedule: String?) throws -> [RunRecord]
    /// The metric rows of every done run of the sweep, by run, in step order: one query.
    func curves(sweep: Int64) throws -> [Int64: [MetricRow]]
    /// Per budget C (read from the runs' `budget` column), how many runs there are and how many
    /// have ended (done, diverged or failed), in increasing C.
    func budgetProgress(sweep: Int64) throws -> [BudgetProgress]
    /// Gives the planned run `target` the result and metric rows of the ended run `source`
    /// (a run of identical training, e.g. in another rung of a ladder), its FLOPs counted at
    /// `flopsPerToken`, and records `source` as its `copiedFrom`; false, changing nothing, when
    /// `target` is no longer planned.
    func copyResult(from source: Int64, to target: Int64, flopsPerToken: Double) throws -> Bool
}

extension RunStore {
    /// `createSweep` of runs of the config's grid.
    public func createSweep(name: String, configJSON: String, runs: [PlannedRun]) throws -> Int64 {
        try createSweep(name: name, configJSON: configJSON, runs: runs, origin: .grid)
    }

    /// `addRuns` of runs of the config's grid.
    public func addRuns(sweep: Int64, runs: [PlannedRun]) throws -> Int {
        try addRuns(sweep: sweep, runs: runs, origin: .grid)
    }
}

/// Opens a run store by URL: `sqlite:PATH` or a plain path (SQLite), `postgresql://…` or
/// `postgres://…` (PostgreSQL; any libpq URL parameters). Other schemes are rejected with a
/// clear error, nothing created. `readOnly` (for commands that only read results) never
/// creates, migrates or changes the database.
public func openRunStore(_ url: String, readOnly: Bool = false) throws -> RunStore {
    switch StoreURL(url) {
    case .sqlite(let path): return try SQLiteRunStore(path: path, readOnly: readOnly)
    case .postgres: return try PostgresRunStore(url: url, readOnly: readOnly)
    case .unsupported: throw StoreError.unsupportedURL(url)
    }
}
