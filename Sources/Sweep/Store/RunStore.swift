// The run store: what workers, status and export need from the database of a sweep, as a
// protocol with two backends (SQLite embedded, PostgreSQL for clusters) chosen by URL, the
// records, and what both backends share: the schema, row decoding and the plan check.
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
    /// Key of the run this one's result was read from (`PlannedRun.sharedFrom`), nil when it
    /// is trained itself.
    public var sharedFrom: String? = nil
    /// The wsd trunk this run branches from and the step it starts at (`PlannedRun.branchOf`,
    /// `branchStep`), nil when it is trained from the start.
    public var branchOf: String? = nil
    public var branchStep: Int? = nil
    /// Whether the trunk's checkpoint at `branchStep` is written: a branch is claimed only then.
    public var branchReady = false
}

/// Errors of the store that are not plain SQLite or PostgreSQL errors.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// `path` is the file, or the database URL with any password hidden.
    case newerSchema(path: String, found: Int, known: Int)
    case notADatabase(path: String, message: String)
    case sweepConflict(name: String, message: String)
    case unknownSweep(String)
    /// A command that reads one sweep's results was not told which, and the store holds several.
    case whichSweep(names: [String])
    case noSweep
    case unsupportedURL(String)
    case notOwner(run: Int64, worker: String)
    /// The database server could not be reached or refused the connection.
    case cannotConnect(url: String, host: String, port: String, message: String)
    /// A sweep's stored config holds a value this isoflop cannot read.
    case badStoredConfig(sweep: String, message: String)

    public var description: String {
        switch self {
        case let .newerSchema(path, found, known):
            return "\(path): run store schema version \(found) is newer than this isoflop knows (\(known)); use a newer isoflop. Nothing was changed."
        case let .notADatabase(path, message):
            return "\(path): not a run store (\(message)); the file was left untouched"
        case let .sweepConflict(name, message):
            return "sweep '\(name)': \(message)"
        case let .unsupportedURL(url):
            return "run store '\(url)': unknown kind of store; supported: sqlite:PATH (or a plain path), postgresql://user@host:port/db (or postgres://)"
        case let .unknownSweep(name):
            return "no sweep named '\(name)' in the store"
        case let .whichSweep(names):
            return "the store holds \(names.count) sweeps (\(names.joined(separator: ", "))); name one with --sweep"
        case .noSweep:
            return "the store holds no sweep yet; plan one with `isoflop sweep plan` or `sweep run`"
        case let .notOwner(run, worker):
            return "run \(run) is no longer leased to worker \(worker) (its lease expired and another worker took it)"
        case let .cannotConnect(url, host, port, message):
            return "run store \(url): cannot connect to \(host):\(port): \(message)"
        case let .badStoredConfig(sweep, message):
            return "sweep '\(sweep)': its stored config \(message)"
        }
    }
}

/// The run store of a sweep. Claims are atomic: two workers never hold the same run. One store
/// object per thread (the SQLite one wraps a single connection); open one per worker.
public protocol RunStore: AnyObject {
    /// Creates the sweep with its runs, or returns the existing sweep of that name when its
    /// runs are the same (rerunning a command resumes); different runs → `sweepConflict`.
    func createSweep(name: String, configJSON: String, runs: [PlannedRun]) throws -> Int64
    /// Adds to an existing sweep the runs whose keys it does not hold yet (a pilot extended, a grid
    /// that follows its optimum); a key it holds with a different plan is a `sweepConflict`.
    /// Returns how many were added.
    func addRuns(sweep: Int64, runs: [PlannedRun]) throws -> Int
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
    /// `flopsPerToken`; false, changing nothing, when `target` is no longer planned.
    func copyResult(from source: Int64, to target: Int64, flopsPerToken: Double) throws -> Bool
}

/// How far one budget of a sweep has come.
public struct BudgetProgress: Equatable, Sendable {
    public var budget: Double
    public var runs: Int
    public var ended: Int
    public var isComplete: Bool { ended == runs }

    public init(budget: Double, runs: Int, ended: Int) {
        self.budget = budget
        self.runs = runs
        self.ended = ended
    }
}

