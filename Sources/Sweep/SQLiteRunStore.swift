// The SQLite run store: one file per sweep folder, WAL mode, versioned schema with
// migrations, atomic claims in IMMEDIATE transactions, batched metric writes.
import Foundation

public final class SQLiteRunStore: RunStore {
    public let db: SQLiteConnection
    public var path: String { db.path }

    /// The shared schema migrations, as written (SQLite's types).
    static var migrations: [String] { StoreSchema.migrations }

    public static var schemaVersion: Int { migrations.count }

    /// Opens or creates the store. A file that is not an SQLite database, or one written by a
    /// newer isoflop, is an error and is left exactly as it was.
    public init(path: String, busyTimeout: Double = 30) throws {
        db = try SQLiteConnection(path: path, busyTimeout: busyTimeout)
        // Read before writing anything: a corrupt file fails here, untouched.
        var version = 0
        do {
            var hasTable = false
            try db.query("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'") {
                hasTable = $0.int(0) > 0
            }
            if hasTable { try db.query("SELECT max(version) FROM schema_version") { version = $0.int(0) } }
        } catch let e as SQLiteError {
            throw StoreError.notADatabase(path: path, message: e.message)
        }
        guard version <= Self.schemaVersion else {
            throw StoreError.newerSchema(path: path, found: version, known: Self.schemaVersion)
        }
        try db.execute("PRAGMA journal_mode = WAL")
        try db.execute("PRAGMA synchronous = NORMAL")
        try db.execute("PRAGMA foreign_keys = ON")
        try migrate()
    }

    func migrate() throws {
        try db.transaction {
            try db.execute("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)")
            var version = 0
            try db.query("SELECT coalesce(max(version), 0) FROM schema_version") { version = $0.int(0) }
            // Checked again inside the write lock: another process may have migrated meanwhile.
            guard version <= Self.schemaVersion else {
                throw StoreError.newerSchema(path: path, found: version, known: Self.schemaVersion)
            }
            for v in version..<Self.schemaVersion {
                try db.execute(Self.migrations[v])
                try db.query("INSERT INTO schema_version(version) VALUES (?)", [.int(v + 1)])
            }
        }
    }

