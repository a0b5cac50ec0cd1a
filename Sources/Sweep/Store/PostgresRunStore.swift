// The PostgreSQL run store, for sweeps whose workers run on many machines: the same schema
// and migrations as the SQLite store, claims with FOR UPDATE SKIP LOCKED, leases on the
// database server's clock, metric batches upserted in one statement.
//
// Driver: libpq (Debian's libpq-dev) through the CLibPQ system-library target, not
// postgres-nio. The store protocol is synchronous and called from single-threaded worker
// processes; libpq needs no event loop, follows the CSQLite pattern, and adds no package
// builds to CI.
import Foundation

public final class PostgresRunStore: SQLRunStore {
    public let db: PostgresConnection
    /// The URL, password hidden.
    public var url: String { db.url }
    public var database: PostgresConnection { db }

    public static var schemaVersion: Int { StoreSchema.version }
    /// The schema version as opened: the latest after a writer's migration.
    public private(set) var openedVersion = 0

    /// The server's clock in Unix seconds. Leases compare times written by different nodes,
    /// whose own clocks may disagree; the server's is the one they share.
    public static let now = "extract(epoch FROM clock_timestamp())::float8"
    public static let identityTableExists = "SELECT (to_regclass('store_identity') IS NOT NULL)::int"

    /// Keys for pg_advisory_xact_lock: ('isof', 1) serialises migrations, ('isof', 2) sweep
    /// creation, so concurrent first connections do not race.
    static let lockSpace = 0x6973_6F66
    static let migrationLock = 1
    static let sweepLock = 2

    /// Connects and migrates. A database whose schema is newer than this isoflop knows is
    /// refused before anything is written.
    public init(url: String, readOnly: Bool = false) throws {
        db = try PostgresConnection(url: url)
        let found = try schemaVersionFound()
        guard found <= Self.schemaVersion else {
            throw StoreError.newerSchema(path: db.url, found: found, known: Self.schemaVersion)
        }
        openedVersion = found
        if readOnly {
            guard found >= StoreSchema.oldestReadable else {
                throw StoreError.notADatabase(path: db.url, message: found == 0 ? "the database holds no run store"
                    : "schema version \(found) is older than \(Self.schemaVersion); a command that trains upgrades it")
            }
            return
        }
        if found < Self.schemaVersion { try migrate() }
        openedVersion = Self.schemaVersion
        try db.transaction {
            try db.query("SELECT pg_advisory_xact_lock($1, $2)", [.int(Self.lockSpace), .int(Self.migrationLock)])
            try db.execute(StoreSchema.identityTable)
            try db.query("INSERT INTO store_identity(id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM store_identity)",
                         [.text(StoreSchema.newIdentity())])
        }
    }

    /// The version recorded in the database, 0 when it has no schema_version table.
    func schemaVersionFound() throws -> Int {
        var exists = false
        try db.query("SELECT to_regclass('schema_version') IS NOT NULL") { exists = $0.text(0) == "t" }
        guard exists else { return 0 }
        var version = 0
        try db.query("SELECT coalesce(max(version), 0) FROM schema_version") { version = $0.int(0) }
        return version
    }

    func migrate() throws {
        try db.transaction {
            try db.query("SELECT pg_advisory_xact_lock($1, $2)", [.int(Self.lockSpace), .int(Self.migrationLock)])
            // Read again under the lock: another worker may have migrated meanwhile. Creating the
            // table first (a no-op when it exists) locks the schema, which makes this session see
            // tables committed while it waited; to_regclass alone may answer from a stale cache.
            try db.execute("CREATE TABLE IF NOT EXISTS schema_version(version BIGINT NOT NULL)")
            var version = 0
            try db.query("SELECT coalesce(max(version), 0) FROM schema_version") { version = $0.int(0) }
            guard version <= Self.schemaVersion else {
                throw StoreError.newerSchema(path: db.url, found: version, known: Self.schemaVersion)
            }
            for v in version..<Self.schemaVersion {
                try db.execute(StoreSchema.postgres(StoreSchema.migrations[v]))
                try StoreSchema.finish(step: StoreSchema.migrations[v], in: db)
                try db.query("INSERT INTO schema_version(version) VALUES ($1)", [.int(v + 1)])
            }
        }
    }