/// What the commands that read results (fit, report, export, compare) take from one sweep,
/// read in one pass: every run, and the metric rows of the done ones.
public struct SweepResults: Sendable {
    public var name: String
    public var id: Int64
    /// Every run of the sweep, in id order, whatever its state.
    public var runs: [RunRecord]
    /// The metric rows of each done run, by run id, in step order.
    public var curves: [Int64: [MetricRow]]
    /// How the sweep's config says its fits count N (`params`): the fit's and the report's
    /// default convention.
    public var params: ParameterCount

    public init(name: String, id: Int64, runs: [RunRecord], curves: [Int64: [MetricRow]], params: ParameterCount = .total) {
        self.name = name
        self.id = id
        self.runs = runs
        self.curves = curves
        self.params = params
    }

    /// The done runs, of one schedule or of all, in id order.
    public func finishedRuns(schedule: String? = nil) -> [RunRecord] {
        runs.filter { $0.status == .done && (schedule == nil || $0.plan.schedule.rawValue == schedule) }
    }

    /// The schedules of the sweep's runs, in order of first appearance.
    public var schedules: [String] {
        var seen: [String] = []
        for r in runs where !seen.contains(r.plan.schedule.rawValue) { seen.append(r.plan.schedule.rawValue) }
        return seen
    }

    /// Runs not yet done (planned, running, diverged or failed), in id order.
    public var unfinished: [RunRecord] { runs.filter { $0.status != .done } }
}

extension RunStore {
    /// The sweep a results command reads: the one named, or else the only one in the store
    /// (a learning-rate pilot "X-tune" or "X-wsd-tune" beside its sweep X does not count). Several sweeps and no
    /// name is an error listing them; results of two sweeps never mix.
    public func selectSweep(named name: String?) throws -> (name: String, id: Int64) {
        if let name {
            guard let id = try sweepID(named: name) else { throw StoreError.unknownSweep(name) }
            return (name, id)
        }
        let all = try sweepNames()
        let names = all.filter { !LRPilot.isPilot($0, among: all) }
        guard names.count <= 1 else { throw StoreError.whichSweep(names: names) }
        guard let only = names.first, let id = try sweepID(named: only) else { throw StoreError.noSweep }
        return (only, id)
    }

    /// Every run of the sweep and the curves of the done ones: two queries.
    public func results(sweep name: String?) throws -> SweepResults {
        let (name, id) = try selectSweep(named: name)
        return SweepResults(name: name, id: id, runs: try runs(sweep: id), curves: try curves(sweep: id),
                            params: try storedParams(sweep: id, name: name))
    }

    /// The `params` knob of the sweep's stored config; `total` for configs stored before it existed.
    public func storedParams(sweep id: Int64, name: String) throws -> ParameterCount {
        let json = try sweepConfigJSON(sweep: id)
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let value = object["params"] as? String else { return .total }
        guard let params = ParameterCount(rawValue: value) else {
            throw StoreError.badStoredConfig(sweep: name, message: "has params = '\(value)' (expected total or nonemb)")
        }
        return params
    }
}

/// Opens a run store by URL: `sqlite:PATH` or a plain path (SQLite), `postgresql://…` or
/// `postgres://…` (PostgreSQL; any libpq URL parameters). Other schemes are rejected with a
/// clear error, nothing created. `readOnly` (for commands that only read results) never
/// creates, migrates or changes the database.
public func openRunStore(_ url: String, readOnly: Bool = false) throws -> RunStore {
    // SQLite opens "" and ":memory:" as private databases that vanish on close: runs trained
    // into them would be lost.
    let sqlitePath = url.hasPrefix("sqlite:") ? String(url.dropFirst("sqlite:".count)) : url
    if !url.contains("://"), sqlitePath.isEmpty || sqlitePath == ":memory:" || sqlitePath.hasPrefix("file:") {
        throw StoreError.unsupportedURL(url)
    }
    if url.hasPrefix("sqlite:") { return try SQLiteRunStore(path: String(url.dropFirst("sqlite:".count)), readOnly: readOnly) }
    let lower = url.lowercased()
    if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") { return try PostgresRunStore(url: url, readOnly: readOnly) }
    if url.contains("://") { throw StoreError.unsupportedURL(url) }
    return try SQLiteRunStore(path: url, readOnly: readOnly)
}

