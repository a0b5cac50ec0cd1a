// The run store contract, written once and run against both backends (SQLite and, where
// its binaries are installed, a throwaway PostgreSQL): idempotent sweeps, claims and leases,
// metric rows without duplicates, dead and failed runs; then SQLite's own refusals (a corrupt
// file or a schema from a newer isoflop, left untouched).
import Foundation
import PostgresFixture
import Sweep
import XCTest

/// A kind of store the store-level tests run against: how to get the URL of a new, empty one.
struct StoreBackend {
    var name: String
    var newStoreURL: (_ test: String) throws -> String

    static let sqlite = StoreBackend(name: "sqlite") {
        "sqlite:" + (temporaryDirectory($0) as NSString).appendingPathComponent("s.sqlite")
    }

    /// A database per call on the shared test server; XCTSkip when PostgreSQL is not installed.
    static func postgres() throws -> StoreBackend {
        let server = try PostgresFixture.shared()
        return StoreBackend(name: "postgresql") { test in
            try server.createDatabase(String(test.lowercased().filter { $0.isASCII && $0.isLetter }.prefix(40)))
        }
    }
}

/// The store tests, run by StoreTests (SQLite) and PostgresStoreTests.
struct StoreContract {
    var backend: StoreBackend

    func newStore(_ test: String = #function) throws -> RunStore { try openRunStore(try backend.newStoreURL(test)) }

    func createSweepIsIdempotentAndRejectsAnotherPlan() throws {
        let store = try newStore()
        let runs = try smallPlan()
        let id = try store.createSweep(name: "a", configJSON: "{}", runs: runs)
        XCTAssertEqual(try store.createSweep(name: "a", configJSON: "{}", runs: runs), id)
        XCTAssertEqual(try store.runs(sweep: id).count, runs.count)
        XCTAssertEqual(try store.runs(sweep: id).map(\.plan), runs)
        XCTAssertThrowsError(try store.createSweep(name: "a", configJSON: "{}", runs: Array(runs.dropLast()))) {
            guard case StoreError.sweepConflict = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try store.sweepNames(), ["a"])
    }

    /// A transaction whose body throws leaves nothing behind and closes (the next one commits
    /// alone, as a second connection sees); the store's identity is one value for every
    /// connection.
    func transactionsRollBackAndIdentityIsShared() throws {
        let url = try backend.newStoreURL(#function)
        let store = try openRunStore(url)
        switch store {
        case let s as SQLiteRunStore: try rollBackThenCommit(s)
        case let s as PostgresRunStore: try rollBackThenCommit(s)
        default: XCTFail("unknown store \(type(of: store))")
        }
        let other = try openRunStore(url)
        XCTAssertNil(try other.sweepID(named: "gone"))
        XCTAssertNotNil(try other.sweepID(named: "kept"))
        let id = try XCTUnwrap(try store.storeID())
        XCTAssertEqual(try other.storeID(), id)
    }

    private struct Stop: Error {}

    private func rollBackThenCommit<S: SQLRunStore>(_ s: S) throws {
        let insert = "INSERT INTO sweeps(name, config, created) VALUES (?, '{}', 0)"
        XCTAssertThrowsError(try s.database.inTransaction {
            try s.database.perform(insert, [.text("gone")])
            throw Stop()
        }) { XCTAssertTrue($0 is Stop, "the body's error goes on, not \($0)") }
        _ = try s.database.inTransaction { try s.database.perform(insert, [.text("kept")]) }
    }

    func claimLargestFirstAndLeaseTakeover() throws {
        let store = try newStore()
        let runs = try smallPlan(budgets: [1e10], schedules: [.matched])
        let sweep = try store.createSweep(name: "a", configJSON: "{}", runs: [runs[0]])
        let first = try XCTUnwrap(store.claimNextRun(sweep: sweep, worker: "w1", host: "h", pid: 1, lease: 0.3))
        XCTAssertEqual(first.status, .running)
        XCTAssertEqual(first.worker, "w1")
        XCTAssertNil(try store.claimNextRun(sweep: sweep, worker: "w2", host: "h", pid: 2, lease: 0.3),
                     "a leased run is not handed out twice")
        Thread.sleep(forTimeInterval: 0.4)
        let taken = try XCTUnwrap(store.claimNextRun(sweep: sweep, worker: "w2", host: "h", pid: 2, lease: 30))
        XCTAssertEqual(taken.id, first.id)
        XCTAssertEqual(taken.attempts, 2)
        XCTAssertEqual(taken.pid, 2)
        XCTAssertThrowsError(try store.renewLease(run: first.id, worker: "w1", lease: 30)) {
            XCTAssertEqual($0 as? StoreError, .notOwner(run: first.id, worker: "w1"))
        }
        XCTAssertThrowsError(try store.finishRun(first.id, worker: "w1", outcome: .stopped, wallSeconds: 1))
        try store.finishRun(first.id, worker: "w2", outcome: .done(finalTrainLoss: 2, finalEvalLoss: 2.5, tokensPerSecond: 9),
                            wallSeconds: 1)
        let done = try store.runs(sweep: sweep)[0]
        XCTAssertEqual(done.status, .done)
        XCTAssertEqual(done.finalEvalLoss, 2.5)

        let other = try store.createSweep(name: "b", configJSON: "{}", runs: runs)
        let order = try (0..<runs.count).map { _ in
            let plan = try XCTUnwrap(store.claimNextRun(sweep: other, worker: "w", host: "h", pid: 1, lease: 30)).plan
            return plan.flops + Double(plan.tokens) * StoreSchema.overheadFLOPsPerToken
        }
        XCTAssertEqual(order, order.sorted(by: >), "largest runs first")
    }

    func metricRowsAreReplacedNotDuplicated() throws {
        let store = try newStore()
        let sweep = try store.createSweep(name: "a", configJSON: "{}", runs: try smallPlan())
        let run = try XCTUnwrap(store.claimNextRun(sweep: sweep, worker: "w", host: "h", pid: 1, lease: 30))
        func rows(_ steps: ClosedRange<Int>, loss: Double) -> [MetricRow] {
            steps.map { MetricRow(run: run.id, step: $0, tokens: $0 * 10, flops: Double($0), lr: 1e-3, trainLoss: loss,
                                  evalLoss: $0 == 5 ? 4 : nil) }
        }
        try store.appendMetrics(rows(1...10, loss: 3))
        try store.appendMetrics(rows(6...12, loss: 2))
        let stored = try store.metrics(run: run.id)
        XCTAssertEqual(stored.map(\.step), Array(1...12))
        XCTAssertEqual(stored[4].trainLoss, 3)
        XCTAssertEqual(stored[4].evalLoss, 4)
        XCTAssertEqual(stored[6].trainLoss, 2)
        XCTAssertNil(stored[6].evalLoss)
        let rec = try store.runs(sweep: sweep).first { $0.id == run.id }!
        XCTAssertEqual(rec.step, 12)
        XCTAssertEqual(rec.lastLoss, 2)
    }

    /// Two sweeps in one store: each read returns its own sweep's runs and curves only, the
    /// done ones by schedule, budgets from the budget column; without a name the read refuses.
    func resultsReadOneSweepInOnePass() throws {
        let store = try newStore()
        let planA = try smallPlan(budgets: [1e10, 2e10], steps: 4)
        let planB = try smallPlan(budgets: [3e10], schedules: [.matched], steps: 4)
        let a = try store.createSweep(name: "a", configJSON: "{}", runs: planA)
        let b = try store.createSweep(name: "b", configJSON: "{}", runs: planB)
        XCTAssertThrowsError(try store.results(sweep: nil)) {
            XCTAssertEqual($0 as? StoreError, .whichSweep(names: ["a", "b"]))
        }
        XCTAssertThrowsError(try store.results(sweep: "c")) { XCTAssertEqual($0 as? StoreError, .unknownSweep("c")) }
        // Finish every run of b and all but the 2e10 fixed runs of a, each with rows of its own loss.
        var finished: [Int64: Double] = [:]
        var k = 0
        while let r = try store.claimNextRun(sweep: nil, worker: "w", host: "h", pid: 1, lease: 60) {
            k += 1
            if r.sweep == a && r.plan.budget == 2e10 && r.plan.schedule == .fixed { continue }
            let loss = 3 + Double(k) / 100
            try store.appendMetrics((1...3).map { MetricRow(run: r.id, step: $0, tokens: 10 * $0, flops: 1e3 * Double($0),
                                                             lr: 1e-3, trainLoss: loss + Double(3 - $0), evalLoss: $0 == 3 ? loss : nil) })
            try store.finishRun(r.id, worker: "w", outcome: .done(finalTrainLoss: loss, finalEvalLoss: loss, tokensPerSecond: 1),
                                wallSeconds: 1)
            finished[r.id] = loss
        }
        let ra = try store.results(sweep: "a")
        XCTAssertEqual(ra.name, "a")
        XCTAssertEqual(ra.id, a)
        XCTAssertEqual(Set(ra.runs.map(\.sweep)), [a])
        XCTAssertEqual(ra.runs.count, planA.count)
        XCTAssertEqual(ra.schedules, ["matched", "fixed"])
        let doneA = ra.finishedRuns()
        XCTAssertEqual(doneA.count, planA.filter { !($0.budget == 2e10 && $0.schedule == .fixed) }.count)
        XCTAssertEqual(Set(ra.curves.keys), Set(doneA.map(\.id)), "curves of done runs only")
        for r in doneA {
            XCTAssertEqual(ra.curves[r.id]?.map(\.step), [1, 2, 3])
            XCTAssertEqual(ra.curves[r.id]?.last?.evalLoss, finished[r.id])
        }
        XCTAssertEqual(Set(ra.unfinished.map(\.id)),
                       Set(ra.runs.filter { $0.plan.budget == 2e10 && $0.plan.schedule == .fixed }.map(\.id)))
        XCTAssertEqual(Set(ra.finishedRuns(schedule: "fixed").map(\.plan.budget)), [1e10])
        // The store's own filtered read agrees with the in-memory one, ordered by budget then N.
        let sqlFixed = try store.finishedRuns(sweep: a, schedule: "fixed")
        XCTAssertEqual(Set(sqlFixed.map(\.id)), Set(ra.finishedRuns(schedule: "fixed").map(\.id)))
        let sqlAll = try store.finishedRuns(sweep: a, schedule: nil)
        XCTAssertEqual(Set(sqlAll.map(\.id)), Set(doneA.map(\.id)))
        let order = sqlAll.map { ($0.plan.schedule.rawValue, $0.plan.budget, $0.plan.parameters) }
        XCTAssertTrue(zip(order, order.dropFirst()).allSatisfy { $0 <= $1 }, "\(order)")
        XCTAssertEqual(try store.curves(sweep: b).count, planB.count)
        XCTAssertEqual(try store.results(sweep: "b").runs.count, planB.count)
        // Budgets come from the budget column: a's 2e10 budget has its fixed runs outstanding.
        let perBudget = try store.budgetProgress(sweep: a)
        XCTAssertEqual(perBudget.map(\.budget), [1e10, 2e10])
        XCTAssertEqual(perBudget.map(\.runs), [planA.filter { $0.budget == 1e10 }.count, planA.filter { $0.budget == 2e10 }.count])
        XCTAssertEqual(perBudget.map(\.isComplete), [true, false])
        XCTAssertEqual(perBudget[1].ended, planA.filter { $0.budget == 2e10 && $0.schedule == .matched }.count)
    }

    func releaseDeadRunsAndRetryFailed() throws {
        let store = try newStore()
        let sweep = try store.createSweep(name: "a", configJSON: "{}", runs: try smallPlan(schedules: [.matched]))
        let alive = try XCTUnwrap(store.claimNextRun(sweep: sweep, worker: "w1", host: "here", pid: 100, lease: 60))
        let dead = try XCTUnwrap(store.claimNextRun(sweep: sweep, worker: "w2", host: "here", pid: 200, lease: 60))
        let remote = try XCTUnwrap(store.claimNextRun(sweep: sweep, worker: "w3", host: "there", pid: 200, lease: 60))
        XCTAssertEqual(try store.releaseDeadRuns(host: "here") { $0 == 100 }, 1)
        let byID = Dictionary(uniqueKeysWithValues: try store.runs(sweep: sweep).map { ($0.id, $0) })
        XCTAssertEqual(byID[alive.id]?.status, .running)
        XCTAssertEqual(byID[dead.id]?.status, .planned)
        XCTAssertEqual(byID[remote.id]?.status, .running, "another host's worker is left to its lease")

        try store.failRun(alive.id, worker: "w1", message: "boom")
        XCTAssertEqual(try store.runs(sweep: sweep).first { $0.id == alive.id }?.message, "boom")
        XCTAssertEqual(try store.retryFailedRuns(sweep: sweep), 1)
        XCTAssertEqual(try store.runs(sweep: sweep).first { $0.id == alive.id }?.status, .planned)
    }

    func divergedAndFinishedRunsAreRecorded() throws {
        let store = try newStore()
        let sweep = try store.createSweep(name: "a", configJSON: "{\"k\": 1}", runs: try smallPlan(schedules: [.matched]))
        XCTAssertEqual(try store.sweepConfigJSON(sweep: sweep), "{\"k\": 1}")
        XCTAssertThrowsError(try store.sweepConfigJSON(sweep: sweep + 100)) {
            XCTAssertEqual($0 as? StoreError, .unknownSweep("#\(sweep + 100)"))
        }
        let bad = try XCTUnwrap(store.claimNextRun(sweep: sweep, worker: "w", host: "h", pid: 1, lease: 60))
        let good = try XCTUnwrap(store.claimNextRun(sweep: sweep, worker: "w", host: "h", pid: 1, lease: 60))
        try store.finishRun(bad.id, worker: "w", outcome: .diverged(step: 5, loss: .nan), wallSeconds: 2)
        try store.finishRun(good.id, worker: "w", outcome: .done(finalTrainLoss: 3.25, finalEvalLoss: nil, tokensPerSecond: 1e5),
                            wallSeconds: 1.5)
        let byID = Dictionary(uniqueKeysWithValues: try store.runs(sweep: sweep).map { ($0.id, $0) })
        XCTAssertEqual(byID[bad.id]?.status, .diverged)
        XCTAssertEqual(byID[bad.id]?.message, "diverged at step 5")
        XCTAssertNil(byID[bad.id]?.lastLoss, "a NaN loss is stored as NULL")
        XCTAssertNil(byID[bad.id]?.leaseExpiry)
        XCTAssertEqual(byID[good.id]?.finalTrainLoss, 3.25)
        XCTAssertNil(byID[good.id]?.finalEvalLoss)
        XCTAssertEqual(byID[good.id]?.tokensPerSecond, 1e5)
        XCTAssertEqual(byID[good.id]?.wallSeconds, 1.5)
        let started = try XCTUnwrap(byID[good.id]?.started), ended = try XCTUnwrap(byID[good.id]?.ended)
        XCTAssertLessThanOrEqual(started, ended)
        XCTAssertEqual(ended, Date().timeIntervalSince1970, accuracy: 60, "times are Unix seconds")
        let summary = SweepProgress(try store.runs(sweep: sweep))
        XCTAssertEqual(summary.byStatus[.done], 1)
        XCTAssertEqual(summary.byStatus[.diverged], 1)
        XCTAssertEqual(summary.byStatus[.planned], summary.total - 2)
    }

    /// A result copied between runs of identical training (a ladder's rungs): the target takes
    /// the source's state, losses and metric rows with FLOPs in its own counting; a run that is
    /// not planned, or a source that has not ended, changes nothing.
    func resultCopiesCarryTheCurve() throws {
        let store = try newStore()
        let runs = try smallPlan(budgets: [1e10], schedules: [.matched])
        let a = try store.createSweep(name: "a", configJSON: "{}", runs: runs)
        let b = try store.createSweep(name: "b", configJSON: "{}", runs: runs)
        let source = try XCTUnwrap(store.claimNextRun(sweep: a, worker: "w", host: "h", pid: 1, lease: 60))
        let target = try XCTUnwrap(store.runs(sweep: b).first { $0.plan.key == source.plan.key })
        XCTAssertFalse(try store.copyResult(from: source.id, to: target.id, flopsPerToken: 3), "the source is still running")
        try store.appendMetrics([MetricRow(run: source.id, step: 1, tokens: 1024, flops: 1, lr: 0.01, trainLoss: 4),
                                 MetricRow(run: source.id, step: 2, tokens: 2048, flops: 2, lr: 0.02, trainLoss: 3.5, evalLoss: 3.75)])
        try store.finishRun(source.id, worker: "w", outcome: .done(finalTrainLoss: 3.5, finalEvalLoss: 3.75, tokensPerSecond: 9),
                            wallSeconds: 4)
        XCTAssertTrue(try store.copyResult(from: source.id, to: target.id, flopsPerToken: 3))
        XCTAssertFalse(try store.copyResult(from: source.id, to: target.id, flopsPerToken: 3), "a copied run is done")
        let copied = try XCTUnwrap(store.runs(sweep: b).first { $0.id == target.id })
        XCTAssertEqual(copied.status, .done)
        XCTAssertEqual(copied.finalTrainLoss, 3.5)
        XCTAssertEqual(copied.finalEvalLoss, 3.75)
        XCTAssertEqual(copied.tokensPerSecond, 9)
        XCTAssertEqual(copied.wallSeconds, 0)
        XCTAssertEqual(copied.step, 2)
        XCTAssertEqual(copied.copiedFrom, source.id)
        XCTAssertNil(copied.message)
        let rows = try store.metrics(run: target.id)
        XCTAssertEqual(rows.map(\.run), [target.id, target.id])
        XCTAssertEqual(rows.map(\.flops), [3072, 6144])
        XCTAssertEqual(rows.map(\.lr), [0.01, 0.02])
        XCTAssertEqual(rows.map(\.evalLoss), [nil, 3.75])
        XCTAssertEqual(try store.curves(sweep: b)[target.id]?.count, 2)
        XCTAssertEqual(try store.runs(sweep: b).filter { $0.status == .done }.count, 1)
    }

    /// The store benchmark's bookkeeping on a small scale (its timings are not checked).
    func benchmarkHandsOutEveryRunOnce() throws {
        var options = StoreBenchmarkOptions()
        options.claims = 10
        options.metricBatch = 20
        options.metricBatches = 3
        options.workers = 4
        options.sweepRuns = 60
        let url = try backend.newStoreURL(#function)
        let r = try benchmarkStore(url: url, options: options)
        XCTAssertEqual(r.concurrentRuns, 60)
        XCTAssertEqual(r.doubleClaims, 0)
        XCTAssertGreaterThan(r.claimMedianSeconds, 0)
        XCTAssertGreaterThanOrEqual(r.claimP95Seconds, r.claimMedianSeconds)
        XCTAssertEqual(r.metricSecondsPerStep, r.metricBatchSeconds / 20, accuracy: 1e-12)
        XCTAssertEqual(r.metricFractionOfStep, r.metricSecondsPerStep / 0.002, accuracy: 1e-9)
        let lines = r.lines(store: url, options: options)
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines[0], "store \(redactedStoreURL(url))")
        XCTAssertTrue(lines[1].hasSuffix(" ms (10 claims, one connection)"), lines[1])
        XCTAssertTrue(lines[2].contains(" ms per 20-row batch = ") && lines[2].hasSuffix(" of a 2.0 ms step"), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("  4 workers claimed 60 runs in ") && lines[3].hasSuffix(" (0 claimed twice)"), lines[3])
    }
}

/// The contract on SQLite, then SQLite's own refusals.
final class StoreTests: XCTestCase {
    let contract = StoreContract(backend: .sqlite)

    func testCreateSweepIsIdempotentAndRejectsAnotherPlan() throws { try contract.createSweepIsIdempotentAndRejectsAnotherPlan() }
    func testClaimLargestFirstAndLeaseTakeover() throws { try contract.claimLargestFirstAndLeaseTakeover() }
    func testMetricRowsAreReplacedNotDuplicated() throws { try contract.metricRowsAreReplacedNotDuplicated() }
    func testReleaseDeadRunsAndRetryFailed() throws { try contract.releaseDeadRunsAndRetryFailed() }
    func testResultsReadOneSweepInOnePass() throws { try contract.resultsReadOneSweepInOnePass() }
    func testDivergedAndFinishedRunsAreRecorded() throws { try contract.divergedAndFinishedRunsAreRecorded() }
    func testBenchmarkHandsOutEveryRunOnce() throws { try contract.benchmarkHandsOutEveryRunOnce() }
    func testResultCopiesCarryTheCurve() throws { try contract.resultCopiesCarryTheCurve() }
    func testTransactionsRollBackAndIdentityIsShared() throws { try contract.transactionsRollBackAndIdentityIsShared() }

    /// Trained forecasts "a-predict-4e13", "a-predict-8e13" (and "a-predict", as older stores
    /// name one) and a pilot "a-tune" beside their sweep a are not a choice: results commands read
    /// a without --sweep; a second sweep b makes them ask again.
    func testForecastAndPilotSweepsAreNotChosenWithoutAName() throws {
        let store = try contract.newStore()
        let plan = try smallPlan(budgets: [3e10], schedules: [.matched], steps: 4)
        XCTAssertEqual(Prediction.sweepName("a", budget: 4e13), "a-predict-4e13")
        XCTAssertEqual(Prediction.sweepName("a", budget: 2.5e12), "a-predict-2.5e12")
        XCTAssertNoThrow(try SweepConfig.checkName(Prediction.sweepName("a", budget: 2.5e12)))
        for name in ["a", "a-predict", "a-predict-4e13", "a-predict-8e13", "a-tune"] {
            _ = try store.createSweep(name: name, configJSON: "{}", runs: plan)
        }
        XCTAssertEqual(try store.selectSweep(named: nil).name, "a")
        _ = try store.createSweep(name: "b", configJSON: "{}", runs: plan)
        XCTAssertThrowsError(try store.selectSweep(named: nil)) { XCTAssertEqual($0 as? StoreError, .whichSweep(names: ["a", "b"])) }
        XCTAssertEqual(try store.selectSweep(named: "a-predict").name, "a-predict")
    }

    /// Regression: two ladders started together on one new store failed now and then with
    /// "database is locked" in `PRAGMA journal_mode = WAL`, which SQLite refuses at once (no busy
    /// wait) when two connections both hold a read lock. Eight threads open one new store at
    /// once, many times over; every open must succeed and the store must end in WAL mode.
    func testManyOpenANewStoreAtOnce() throws {
        let folder = temporaryDirectory()
        let rounds = 40, threads = 8
        let failures = NSCountedSet()
        let lock = NSLock()
        for round in 0..<rounds {
            let path = (folder as NSString).appendingPathComponent("new-\(round).sqlite")
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                do { _ = try SQLiteRunStore(path: path) } catch {
                    lock.lock(); failures.add("\(error)"); lock.unlock()
                }
            }
        }
        XCTAssertEqual(failures.count, 0, "\(failures.allObjects)")
        let db = try SQLiteConnection(path: (folder as NSString).appendingPathComponent("new-0.sqlite"))
        var mode = ""
        try db.query("PRAGMA journal_mode") { mode = $0.text(0) }
        XCTAssertEqual(mode, "wal")
    }

    func testStoreURLs() throws {
        let path = (temporaryDirectory() as NSString).appendingPathComponent("plain.sqlite")
        XCTAssertTrue(try openRunStore(path) is SQLiteRunStore)
        XCTAssertTrue(try openRunStore("sqlite:" + path) is SQLiteRunStore)
        for url in ["mysql://u@h:3306/db", "https://example.org/store"] {
            XCTAssertThrowsError(try openRunStore(url)) {
                XCTAssertEqual($0 as? StoreError, .unsupportedURL(url))
                XCTAssertTrue("\($0)".contains(url) && "\($0)".contains("postgresql://") && "\($0)".contains("sqlite:"), "\($0)")
            }
        }
    }

    func testFutureSchemaIsRefusedUntouched() throws {
        let dir = temporaryDirectory()
        let path = (dir as NSString).appendingPathComponent("s.sqlite")
        do {
            let store = try SQLiteRunStore(path: path)
            _ = try store.createSweep(name: "a", configJSON: "{}", runs: try smallPlan())
            try store.db.execute("PRAGMA journal_mode = DELETE")
            try store.db.execute("INSERT INTO schema_version(version) VALUES (\(SQLiteRunStore.schemaVersion + 1))")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SQLiteRunStore(path: path)) {
            XCTAssertEqual($0 as? StoreError, .newerSchema(path: path, found: SQLiteRunStore.schemaVersion + 1,
                                                           known: SQLiteRunStore.schemaVersion))
            XCTAssertTrue("\($0)".contains("newer"))
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"), "not switched to WAL")
    }

    /// A store of schema 1 (before `shared_from`) opens read-only with every run read as
    /// trained itself, and a writer migrates it to the current schema, its runs still claimable.
    func testStoreOfSchemaOneOpensReadOnlyAndMigrates() throws {
        let path = (temporaryDirectory() as NSString).appendingPathComponent("s.sqlite")
        let runs = try smallPlan()
        do {
            let store = try SQLiteRunStore(path: path)
            _ = try store.createSweep(name: "old", configJSON: "{}", runs: runs)
            let run = try XCTUnwrap(store.claimNextRun(sweep: nil, worker: "w", host: "h", pid: 1, lease: 30))
            try store.finishRun(run.id, worker: "w", outcome: .done(finalTrainLoss: 2, finalEvalLoss: 2.5, tokensPerSecond: 1),
                                wallSeconds: 1)
            // Back to schema 1: the runs table without the later columns, no row for version 2 on.
            for column in ["shared_from", "origin", "lr_multiplier", "copied_from", "branch_of", "branch_step", "branch_ready"] {
                try store.db.execute("ALTER TABLE runs DROP COLUMN \(column)")
            }
            try store.db.execute("DELETE FROM schema_version WHERE version > 1")
        }
        let old = try SQLiteRunStore(path: path, readOnly: true)
        XCTAssertEqual(old.openedVersion, 1)
        let sweep = try XCTUnwrap(old.sweepID(named: "old"))
        XCTAssertEqual(try old.runs(sweep: sweep).map(\.plan), runs)
        XCTAssertTrue(try old.runs(sweep: sweep).allSatisfy { $0.sharedFrom == nil })
        XCTAssertEqual(try old.finishedRuns(sweep: sweep, schedule: nil).map(\.finalEvalLoss), [2.5])

        let upgraded = try SQLiteRunStore(path: path)
        XCTAssertEqual(upgraded.openedVersion, SQLiteRunStore.schemaVersion)
        var columns: [String] = []
        try upgraded.db.query("SELECT name FROM pragma_table_info('runs')") { columns.append($0.text(0)) }
        XCTAssertTrue(columns.contains("shared_from"))
        XCTAssertTrue(columns.contains("branch_ready"))
        XCTAssertNotNil(try upgraded.claimNextRun(sweep: sweep, worker: "w", host: "h", pid: 1, lease: 30))
        XCTAssertEqual(try upgraded.runs(sweep: sweep).filter { $0.status == .done }.count, 1)
    }

    /// A store of schema 2 kept why a run was planned as prose: an adaptive run's "reason" in its
    /// plan's JSON, a pilot's multiplier in its key, "copied from run N" in the message. Read-only
    /// it reads every run as planned by the grid; a writer moves the prose into the typed columns,
    /// and the stored plans become the plans this isoflop makes, so planning again adds nothing.
    func testStoreOfSchemaTwoMovesItsProseIntoColumns() throws {
        let path = (temporaryDirectory() as NSString).appendingPathComponent("s.sqlite")
        let runs = try smallPlan()
        XCTAssertGreaterThanOrEqual(runs.count, 3)
        var pilot = runs[1]
        pilot.key += " lr*0.25"
        let ids: [Int64]
        do {
            let store = try SQLiteRunStore(path: path)
            let sweep = try store.createSweep(name: "old", configJSON: "{}", runs: [runs[0], pilot, runs[2]])
            ids = try store.runs(sweep: sweep).map(\.id)
            for column in ["origin", "lr_multiplier", "copied_from", "branch_of", "branch_step", "branch_ready"] {
                try store.db.execute("ALTER TABLE runs DROP COLUMN \(column)")
            }
            try store.db.execute("DELETE FROM schema_version WHERE version > 2")
            // What isoflop wrote before: the reason inside the plan's JSON, the copy in the message.
            try store.db.query("UPDATE runs SET config = replace(config, '{\"batchSize\"', '{\"reason\":\"extra shape above the grid of 1e10: why\",\"batchSize\"') WHERE id = ?",
                               [.int(Int(ids[0]))])
            try store.db.query("UPDATE runs SET status = 'done', message = 'copied from run 7 (identical training)' WHERE id = ?",
                               [.int(Int(ids[2]))])
        }
        let old = try SQLiteRunStore(path: path, readOnly: true)
        XCTAssertEqual(old.openedVersion, 2)
        XCTAssertTrue(try old.runs(sweep: try XCTUnwrap(old.sweepID(named: "old"))).allSatisfy { $0.origin == .grid && $0.copiedFrom == nil })

        let upgraded = try SQLiteRunStore(path: path)
        let sweep = try XCTUnwrap(upgraded.sweepID(named: "old"))
        let after = try upgraded.runs(sweep: sweep)
        XCTAssertEqual(after.map(\.origin), [.extraShape, .pilot(multiplier: 0.25), .grid])
        XCTAssertEqual(after.map(\.copiedFrom), [nil, nil, 7])
        XCTAssertNil(after[2].message, "the copy is a column now, not a message")
        var configs: [String] = []
        try upgraded.db.query("SELECT config FROM runs ORDER BY id") { configs.append($0.text(0)) }
        XCTAssertFalse(configs[0].contains("reason"), configs[0])
        XCTAssertEqual(try upgraded.addRuns(sweep: sweep, runs: [runs[0], pilot, runs[2]]), 0, "the migrated plans are today's plans")
    }

    func testCorruptFileIsRefusedUntouched() throws {
        let dir = temporaryDirectory()
        let path = (dir as NSString).appendingPathComponent("notes.sqlite")
        let junk = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
        try junk.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try SQLiteRunStore(path: path)) {
            guard case StoreError.notADatabase(let p, _) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(p, path)
            XCTAssertTrue("\($0)".contains("untouched"))
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), junk)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"))
    }