    public func lockSweepCreation() throws {
        try db.query("SELECT pg_advisory_xact_lock($1, $2)", [.int(Self.lockSpace), .int(Self.sweepLock)])
    }

    /// One statement, so one implicit transaction: the subquery locks the next claimable run,
    /// skipping rows other workers have locked this instant (they never wait on each other),
    /// and the update marks it running. A row another worker claimed since this statement's
    /// snapshot is re-checked after locking, fails the WHERE, and the next one is taken.
    public func claimNextRun(sweep: Int64?, worker: String, host: String, pid: Int, lease: Double) throws -> RunRecord? {
        var rec: RunRecord?
        try db.query("""
            UPDATE runs SET status = 'running', worker = $2, host = $3, pid = $4, lease_expiry = \(Self.now) + $5,
              started = coalesce(started, \(Self.now)), attempts = attempts + 1
            WHERE id = (
              SELECT id FROM runs WHERE ($1::bigint IS NULL OR sweep = $1::bigint)
                AND shared_from IS NULL AND (branch_of IS NULL OR branch_ready = 1)
                AND (status = 'planned' OR (status = 'running' AND lease_expiry < \(Self.now)))
              ORDER BY \(StoreSchema.remainingWork(greatest: "GREATEST")) DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING \(StoreSchema.runColumns)
            """, [sweep.map { .int(Int($0)) } ?? .null, .text(worker), .text(host), .int(pid), .double(lease)]) {
            rec = try RunRecord(row: $0)
        }
        return rec
    }

    public func renewLease(run: Int64, worker: String, lease: Double) throws {
        let changed = try db.query("""
            UPDATE runs SET lease_expiry = \(Self.now) + $1 WHERE id = $2 AND worker = $3 AND status = 'running'
            """, [.double(lease), .int(Int(run)), .text(worker)])
        guard changed == 1 else { throw StoreError.notOwner(run: run, worker: worker) }
    }

    /// The whole batch goes in one INSERT over unnest()ed arrays (a constant statement however
    /// many rows); ON CONFLICT replaces a (run, step) row that a worker before a takeover wrote.
    public func appendMetrics(_ rows: [MetricRow]) throws {
        guard !rows.isEmpty else { return }
        // One row per (run, step), the last one given, as SQLite's INSERT OR REPLACE keeps:
        // ON CONFLICT may not touch the same row twice in one statement.
        var latest: [Int64: [Int: Int]] = [:]
        for (i, r) in rows.enumerated() { latest[r.run, default: [:]][r.step] = i }
        let batch = rows.indices.filter { latest[rows[$0].run]![rows[$0].step] == $0 }.map { rows[$0] }
        try db.transaction {
            try db.query("""
                INSERT INTO metrics(\(StoreSchema.metricColumns))
                SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::float8[], $5::float8[],
                                     $6::float8[], $7::float8[])
                ON CONFLICT (run, step) DO UPDATE SET tokens = excluded.tokens, flops = excluded.flops,
                  lr = excluded.lr, train_loss = excluded.train_loss, eval_loss = excluded.eval_loss
                """, [arrayLiteral(batch.map { Int($0.run) }), arrayLiteral(batch.map(\.step)), arrayLiteral(batch.map(\.tokens)),
                      arrayLiteral(batch.map(\.flops)), arrayLiteral(batch.map(\.lr)),
                      arrayLiteral(batch.map(\.trainLoss)), arrayLiteral(batch.map(\.evalLoss))])
            for (run, r) in StoreSchema.lastRows(batch) {
                try db.query("UPDATE runs SET step = $1, last_loss = $2 WHERE id = $3",
                             [.int(r.step), .double(r.trainLoss), .int(Int(run))])
            }
        }
    }
}

/// PostgreSQL array values ("{1,2,3}", "{2.5,NULL}") for the unnest() columns: numbers
/// only, so nothing needs quoting; nil and NaN are NULL (as SQLite stores NaN).
func arrayLiteral(_ values: [Int]) -> SQLValue {
    .text("{" + values.map(String.init).joined(separator: ",") + "}")
}

func arrayLiteral(_ values: [Double?]) -> SQLValue {
    .text("{" + values.map { v in v.flatMap { $0.isNaN ? nil : "\($0)" } ?? "NULL" }.joined(separator: ",") + "}")
}