/// The shared schema: one list of migrations, written for SQLite and mapped for PostgreSQL.
public enum StoreSchema {
    /// Entry i takes the schema from version i to i + 1.
    static let migrations: [String] = [
        """
        CREATE TABLE sweeps(
            id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, config TEXT NOT NULL, created REAL NOT NULL);
        CREATE TABLE runs(
            id INTEGER PRIMARY KEY, sweep INTEGER NOT NULL REFERENCES sweeps(id), key TEXT NOT NULL,
            config TEXT NOT NULL, d INTEGER NOT NULL, layers INTEGER NOT NULL, head_size INTEGER NOT NULL,
            n INTEGER NOT NULL, n_nonemb INTEGER NOT NULL, budget REAL NOT NULL, flops REAL NOT NULL,
            steps INTEGER NOT NULL, tokens INTEGER NOT NULL, schedule TEXT NOT NULL, cycle_steps INTEGER NOT NULL,
            lr REAL NOT NULL, status TEXT NOT NULL DEFAULT 'planned', worker TEXT, host TEXT, pid INTEGER,
            lease_expiry REAL, started REAL, ended REAL, step INTEGER NOT NULL DEFAULT 0, last_loss REAL,
            final_train_loss REAL, final_eval_loss REAL, tokens_per_second REAL, wall_seconds REAL,
            diverged_step INTEGER, message TEXT, attempts INTEGER NOT NULL DEFAULT 0,
            UNIQUE(sweep, key));
        CREATE INDEX runs_status ON runs(sweep, status);
        CREATE TABLE metrics(
            run INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL, tokens INTEGER NOT NULL,
            flops REAL NOT NULL, lr REAL NOT NULL, train_loss REAL NOT NULL, eval_loss REAL,
            PRIMARY KEY(run, step)) WITHOUT ROWID;
        """,
        // The run whose training gives this run's result (its key), for runs read from a
        // shared run; NULL for runs trained themselves, as every run of an older store.
        "ALTER TABLE runs ADD COLUMN shared_from TEXT;",
        // wsd branches: the trunk (its key) whose checkpoint at branch_step a run starts from,
        // and whether that checkpoint is written yet (a branch is claimed only once it is).
        """
        ALTER TABLE runs ADD COLUMN branch_of TEXT;
        ALTER TABLE runs ADD COLUMN branch_step INTEGER;
        ALTER TABLE runs ADD COLUMN branch_ready INTEGER NOT NULL DEFAULT 0;
        """,
    ]

    public static var version: Int { migrations.count }

