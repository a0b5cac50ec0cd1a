// The store's side of wsd branches and of the claim order, on both backends: a branch is handed
// out only once its trunk's checkpoint is written, takes its trunk's rows up to its start, and
// ends with a trunk that will not write it; claims take the run with the most work left first.
import Foundation
import Sweep
import XCTest

extension StoreContract {
    func branchIsClaimedOnlyOnceItsCheckpointIsWritten() throws {
        let store = try newStore()
        let runs = try Planner.plan(tinyConfig(schedules: [.wsd])).runs
        let sweep = try store.createSweep(name: "a", configJSON: "{}", runs: runs)
        let stored = try store.runs(sweep: sweep)
        XCTAssertEqual(stored.map(\.branchOf), runs.map(\.branchOf))
        XCTAssertEqual(stored.map(\.branchStep), runs.map(\.branchStep))
        XCTAssertFalse(stored.contains(where: \.branchReady))
        func byKey(_ d: Int, _ steps: Int) throws -> RunRecord {
            try XCTUnwrap(try store.runs(sweep: sweep).first { $0.plan.model.d == d && $0.plan.steps == steps })
        }
        // Only the two trunks (d=16 205 steps, d=32 91) are claimable while nothing is written.
        var claimed: [String] = []
        while let r = try store.claimNextRun(sweep: sweep, worker: "w", host: "h", pid: 1, lease: 30) { claimed.append(r.plan.key) }
        XCTAssertEqual(Set(claimed), [try byKey(16, 205).plan.key, try byKey(32, 91).plan.key])

        let trunk = try byKey(16, 205), short = try byKey(16, 68)
        XCTAssertEqual(short.branchOf, trunk.plan.key)
        try store.markBranchesReady(of: trunk, step: try XCTUnwrap(short.branchStep))
        XCTAssertEqual(try store.claimNextRun(sweep: sweep, worker: "w", host: "h", pid: 1, lease: 30)?.id, short.id)
        XCTAssertNil(try store.claimNextRun(sweep: sweep, worker: "w", host: "h", pid: 1, lease: 30))

        // The branch takes the trunk's rows up to its start, 54, as its own.
        try store.appendMetrics((1...60).map {
            MetricRow(run: trunk.id, step: $0, tokens: $0 * 1024, flops: Double($0), lr: 1e-3, trainLoss: 5 - Double($0) / 100,
                      evalLoss: $0 % 25 == 0 ? 4 : nil)
        })
        try store.copyTrunkRows(into: short)
        let rows = try store.metrics(run: short.id)
        XCTAssertEqual(rows.map(\.step), Array(1...54))
        XCTAssertEqual(rows.map(\.trainLoss), try store.metrics(run: trunk.id).prefix(54).map(\.trainLoss))
        XCTAssertEqual(rows.compactMap(\.evalLoss).count, 2)
        XCTAssertEqual(try byKey(16, 68).step, 54)

        // A trunk diverging at 100 takes the branch starting at 110 with it; a failing trunk fails
        // every branch still waiting.
        let middle = try byKey(16, 137)
        XCTAssertEqual(try store.endWaitingBranches(of: trunk, outcome: .diverged(step: 100, loss: 9), message: ""), 1)
        XCTAssertEqual(try byKey(16, 137).status, .diverged)
        XCTAssertEqual(try byKey(16, 137).message, "diverged at step 100 (in its trunk \(trunk.plan.key))")
        XCTAssertEqual(middle.branchStep, 110)
        XCTAssertEqual(try store.endWaitingBranches(of: try byKey(32, 91), outcome: nil, message: "boom"), 2)
        XCTAssertEqual(try store.runs(sweep: sweep).filter { $0.plan.model.d == 32 && $0.status == .failed }.map(\.message), ["boom", "boom"])
    }

    func claimsTakeTheMostWorkLeftFirst() throws {
        let store = try newStore()
        var runs = try smallPlan(budgets: [1e10, 2e10], schedules: [.matched])
        guard runs.count >= 3 else { return XCTFail("\(runs.count) runs planned") }
        runs = Array(runs.prefix(3))
        // x: 1e12 FLOPs in 1e6 tokens; y: 6e11 in 6e5; z: x's FLOPs in twice its tokens (a smaller shape).
        for (i, (flops, tokens)) in [(1e12, 1_000_000), (6e11, 600_000), (1e12, 2_000_000)].enumerated() {
            runs[i].flops = flops
            runs[i].tokens = tokens
            runs[i].steps = 100
        }
        let sweep = try store.createSweep(name: "a", configJSON: "{}", runs: runs)
        let ids = try store.runs(sweep: sweep).map(\.id)
        // x is half done (its rows logged before a stop): 6.25e11 left, less than y's 7.5e11.
        try store.appendMetrics((1...50).map { MetricRow(run: ids[0], step: $0, tokens: $0, flops: 0, lr: 1e-3, trainLoss: 3) })
        let order = try (0..<3).map { _ in try XCTUnwrap(store.claimNextRun(sweep: sweep, worker: "w", host: "h", pid: 1, lease: 30)).id }
        XCTAssertEqual(order, [ids[2], ids[1], ids[0]])
    }
}

final class BranchStoreTests: XCTestCase {
    func testBranchIsClaimedOnlyOnceItsCheckpointIsWritten() throws {
        try StoreContract(backend: .sqlite).branchIsClaimedOnlyOnceItsCheckpointIsWritten()
    }
    func testClaimsTakeTheMostWorkLeftFirst() throws { try StoreContract(backend: .sqlite).claimsTakeTheMostWorkLeftFirst() }
    func testBranchIsClaimedOnlyOnceItsCheckpointIsWrittenPostgres() throws {
        try StoreContract(backend: try .postgres()).branchIsClaimedOnlyOnceItsCheckpointIsWritten()
    }
    func testClaimsTakeTheMostWorkLeftFirstPostgres() throws {
        try StoreContract(backend: try .postgres()).claimsTakeTheMostWorkLeftFirst()
    }
}
