// The store and worker contracts on a throwaway PostgreSQL server, and what only that backend
// has: concurrent claims over many connections, concurrent first migrations, connection
// errors naming host and port, and a newer schema refused with the database left as it was.
import Foundation
import PostgresFixture
import Sweep
import XCTest

final class PostgresStoreTests: XCTestCase {
    func contract() throws -> StoreContract { StoreContract(backend: try .postgres()) }

    func testCreateSweepIsIdempotentAndRejectsAnotherPlan() throws { try contract().createSweepIsIdempotentAndRejectsAnotherPlan() }
    func testClaimLargestFirstAndLeaseTakeover() throws { try contract().claimLargestFirstAndLeaseTakeover() }
    func testMetricRowsAreReplacedNotDuplicated() throws { try contract().metricRowsAreReplacedNotDuplicated() }
    func testReleaseDeadRunsAndRetryFailed() throws { try contract().releaseDeadRunsAndRetryFailed() }
    func testResultsReadOneSweepInOnePass() throws { try contract().resultsReadOneSweepInOnePass() }
    func testDivergedAndFinishedRunsAreRecorded() throws { try contract().divergedAndFinishedRunsAreRecorded() }
    func testBenchmarkHandsOutEveryRunOnce() throws { try contract().benchmarkHandsOutEveryRunOnce() }
    func testResultCopiesCarryTheCurve() throws { try contract().resultCopiesCarryTheCurve() }
    func testTransactionsRollBackAndIdentityIsShared() throws { try contract().transactionsRollBackAndIdentityIsShared() }