    public func createSweep(name: String, configJSON: String, runs: [PlannedRun]) throws -> Int64 {
        try db.transaction {
            if let id = try sweepID(named: name) {
                var existing = Set<String>()
                try db.query("SELECT config FROM runs WHERE sweep = ?", [.int(Int(id))]) { existing.insert($0.text(0)) }
                try StoreSchema.checkSamePlan(name: name, storedConfigs: existing, runs: runs)
                return id
            }
            try db.query("INSERT INTO sweeps(name, config, created) VALUES (?, ?, ?)",
                         [.text(name), .text(configJSON), .double(Date().timeIntervalSince1970)])
            let id = db.lastInsertID
            let insert = try db.prepare("""
                INSERT INTO runs(\(StoreSchema.runInsertColumns))
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for r in runs { try insert.run(try StoreSchema.runValues(sweep: id, r)) }
            return id
        }
    }

    public func sweepID(named name: String) throws -> Int64? {
        var id: Int64?
        try db.query("SELECT id FROM sweeps WHERE name = ?", [.text(name)]) { id = Int64($0.int(0)) }
        return id
    }

    public func sweepNames() throws -> [String] {
        var names: [String] = []
        try db.query("SELECT name FROM sweeps ORDER BY id") { names.append($0.text(0)) }
        return names
    }

    public func claimNextRun(sweep: Int64?, worker: String, host: String, pid: Int, lease: Double) throws -> RunRecord? {
        try db.transaction {
            let now = Date().timeIntervalSince1970
            var id: Int64?
            let sweepFilter = sweep.map { "sweep = \($0) AND" } ?? ""
            try db.query("""
                SELECT id FROM runs WHERE \(sweepFilter)
                  (status = 'planned' OR (status = 'running' AND lease_expiry < ?))
                ORDER BY flops DESC, id LIMIT 1
                """, [.double(now)]) { id = Int64($0.int(0)) }
            guard let id else { return nil }
            try db.query("""
                UPDATE runs SET status = 'running', worker = ?, host = ?, pid = ?, lease_expiry = ?,
                  started = coalesce(started, ?), attempts = attempts + 1 WHERE id = ?
                """, [.text(worker), .text(host), .int(pid), .double(now + lease), .double(now), .int(Int(id))])
            var rec: RunRecord?
            try db.query("SELECT \(StoreSchema.runColumns) FROM runs WHERE id = ?", [.int(Int(id))]) { rec = try RunRecord(row: $0) }
            return rec
        }
    }

    public func renewLease(run: Int64, worker: String, lease: Double) throws {
        try db.query("UPDATE runs SET lease_expiry = ? WHERE id = ? AND worker = ? AND status = 'running'",
                     [.double(Date().timeIntervalSince1970 + lease), .int(Int(run)), .text(worker)])
        guard db.changes == 1 else { throw StoreError.notOwner(run: run, worker: worker) }
    }

    public func appendMetrics(_ rows: [MetricRow]) throws {
        guard !rows.isEmpty else { return }
        try db.transaction {
            let insert = try db.prepare("""
                INSERT OR REPLACE INTO metrics(run, step, tokens, flops, lr, train_loss, eval_loss)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for r in rows {
                try insert.run([.int(Int(r.run)), .int(r.step), .int(r.tokens), .double(r.flops), .double(r.lr),
                                .double(r.trainLoss), r.evalLoss.map { .double($0) } ?? .null])
            }
            for (run, r) in StoreSchema.lastRows(rows) {
                try db.query("UPDATE runs SET step = ?, last_loss = ? WHERE id = ?",
                             [.int(r.step), .double(r.trainLoss), .int(Int(run))])
            }
        }
    }

    public func releaseDeadRuns(host: String, isAlive: (Int) -> Bool) throws -> Int {
        try db.transaction {
            var dead: [Int] = []
            try db.query("SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", [.text(host)]) {
                if let pid = $0.optionalInt(1), !isAlive(pid) { dead.append($0.int(0)) }
            }
            for id in dead {
                try db.query("""
                    UPDATE runs SET status = 'planned', worker = NULL, host = NULL, pid = NULL, lease_expiry = NULL
                    WHERE id = ?
                    """, [.int(id)])
            }
            return dead.count
        }
    }

    public func retryFailedRuns(sweep: Int64) throws -> Int {
        try db.query("""
            UPDATE runs SET status = 'planned', worker = NULL, host = NULL, pid = NULL, lease_expiry = NULL,
              message = NULL WHERE sweep = ? AND status = 'failed'
            """, [.int(Int(sweep))])
        return db.changes
    }

    public func sweepConfigJSON(sweep: Int64) throws -> String {
        var json: String?
        try db.query("SELECT config FROM sweeps WHERE id = ?", [.int(Int(sweep))]) { json = $0.text(0) }
        guard let json else { throw StoreError.unknownSweep("#\(sweep)") }
        return json
    }

    public func finishRun(_ run: Int64, worker: String, outcome: RunOutcome, wallSeconds: Double) throws {
        let now = Date().timeIntervalSince1970
        try db.transaction {
            var owner: String?
            try db.query("SELECT worker FROM runs WHERE id = ? AND status = 'running'", [.int(Int(run))]) {
                owner = $0.optionalText(0)
            }
            guard owner == worker else { throw StoreError.notOwner(run: run, worker: worker) }
            switch outcome {
            case let .done(train, eval, tps):
                try db.query("""
                    UPDATE runs SET status = 'done', ended = ?, final_train_loss = ?, final_eval_loss = ?,
                      tokens_per_second = ?, wall_seconds = coalesce(wall_seconds, 0) + ?, lease_expiry = NULL
                    WHERE id = ?
                    """, [.double(now), .double(train), eval.map { .double($0) } ?? .null, .double(tps),
                          .double(wallSeconds), .int(Int(run))])
            case let .diverged(step, loss):
                try db.query("""
                    UPDATE runs SET status = 'diverged', ended = ?, diverged_step = ?, last_loss = ?,
                      wall_seconds = coalesce(wall_seconds, 0) + ?, lease_expiry = NULL,
                      message = 'diverged at step ' || ? WHERE id = ?
                    """, [.double(now), .int(step), .double(loss), .double(wallSeconds), .int(step), .int(Int(run))])
            case .stopped:
                try db.query("""
                    UPDATE runs SET status = 'planned', worker = NULL, host = NULL, pid = NULL, lease_expiry = NULL,
                      wall_seconds = coalesce(wall_seconds, 0) + ? WHERE id = ?
                    """, [.double(wallSeconds), .int(Int(run))])
            }
        }
    }

    public func failRun(_ run: Int64, worker: String, message: String) throws {
        try db.query("""
            UPDATE runs SET status = 'failed', ended = ?, message = ?, lease_expiry = NULL
            WHERE id = ? AND worker = ? AND status = 'running'
            """, [.double(Date().timeIntervalSince1970), .text(message), .int(Int(run)), .text(worker)])
    }

    public func runs(sweep: Int64) throws -> [RunRecord] {
        var out: [RunRecord] = []
        try db.query("SELECT \(StoreSchema.runColumns) FROM runs WHERE sweep = ? ORDER BY id", [.int(Int(sweep))]) {
            out.append(try RunRecord(row: $0))
        }
        return out
    }

    public func metrics(run: Int64) throws -> [MetricRow] {
        var out: [MetricRow] = []
        try db.query("SELECT \(StoreSchema.metricColumns) FROM metrics WHERE run = ? ORDER BY step",
                     [.int(Int(run))]) { out.append(MetricRow(row: $0)) }
        return out
    }

    public func summary(sweep: Int64) throws -> SweepSummary {
        SweepSummary(runs: try runs(sweep: sweep))
    }
}

extension SQLiteStatement: StoreRow {}
