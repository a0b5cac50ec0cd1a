// What both SQL backends share: the connection protocol, row decoding, and every store
// operation written once in SQL both engines accept.
import Foundation

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

    public func createSweep(name: String, configJSON: String, runs: [PlannedRun], origin: RunOrigin) throws -> Int64 {
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
            for r in runs { try database.perform(StoreSchema.runInsert, try StoreSchema.runValues(sweep: id, r, origin: origin)) }
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
                  copied_from = ? WHERE id = ? AND status = 'planned'
                """, values + [.int(Int(source)), .int(Int(target))])
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
                  sharedFrom: s.optionalText(18), branchOf: s.optionalText(22), branchStep: s.optionalInt(23),
                  branchReady: s.int(24) != 0,
                  origin: try RunOrigin(column: s.optionalText(19), multiplier: s.optionalDouble(20)),
                  copiedFrom: s.optionalInt(21).map(Int64.init))
    }
}

extension MetricRow {
    /// Reads the columns of `StoreSchema.metricColumns`.
    init(row s: StoreRow) {
        self.init(run: Int64(s.int(0)), step: s.int(1), tokens: s.int(2), flops: s.double(3), lr: s.double(4),
                  trainLoss: s.double(5), evalLoss: s.optionalDouble(6))
    }
}