    /// One list of migrations: the same tables with the same columns, in the same order.
    func testSchemaMatchesSQLite() throws {
        let sqlite = try SQLiteRunStore(path: (temporaryDirectory() as NSString).appendingPathComponent("s.sqlite"))
        let pg = try PostgresRunStore(url: try StoreBackend.postgres().newStoreURL(#function))
        for table in ["sweeps", "runs", "metrics", "schema_version"] {
            var lite: [String] = [], postgres: [String] = []
            // A primary key cannot hold NULL in either engine, though SQLite does not flag it.
            try sqlite.db.query("SELECT name, \"notnull\" OR pk > 0 FROM pragma_table_info(?) ORDER BY cid", [.text(table)]) {
                lite.append("\($0.text(0)) \($0.int(1) == 1 ? "not null" : "null")")
            }
            try pg.db.query("""
                SELECT column_name, is_nullable FROM information_schema.columns
                WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position
                """, [.text(table)]) {
                postgres.append("\($0.text(0)) \($0.text(1) == "NO" ? "not null" : "null")")
            }
            XCTAssertFalse(lite.isEmpty, table)
            XCTAssertEqual(postgres, lite, table)
        }
    }

    /// A connection the server dropped fails the statement that finds it gone; the store then
    /// connects again instead of failing every later call.
    func testLostConnectionIsReplacedOnTheNextStatement() throws {
        let url = try StoreBackend.postgres().newStoreURL(#function)
        let store = try PostgresRunStore(url: url)
        _ = try store.createSweep(name: "a", configJSON: "{}", runs: try smallPlan())
        var backend = 0
        try store.db.query("SELECT pg_backend_pid()") { backend = $0.int(0) }
        var terminated = false
        try PostgresConnection(url: url).query("SELECT pg_terminate_backend($1)", [.int(backend)]) {
            terminated = $0.text(0) == "t"
        }
        XCTAssertTrue(terminated)
        XCTAssertThrowsError(try store.sweepNames())
        XCTAssertEqual(try store.sweepNames(), ["a"])
        var again = 0
        try store.db.query("SELECT pg_backend_pid()") { again = $0.int(0) }
        XCTAssertNotEqual(again, backend)
    }

    /// Eight connections claim from one sweep of 240 runs at once: every run is handed out
    /// exactly once, and still largest first within each worker's claims.
    func testConcurrentClaimsNeverHandTheSameRunTwice() throws {
        let url = try StoreBackend.postgres().newStoreURL(#function)
        let base = try smallPlan()
        let runs = (0..<240).map { i -> PlannedRun in
            var r = base[i % base.count]
            r.key += " copy=\(i)"
            r.flops += Double(i)
            return r
        }
        let sweep = try openRunStore(url).createSweep(name: "many", configJSON: "{}", runs: runs)

        final class Claims: @unchecked Sendable {
            let lock = NSLock()
            var byWorker: [[RunRecord]] = Array(repeating: [], count: 8)
            var errors: [Error] = []
        }
        let claims = Claims()
        DispatchQueue.concurrentPerform(iterations: 8) { k in
            do {
                let store = try openRunStore(url)
                var mine: [RunRecord] = []
                while let run = try store.claimNextRun(sweep: sweep, worker: "w\(k)", host: "h", pid: k, lease: 600) {
                    mine.append(run)
                }
                claims.lock.lock(); claims.byWorker[k] = mine; claims.lock.unlock()
            } catch {
                claims.lock.lock(); claims.errors.append(error); claims.lock.unlock()
            }
        }
        XCTAssertTrue(claims.errors.isEmpty, "\(claims.errors)")
        let all = claims.byWorker.flatMap { $0 }
        XCTAssertEqual(all.count, runs.count)
        XCTAssertEqual(Set(all.map(\.id)).count, runs.count, "no run handed out twice")
        for (k, mine) in claims.byWorker.enumerated() {
            let work = mine.map { $0.plan.flops + Double($0.plan.tokens) * StoreSchema.overheadFLOPsPerToken }
            XCTAssertEqual(work, work.sorted(by: >), "worker \(k) got larger runs first")
            XCTAssertTrue(mine.allSatisfy { $0.worker == "w\(k)" && $0.attempts == 1 && $0.status == .running })
        }
        let stored = try openRunStore(url).runs(sweep: sweep)
        XCTAssertTrue(stored.allSatisfy { $0.status == .running && $0.attempts == 1 })
    }

    /// Workers that all start on an empty database migrate it once between them.
    func testConcurrentFirstConnectionsMigrateOnce() throws {
        let url = try StoreBackend.postgres().newStoreURL(#function)
        final class Errors: @unchecked Sendable {
            let lock = NSLock()
            var list: [Error] = []
        }
        let errors = Errors()
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            do { _ = try PostgresRunStore(url: url) } catch {
                errors.lock.lock(); errors.list.append(error); errors.lock.unlock()
            }
        }
        XCTAssertTrue(errors.list.isEmpty, "\(errors.list)")
        var versions: [Int] = []
        try PostgresRunStore(url: url).db.query("SELECT version FROM schema_version ORDER BY version") {
            versions.append($0.int(0))
        }
        XCTAssertEqual(versions, Array(1...PostgresRunStore.schemaVersion))
    }

    func testNewerSchemaIsRefusedAndLeftAsItWas() throws {
        let url = try StoreBackend.postgres().newStoreURL(#function)
        let newer = PostgresRunStore.schemaVersion + 1
        do {
            let store = try PostgresRunStore(url: url)
            _ = try store.createSweep(name: "a", configJSON: "{}", runs: try smallPlan())
            try store.db.query("INSERT INTO schema_version(version) VALUES ($1)", [.int(newer)])
        }
        func snapshot() throws -> [String] {
            var rows: [String] = []
            let db = try PostgresConnection(url: url)
            try db.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1") {
                rows.append("table " + $0.text(0))
            }
            try db.query("SELECT version FROM schema_version ORDER BY version") { rows.append("version \($0.int(0))") }
            try db.query("SELECT id, status, attempts FROM runs ORDER BY id") {
                rows.append("run \($0.int(0)) \($0.text(1)) \($0.int(2))")
            }
            return rows
        }
        let before = try snapshot()
        XCTAssertThrowsError(try openRunStore(url)) {
            XCTAssertEqual($0 as? StoreError, .newerSchema(path: url, found: newer, known: PostgresRunStore.schemaVersion))
            XCTAssertTrue("\($0)".contains("newer") && "\($0)".contains(url), "\($0)")
        }
        XCTAssertEqual(try snapshot(), before)
    }

    /// Needs no server: nothing listens on port 1 of loopback.
    func testUnreachableDatabaseNamesHostAndPort() throws {
        let url = "postgresql://isoflop:secret@127.0.0.1:1/isoflop?connect_timeout=5"
        XCTAssertThrowsError(try openRunStore(url)) {
            guard case let StoreError.cannotConnect(shown, host, port, message) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(host, "127.0.0.1")
            XCTAssertEqual(port, "1")
            XCTAssertEqual(shown, "postgresql://isoflop:***@127.0.0.1:1/isoflop?connect_timeout=5")
            XCTAssertFalse(message.isEmpty)
            let line = "\($0)"
            XCTAssertTrue(line.hasPrefix("run store postgresql://isoflop:***@127.0.0.1:1/isoflop"), line)
            XCTAssertTrue(line.contains("cannot connect to 127.0.0.1:1: "), line)
            XCTAssertFalse(line.contains("secret"), "the password is not shown: \(line)")
            XCTAssertFalse(line.contains("\n"), "one line: \(line)")
        }
        XCTAssertThrowsError(try openRunStore("postgres://u@localhost:1/db")) {
            XCTAssertTrue("\($0)".contains("cannot connect to localhost:1"), "\($0)")
        }
    }

    func testURLParametersReachLibpq() throws {
        let url = try StoreBackend.postgres().newStoreURL(#function) + "?application_name=isoflop_test&connect_timeout=5"
        let store = try XCTUnwrap(try openRunStore(url) as? PostgresRunStore)
        var name = ""
        try store.db.query("SELECT current_setting('application_name')") { name = $0.text(0) }
        XCTAssertEqual(name, "isoflop_test")
        XCTAssertThrowsError(try store.db.query("SELECT * FROM nowhere")) {
            XCTAssertEqual(($0 as? PostgresError)?.sqlState, "42P01")
            XCTAssertTrue("\($0)".contains("\"nowhere\" does not exist"), "\($0)")
        }
    }
}

final class PostgresWorkerTests: XCTestCase {
    func contract() throws -> WorkerContract { WorkerContract(backend: try .postgres()) }

    func testTwoWorkersDoEveryRunOnceWithAllRows() throws { try contract().twoWorkersDoEveryRunOnceWithAllRows() }
    func testStoppedRunGoesBackToPlannedAndResumes() throws { try contract().stoppedRunGoesBackToPlannedAndResumes() }
    func testCrashedRunIsTakenOverAfterLeaseAndResumesFromCheckpoint() throws {
        try contract().crashedRunIsTakenOverAfterLeaseAndResumesFromCheckpoint()
    }
    func testBufferedSinkBatchesRows() throws { try contract().bufferedSinkBatchesRows() }
    func testSharedRunRecordsItsShorterRunsAcrossAStop() throws { try contract().sharedRunRecordsItsShorterRunsAcrossAStop() }
    func testSharedRunThatDivergesOrFailsEndsItsShorterRuns() throws { try contract().sharedRunThatDivergesOrFailsEndsItsShorterRuns() }
}