    func testSQLiteErrorsCarryTheMessage() throws {
        let store = try SQLiteRunStore(path: (temporaryDirectory() as NSString).appendingPathComponent("s.sqlite"))
        XCTAssertThrowsError(try store.db.execute("SELECT * FROM nowhere")) {
            XCTAssertTrue("\($0)".contains("no such table: nowhere"), "\($0)")
        }
    }

    /// Issue 25, item 17: reading a store no one has open creates no -wal or -shm beside it (a
    /// read-only connection to a WAL database otherwise makes both and leaves them), and a
    /// reader still sees what a writer adds after it opened the store.
    func testReadersCreateNothingBesideAQuietStore() throws {
        let folder = temporaryDirectory()
        let path = (folder as NSString).appendingPathComponent("s.sqlite")
        do {
            let writer = try SQLiteRunStore(path: path)
            _ = try writer.createSweep(name: "a", configJSON: "{}", runs: try smallPlan())
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["s.sqlite"], "the writer cleaned up")
        let reader = try SQLiteRunStore(path: path, readOnly: true)
        XCTAssertEqual(try reader.sweepNames(), ["a"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["s.sqlite"])

        let writer = try SQLiteRunStore(path: path)
        _ = try writer.createSweep(name: "b", configJSON: "{}", runs: try smallPlan())
        XCTAssertEqual(try reader.sweepNames(), ["a", "b"], "the reader sees a writer that came after it")
        XCTAssertThrowsError(try reader.db.execute("CREATE TABLE x(y)"), "still read-only")
    }
}
