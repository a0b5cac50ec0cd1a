// The SQLite run store: one file per sweep folder, WAL mode, versioned schema with
// migrations, atomic claims in IMMEDIATE transactions, batched metric writes.
import CSQLite
import Foundation

public final class SQLiteRunStore: SQLRunStore {
    public private(set) var db: SQLiteConnection
    public var path: String { db.path }
    /// The connection, reopened the usual way (read-only) when a store opened as an immutable
    /// snapshot has been written since (a `-wal` file beside it, or a new size or time).
    public var database: SQLiteConnection {
        if let snapshot, snapshot != Self.fileState(path) {
            if let live = try? SQLiteConnection(path: path, create: false, readOnly: true, busyTimeout: busyTimeout) {
                db = live
                self.snapshot = nil
            }
        }
        return db
    }
    /// The file's state when it was opened immutable (nil: opened the usual way).
    private var snapshot: FileState?
    private let busyTimeout: Double
    /// SQLite's clock in Unix seconds (this machine's, to the millisecond), for start and end
    /// times, which must come from one clock to be ordered.
    public static let now = "((julianday('now') - 2440587.5) * 86400.0)"
    public static let identityTableExists = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'store_identity'"
    /// IMMEDIATE transactions already keep writers apart.
    public func lockSweepCreation() {}

    /// The shared schema migrations, as written (SQLite's types).
    static var migrations: [String] { StoreSchema.migrations }

    public static var schemaVersion: Int { migrations.count }
    /// The schema version as opened: the latest after a writer's migration.
    public private(set) var openedVersion = 0

    /// Opens or creates the store; `readOnly` opens an existing store for reading only (no
    /// migration, no change of journal mode). A file that is not an SQLite database, a
    /// database that holds other tables than ours, or one written by a newer isoflop, is an
    /// error and is left exactly as it was.
    ///
    /// A store read while no other connection has it open (no `-wal`, `-shm` or `-journal`
    /// beside it) is opened immutable, so that reading it creates nothing beside it: SQLite's
    /// read-only connections to a WAL database otherwise create `-wal` and `-shm`, and leave
    /// them. The store is reopened the usual way once a writer shows up (see `database`); a
    /// writer that starts during one of the reader's queries could still show it a torn page,
    /// which the reader reports as a corrupt database (rerun it).
    public init(path: String, busyTimeout: Double = 30, readOnly: Bool = false) throws {
        self.busyTimeout = busyTimeout
        let state = readOnly ? Self.fileState(path) : nil
        let quiet = state.map { !$0.wal } == true
            && ["-shm", "-journal"].allSatisfy { !FileManager.default.fileExists(atPath: path + $0) }
        do {
            db = try SQLiteConnection(path: path, create: !readOnly, readOnly: readOnly, immutable: quiet, busyTimeout: busyTimeout)
            snapshot = quiet ? state : nil
        } catch let e as SQLiteError {
            throw StoreError.notADatabase(path: path, message: e.message)
        }
        // Read before writing anything: a corrupt file fails here, untouched.
        var version = 0
        var tables: [String] = []
        do {
            try db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") { tables.append($0.text(0)) }
            if tables.contains("schema_version") {
                try db.query("SELECT coalesce(max(version), 0) FROM schema_version") { version = $0.int(0) }
            }
        } catch let e as SQLiteError {
            throw StoreError.notADatabase(path: path, message: e.message)
        }
        guard version <= Self.schemaVersion else {
            throw StoreError.newerSchema(path: path, found: version, known: Self.schemaVersion)
        }
        if !tables.contains("schema_version"), !tables.isEmpty {
            throw StoreError.notADatabase(path: path, message: "it holds other tables (\(tables.prefix(5).joined(separator: ", ")))")
        }
        openedVersion = version
        if readOnly {
            guard version >= StoreSchema.oldestReadable else {
                throw StoreError.notADatabase(path: path, message: version == 0 ? "it is empty"
                    : "schema version \(version) is older than \(Self.schemaVersion); a command that trains upgrades it")
            }
            return
        }
        try switchToWAL(busyTimeout: busyTimeout)
        try db.execute("PRAGMA synchronous = NORMAL")
        try db.execute("PRAGMA foreign_keys = ON")
        try migrate()
        openedVersion = Self.schemaVersion
    }

    /// What tells that a store file was written: its size and modification time, and
    /// whether a `-wal` file lies beside it.
    struct FileState: Equatable {
        var size: Int64
        var modified: timespec
        var wal: Bool

        static func == (a: FileState, b: FileState) -> Bool {
            a.size == b.size && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec && a.wal == b.wal
        }
    }

    static func fileState(_ path: String) -> FileState? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileState(size: Int64(st.st_size), modified: st.st_mtim, wal: FileManager.default.fileExists(atPath: path + "-wal"))
    }

    /// Puts a new store in WAL mode (a store keeps the mode once set). Two processes opening a
    /// new store at once can both hold a read lock when asking for the exclusive one the switch
    /// needs; SQLite then answers SQLITE_BUSY at once, without its busy handler (which would
    /// deadlock), so the switch is retried here until the timeout.
    private func switchToWAL(busyTimeout: Double) throws {
        let deadline = Date().addingTimeInterval(busyTimeout)
        var attempt = 0
        while true {
            do {
                return try db.execute("PRAGMA journal_mode = WAL")
            } catch let e as SQLiteError where e.code == SQLITE_BUSY && Date() < deadline {
                attempt += 1
                usleep(UInt32(min(attempt, 20)) * 5_000)
            }
        }
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
                try StoreSchema.finish(step: Self.migrations[v], in: db)
                try db.query("INSERT INTO schema_version(version) VALUES (?)", [.int(v + 1)])
            }
            try db.execute(StoreSchema.identityTable)
            try db.query("INSERT INTO store_identity(id) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM store_identity)",
                         [.text(StoreSchema.newIdentity())])
        }
    }

    public func claimNextRun(sweep: Int64?, worker: String, host: String, pid: Int, lease: Double) throws -> RunRecord? {
        try db.transaction {
            let now = Date().timeIntervalSince1970
            var id: Int64?
            let sweepFilter = sweep.map { "sweep = \($0) AND" } ?? ""
            try db.query("""
                SELECT id FROM runs WHERE \(sweepFilter)
                  shared_from IS NULL AND (branch_of IS NULL OR branch_ready = 1)
                  AND (status = 'planned' OR (status = 'running' AND lease_expiry < ?))
                ORDER BY \(StoreSchema.remainingWork(greatest: "max")) DESC, id LIMIT 1
                """, [.double(now)]) { id = Int64($0.int(0)) }
            guard let id else { return nil }
            try db.query("""
                UPDATE runs SET status = 'running', worker = ?, host = ?, pid = ?, lease_expiry = ?,
                  started = coalesce(started, \(Self.now)), attempts = attempts + 1 WHERE id = ?
                """, [.text(worker), .text(host), .int(pid), .double(now + lease), .int(Int(id))])
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

}

extension SQLiteStatement: StoreRow {}

extension SQLiteConnection: StoreDatabase {
    @discardableResult
    public func perform(_ sql: String, _ values: [SQLValue], row: (SQLiteStatement) throws -> Void) throws -> Int {
        try query(sql, values, row: row)
        return changes
    }

    public func inTransaction<T>(_ body: () throws -> T) throws -> T { try transaction(body) }
}