    /// A migration in PostgreSQL's types: SQLite's INTEGER is 64-bit (BIGINT), REAL is a double,
    /// an INTEGER PRIMARY KEY numbers itself (an identity column), and every table has no rowid.
    static func postgres(_ sql: String) -> String {
        sql.replacingOccurrences(of: "INTEGER PRIMARY KEY", with: "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
            .replacingOccurrences(of: "\\bINTEGER\\b", with: "BIGINT", options: .regularExpression)
            .replacingOccurrences(of: "\\bREAL\\b", with: "DOUBLE PRECISION", options: .regularExpression)
            .replacingOccurrences(of: " WITHOUT ROWID", with: "")
    }

    /// The columns `RunRecord(row:)` reads, in order.
    static let runColumns = """
        id, sweep, config, status, worker, host, pid, lease_expiry, started, ended, step, last_loss,
        final_train_loss, final_eval_loss, tokens_per_second, wall_seconds, message, attempts, shared_from,
        branch_of, branch_step, branch_ready
        """
    /// The oldest schema whose runs the read-only commands can read: version 1 lacks only
    /// `shared_from`, read as NULL.
    static let oldestReadable = 1

    /// `runColumns` for a store of schema `version`: the columns it lacks read as NULL (or 0).
    static func runColumns(version: Int) -> String {
        var columns = runColumns
        if version < 3 {
            columns = columns.replacingOccurrences(of: "branch_of, branch_step, branch_ready", with: "NULL, NULL, 0")
        }
        if version < 2 { columns = columns.replacingOccurrences(of: "shared_from", with: "NULL") }
        return columns
    }

    /// Per-token work a training step does beyond its FLOPs, in FLOPs: the laptop config's
    /// overhead_per_token (4.4e-6 s) at its flops_per_second (5.7e10). It ranks a small shape's
    /// run, which takes more tokens for its FLOPs, as the longer of two equal budgets.
    public static let overheadFLOPsPerToken = 2.5e5

    /// The work a run has left, in FLOPs: its steps not yet logged (a branch's from its branch
    /// step) at its FLOPs and overhead per step. `greatest` is the SQL dialect's two-argument
    /// maximum (SQLite `max`, PostgreSQL `GREATEST`). Claims take the largest first, so the
    /// longest runs start first and no core is left alone with one at the end.
    static func remainingWork(greatest: String) -> String {
        "(flops + tokens * \(overheadFLOPsPerToken)) * (steps - \(greatest)(step, coalesce(branch_step, 0))) / steps"
    }
    /// The columns `MetricRow(row:)` reads, in order.
    static let metricColumns = "run, step, tokens, flops, lr, train_loss, eval_loss"
    /// The columns of a new run, in the order of `runValues`.
    static let runInsertColumns = "sweep, key, config, d, layers, head_size, n, n_nonemb, budget, flops, steps, tokens, schedule, cycle_steps, lr, shared_from, branch_of, branch_step"
    /// One `?` per column of `runInsertColumns`.
    static var runInsertPlaceholders: String {
        [String](repeating: "?", count: runInsertColumns.split(separator: ",").count).joined(separator: ", ")
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func json(_ run: PlannedRun) throws -> String {
        String(decoding: try encoder.encode(run), as: UTF8.self)
    }

    /// The values of `runInsertColumns` for one planned run.
    static func runValues(sweep: Int64, _ r: PlannedRun) throws -> [SQLValue] {
        [.int(Int(sweep)), .text(r.key), .text(try json(r)), .int(r.model.d), .int(r.model.layers),
         .int(r.model.headSize), .int(r.parameters), .int(r.nonEmbeddingParameters), .double(r.budget),
         .double(r.flops), .int(r.steps), .int(r.tokens), .text(r.schedule.rawValue), .int(r.cycleSteps),
         .double(r.peakLR), r.sharedFrom.map { .text($0) } ?? .null, r.branchOf.map { .text($0) } ?? .null,
         r.branchStep.map { .int($0) } ?? .null]
    }

    /// Rerunning a command may create a sweep again only with the same runs.
    static func checkSamePlan(name: String, storedConfigs: Set<String>, runs: [PlannedRun]) throws {
        let wanted = Set(try runs.map { try json($0) })
        guard storedConfigs == wanted else {
            throw StoreError.sweepConflict(name: name, message: "the store already holds this sweep with a different plan (\(storedConfigs.count) runs stored, \(wanted.count) planned); use another --store or sweep name")
        }
    }

    /// The last row of each run in a batch, for the progress columns of `runs`.
    static func lastRows(_ rows: [MetricRow]) -> [Int64: MetricRow] {
        var last: [Int64: MetricRow] = [:]
        for r in rows where (last[r.run]?.step ?? Int.min) < r.step { last[r.run] = r }
        return last
    }
}

/// What the shared store code needs of a connection: one statement at a time with values
/// bound to its `?` placeholders, and transactions.
public protocol StoreDatabase: AnyObject {
    associatedtype Row: StoreRow
    /// Runs one statement, calling `row` for each result row; returns the rows it changed.
    @discardableResult
    func perform(_ sql: String, _ values: [SQLValue], row: (Row) throws -> Void) throws -> Int
    /// Runs `body` in a write transaction, rolled back when it throws.
    func inTransaction<T>(_ body: () throws -> T) throws -> T
}

extension StoreDatabase {
    @discardableResult
    public func perform(_ sql: String, _ values: [SQLValue] = []) throws -> Int { try perform(sql, values) { _ in } }
}

/// The end of a transaction that `execute` has begun: `body`, then COMMIT; ROLLBACK when either
/// throws, and the error goes on. Both connections end their transactions here.
func commitOrRollBack<T>(execute: (String) throws -> Void, _ body: () throws -> T) throws -> T {
    do {
        let result = try body()
        try execute("COMMIT")
        return result
    } catch {
        try? execute("ROLLBACK")
        throw error
    }
}

/// A run store over an SQL connection. What both backends do alike is written once here, in
/// SQL both engines accept; each backend keeps its own opening and migration, claims, leases
/// and metric writes (where locking and upserts differ).
public protocol SQLRunStore: RunStore {
    associatedtype Database: StoreDatabase
    var database: Database { get }
    /// An SQL expression for the current time in Unix seconds.
    static var now: String { get }
    /// A query whose one value is 1 when the store_identity table exists, else 0 (stores made
    /// before it have none).
    static var identityTableExists: String { get }
    /// Called first in the transaction that creates a sweep, to keep two creators apart.
    func lockSweepCreation() throws
    /// The schema version the store had when opened (the latest, once a writer migrated it).
    var openedVersion: Int { get }
}

extension SQLRunStore {
    public func storeID() throws -> String? {
        var exists = false
        try database.perform(Self.identityTableExists, []) { exists = $0.int(0) == 1 }
        guard exists else { return nil }
        var id: String?
        try database.perform("SELECT id FROM store_identity LIMIT 1", []) { id = $0.text(0) }
        return id
    }

    /// The run columns this store has (an older store read-only lacks the newer ones).
    var runColumns: String { StoreSchema.runColumns(version: openedVersion) }

    public func claimSharedRuns(of trainer: RunRecord, worker: String, host: String, pid: Int) throws -> [RunRecord] {
        try database.inTransaction {
            try database.perform("""
                UPDATE runs SET status = 'running', worker = ?, host = ?, pid = ?, lease_expiry = NULL,
                  started = coalesce(started, \(Self.now))
                WHERE sweep = ? AND shared_from = ? AND status IN ('planned', 'running')
                  AND EXISTS (SELECT 1 FROM runs t WHERE t.id = ? AND t.worker = ? AND t.status = 'running')
                """, [.text(worker), .text(host), .int(pid), .int(Int(trainer.sweep)), .text(trainer.plan.key),
                      .int(Int(trainer.id)), .text(worker)])
            var out: [RunRecord] = []
            try database.perform("SELECT \(runColumns) FROM runs WHERE sweep = ? AND shared_from = ? ORDER BY id",
                                 [.int(Int(trainer.sweep)), .text(trainer.plan.key)]) { out.append(try RunRecord(row: $0)) }
            return out
        }
    }

    public func createSweep(name: String, configJSON: String, runs: [PlannedRun]) throws -> Int64 {
        try database.inTransaction {
            try lockSweepCreation()
            if let id = try sweepID(named: name) {
                var existing = Set<String>()
                try database.perform("SELECT config FROM runs WHERE sweep = ?", [.int(Int(id))]) { existing.insert($0.text(0)) }
                try StoreSchema.checkSamePlan(name: name, storedConfigs: existing, runs: runs)
                return id
            }
            var id: Int64 = 0
            try database.perform("INSERT INTO sweeps(name, config, created) VALUES (?, ?, \(Self.now)) RETURNING id",
                                 [.text(name), .text(configJSON)]) { id = Int64($0.int(0)) }
            let insert = "INSERT INTO runs(\(StoreSchema.runInsertColumns)) VALUES (\(StoreSchema.runInsertPlaceholders))"
            for r in runs { try database.perform(insert, try StoreSchema.runValues(sweep: id, r)) }
            return id
        }
    }

    public func branches(of trunk: RunRecord) throws -> [RunRecord] {
        var out: [RunRecord] = []
        try database.perform("SELECT \(runColumns) FROM runs WHERE sweep = ? AND branch_of = ? ORDER BY id",
                             [.int(Int(trunk.sweep)), .text(trunk.plan.key)]) { out.append(try RunRecord(row: $0)) }
        return out
    }

    public func markBranchesReady(of trunk: RunRecord, step: Int) throws {
        try database.perform("UPDATE runs SET branch_ready = 1 WHERE sweep = ? AND branch_of = ? AND branch_step = ?",
                             [.int(Int(trunk.sweep)), .text(trunk.plan.key), .int(step)])
    }

    public func copyTrunkRows(into branch: RunRecord) throws {
        guard let trunk = branch.branchOf, let step = branch.branchStep else { return }
        try database.inTransaction {
            try database.perform("DELETE FROM metrics WHERE run = ? AND step <= ?", [.int(Int(branch.id)), .int(step)])
            try database.perform("""
                INSERT INTO metrics(run, step, tokens, flops, lr, train_loss, eval_loss)
                SELECT CAST(? AS BIGINT), m.step, m.tokens, m.flops, m.lr, m.train_loss, m.eval_loss
                FROM metrics m JOIN runs t ON t.id = m.run WHERE t.sweep = ? AND t.key = ? AND m.step <= ?
                """, [.int(Int(branch.id)), .int(Int(branch.sweep)), .text(trunk), .int(step)])
            try database.perform("""
                UPDATE runs SET step = ?, last_loss = (SELECT train_loss FROM metrics WHERE run = ? AND step = ?)
                WHERE id = ? AND step < ?
                """, [.int(step), .int(Int(branch.id)), .int(step), .int(Int(branch.id)), .int(step)])
        }
    }

    public func endWaitingBranches(of trunk: RunRecord, outcome: RunOutcome?, message: String) throws -> Int {
        let waiting = "sweep = ? AND branch_of = ? AND branch_ready = 0 AND status = 'planned'"
        let keys: [SQLValue] = [.int(Int(trunk.sweep)), .text(trunk.plan.key)]
        switch outcome {
        case let .diverged(step, loss):
            return try database.perform("""
                UPDATE runs SET status = 'diverged', ended = \(Self.now), diverged_step = ?, last_loss = ?,
                  message = ? WHERE \(waiting) AND branch_step >= ?
                """, [.int(step), .double(loss), .text("diverged at step \(step) (in its trunk \(trunk.plan.key))")]
                    + keys + [.int(step)])
        case .done, .stopped:
            return 0
        case nil:
            return try database.perform("UPDATE runs SET status = 'failed', ended = \(Self.now), message = ? WHERE \(waiting)",
                                        [.text(message)] + keys)
        }
    }

    public func sweepID(named name: String) throws -> Int64? {
        var id: Int64?
        try database.perform("SELECT id FROM sweeps WHERE name = ?", [.text(name)]) { id = Int64($0.int(0)) }
        return id
    }

    public func sweepNames() throws -> [String] {
        var names: [String] = []
        try database.perform("SELECT name FROM sweeps ORDER BY id", []) { names.append($0.text(0)) }
        return names
    }

    /// Each release re-checks the run's state, host and pid in its UPDATE, so a run that
    /// another worker claimed meanwhile is left alone.
    public func releaseDeadRuns(host: String, isAlive: (Int) -> Bool) throws -> Int {
        try database.inTransaction {
            var dead: [(id: Int, pid: Int)] = []
            try database.perform("SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", [.text(host)]) {
                if let pid = $0.optionalInt(1), !isAlive(pid) { dead.append((id: $0.int(0), pid: pid)) }
            }
            var released = 0
            for run in dead {
                released += try database.perform("""
                    UPDATE runs SET status = 'planned', worker = NULL, host = NULL, pid = NULL, lease_expiry = NULL
                    WHERE id = ? AND status = 'running' AND host = ? AND pid = ?
                    """, [.int(run.id), .text(host), .int(run.pid)])
            }
            return released
        }
    }

    public func retryFailedRuns(sweep: Int64) throws -> Int {
        try database.perform("""
            UPDATE runs SET status = 'planned', worker = NULL, host = NULL, pid = NULL, lease_expiry = NULL,
              message = NULL WHERE sweep = ? AND status = 'failed'
            """, [.int(Int(sweep))])
    }

    public func sweepConfigJSON(sweep: Int64) throws -> String {
        var json: String?
        try database.perform("SELECT config FROM sweeps WHERE id = ?", [.int(Int(sweep))]) { json = $0.text(0) }
        guard let json else { throw StoreError.unknownSweep("#\(sweep)") }
        return json
    }

    /// One conditional UPDATE: it changes the run only while `worker` still holds it, so a
    /// worker that lost its lease cannot overwrite the run's new owner.
    public func finishRun(_ run: Int64, worker: String, outcome: RunOutcome, wallSeconds: Double) throws {
        let owned = "WHERE id = ? AND worker = ? AND status = 'running'"
        let changed: Int
        switch outcome {
        case let .done(train, eval, tps):
            changed = try database.perform("""
                UPDATE runs SET status = 'done', ended = \(Self.now), final_train_loss = ?, final_eval_loss = ?,
                  tokens_per_second = ?, wall_seconds = coalesce(wall_seconds, 0) + ?, lease_expiry = NULL \(owned)
                """, [.double(train), eval.map { .double($0) } ?? .null, .double(tps), .double(wallSeconds),
                      .int(Int(run)), .text(worker)])
        case let .diverged(step, loss):
            changed = try database.perform("""
                UPDATE runs SET status = 'diverged', ended = \(Self.now), diverged_step = ?, last_loss = ?,
                  wall_seconds = coalesce(wall_seconds, 0) + ?, lease_expiry = NULL, message = ? \(owned)
                """, [.int(step), .double(loss), .double(wallSeconds), .text("diverged at step \(step)"),
                      .int(Int(run)), .text(worker)])
        case .stopped:
            changed = try database.perform("""
                UPDATE runs SET status = 'planned', worker = NULL, host = NULL, pid = NULL, lease_expiry = NULL,
                  wall_seconds = coalesce(wall_seconds, 0) + ? \(owned)
                """, [.double(wallSeconds), .int(Int(run)), .text(worker)])
        }
        guard changed == 1 else { throw StoreError.notOwner(run: run, worker: worker) }
    }

    public func failRun(_ run: Int64, worker: String, message: String) throws {
        try database.perform("""
            UPDATE runs SET status = 'failed', ended = \(Self.now), message = ?, lease_expiry = NULL
            WHERE id = ? AND worker = ? AND status = 'running'
            """, [.text(message), .int(Int(run)), .text(worker)])
    }

    public func runs(sweep: Int64) throws -> [RunRecord] {
        var out: [RunRecord] = []
        try database.perform("SELECT \(runColumns) FROM runs WHERE sweep = ? ORDER BY id", [.int(Int(sweep))]) {
            out.append(try RunRecord(row: $0))
        }
        return out
    }

    public func metrics(run: Int64) throws -> [MetricRow] {
        var out: [MetricRow] = []
        try database.perform("SELECT \(StoreSchema.metricColumns) FROM metrics WHERE run = ? ORDER BY step",
                             [.int(Int(run))]) { out.append(MetricRow(row: $0)) }
        return out
    }

    public func finishedRuns(sweep: Int64, schedule: String?) throws -> [RunRecord] {
        var out: [RunRecord] = []
        let filter = schedule == nil ? "" : " AND schedule = ?"
        try database.perform("""
            SELECT \(runColumns) FROM runs WHERE sweep = ? AND status = 'done'\(filter)
            ORDER BY schedule, budget, n, id
            """, [.int(Int(sweep))] + (schedule.map { [.text($0)] } ?? [])) { out.append(try RunRecord(row: $0)) }
        return out
    }

    public func curves(sweep: Int64) throws -> [Int64: [MetricRow]] {
        var out: [Int64: [MetricRow]] = [:]
        let columns = StoreSchema.metricColumns.split(separator: ",").map { "m." + $0.trimmingCharacters(in: .whitespaces) }
        try database.perform("""
            SELECT \(columns.joined(separator: ", ")) FROM metrics m JOIN runs r ON r.id = m.run
            WHERE r.sweep = ? AND r.status = 'done' ORDER BY m.run, m.step
            """, [.int(Int(sweep))]) {
            let row = MetricRow(row: $0)
            out[row.run, default: []].append(row)
        }
        return out
    }

    public func copyResult(from source: Int64, to target: Int64, flopsPerToken: Double) throws -> Bool {
        try database.inTransaction {
            var values: [SQLValue]?
            try database.perform("""
                SELECT status, step, last_loss, final_train_loss, final_eval_loss, tokens_per_second, diverged_step
                FROM runs WHERE id = ? AND status IN ('done', 'diverged')
                """, [.int(Int(source))]) { r in
                values = [.text(r.text(0)), .int(r.int(1))] + (2...6).map { c in
                    r.isNull(c) ? .null : (c == 6 ? .int(r.int(c)) : .double(r.double(c)))
                }
            }
            guard let values else { return false }
            let changed = try database.perform("""
                UPDATE runs SET status = ?, step = ?, last_loss = ?, final_train_loss = ?, final_eval_loss = ?,
                  tokens_per_second = ?, diverged_step = ?, started = \(Self.now), ended = \(Self.now), wall_seconds = 0,
                  message = ? WHERE id = ? AND status = 'planned'
                """, values + [.text("copied from run \(source) (identical training)"), .int(Int(target))])
            guard changed == 1 else { return false }
            try database.perform("DELETE FROM metrics WHERE run = ?", [.int(Int(target))])
            try database.perform("""
                INSERT INTO metrics(run, step, tokens, flops, lr, train_loss, eval_loss)
                SELECT CAST(? AS BIGINT), step, tokens, tokens * CAST(? AS DOUBLE PRECISION), lr, train_loss, eval_loss
                FROM metrics WHERE run = ?
                """, [.int(Int(target)), .double(flopsPerToken), .int(Int(source))])
            return true
        }
    }

    public func budgetProgress(sweep: Int64) throws -> [BudgetProgress] {
        var out: [BudgetProgress] = []
        try database.perform("""
            SELECT budget, count(*), sum(CASE WHEN status IN ('done', 'diverged', 'failed') THEN 1 ELSE 0 END)
            FROM runs WHERE sweep = ? GROUP BY budget ORDER BY budget
            """, [.int(Int(sweep))]) { out.append(BudgetProgress(budget: $0.double(0), runs: $0.int(1), ended: $0.int(2))) }
        return out
    }
}

extension StoreSchema {
    /// Not a versioned migration: every writer makes sure the table and its one row exist, so
    /// stores written before it get an id the first time a command writes to them.
    static let identityTable = "CREATE TABLE IF NOT EXISTS store_identity(id TEXT NOT NULL)"
    static func newIdentity() -> String { UUID().uuidString.lowercased() }
}

/// A result row as both backends hand it out.
public protocol StoreRow {
    func isNull(_ column: Int) -> Bool
    func int(_ column: Int) -> Int
    func double(_ column: Int) -> Double
    func text(_ column: Int) -> String
}

extension StoreRow {
    public func optionalDouble(_ column: Int) -> Double? { isNull(column) ? nil : double(column) }
    public func optionalInt(_ column: Int) -> Int? { isNull(column) ? nil : int(column) }
    public func optionalText(_ column: Int) -> String? { isNull(column) ? nil : text(column) }
}

extension RunRecord {
    /// Reads the columns of `StoreSchema.runColumns`.
    init(row s: StoreRow) throws {
        let plan = try JSONDecoder().decode(PlannedRun.self, from: Data(s.text(2).utf8))
        self.init(id: Int64(s.int(0)), sweep: Int64(s.int(1)), plan: plan,
                  status: RunStatus(rawValue: s.text(3)) ?? .failed, worker: s.optionalText(4),
                  host: s.optionalText(5), pid: s.optionalInt(6), leaseExpiry: s.optionalDouble(7),
                  started: s.optionalDouble(8), ended: s.optionalDouble(9), step: s.int(10),
                  lastLoss: s.optionalDouble(11), finalTrainLoss: s.optionalDouble(12),
                  finalEvalLoss: s.optionalDouble(13), tokensPerSecond: s.optionalDouble(14),
                  wallSeconds: s.optionalDouble(15), message: s.optionalText(16), attempts: s.int(17),
                  sharedFrom: s.optionalText(18), branchOf: s.optionalText(19), branchStep: s.optionalInt(20),
                  branchReady: s.int(21) != 0)
    }
}

extension MetricRow {
    /// Reads the columns of `StoreSchema.metricColumns`.
    init(row s: StoreRow) {
        self.init(run: Int64(s.int(0)), step: s.int(1), tokens: s.int(2), flops: s.double(3), lr: s.double(4),
                  trainLoss: s.double(5), evalLoss: s.optionalDouble(6))
    }
}
