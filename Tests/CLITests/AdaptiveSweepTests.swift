// An adaptive sweep through the real tool (dry run: the parametric loss, no training): budgets
// are planned as earlier ones end, every budget ends up bracketing its optimum, each run says why
// it was planned, and rerunning resumes without planning anything twice.
import Fit
import Foundation
import Sweep
import Tensor
import XCTest

final class AdaptiveSweepTests: XCTestCase {
    func testEveryBudgetBracketsItsOptimum() throws {
        try CLI.requirePydocs(vocab: 512)
        let dir = try temporaryFolder()
        // A wider family than the quick config's, a grid predicted too small (the dry run's optimum
        // lies higher), and both schedules: fixed stays on the config's grid.
        let text = try CLI.quickConfig([("name = \"quick\"", "name = \"adapt\""),
                                        ("budgets = [1e11, 2e11, 3e11]", "budgets = [4e11, 8e11, 1.6e12, 3.2e12]"),
                                        ("widths = [32]", "widths = [32, 64, 96, 128, 160]"),
                                        ("coefficient = 2.2e-3", "coefficient = 4e-4"),
                                        ("[grid]\n", "[grid]\nadaptive = true\n")], absolutePaths: true)
        let config = dir + "/adapt.toml", store = dir + "/s.sqlite"
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let cfg = try SweepConfig.load(path: config)
        XCTAssertTrue(cfg.grid.adaptive)

        let first = try CLI.capture(["sweep", "run", config, "--store", store, "--workers", "2", "--dry-run", "2000"])
        XCTAssertEqual(first.status, 0, first.stderr)
        // The progress line counts the budgets still to plan, as the config's grid has them, from the start.
        let later = try Planner.plan(cfg).trainedRuns.filter { $0.schedule == .matched && $0.budget >= 1.6e12 }
        let toPlan = "(+\(formatFLOPs(later.reduce(0) { $0 + $1.flops })) to plan)"
        XCTAssertTrue(first.stdout.split(separator: "\n").first { $0.hasPrefix("runs ") }?.contains(toPlan) ?? false,
                      "\(toPlan) not in the first progress line of:\n\(first.stdout)")
        let db = try SQLiteRunStore(path: store)
        let runs = try db.runs(sweep: try XCTUnwrap(db.sweepID(named: "adapt")))
        guard runs.allSatisfy({ $0.status == .done && $0.finalEvalLoss != nil }) else {
            return XCTFail("runs not done: \(runs.filter { $0.status != .done }.map(\.plan.key))")
        }
        let fixed = runs.filter { $0.plan.schedule == .fixed }.map(\.plan)
        XCTAssertEqual(Set(fixed.map(\.key)), Set(try Planner.plan(cfg).runs.filter { $0.schedule == .fixed }.map(\.key)),
                       "the fixed schedule keeps the config's grid")
        let matched = runs.filter { $0.plan.schedule == .matched }
        XCTAssertEqual(Set(matched.map(\.plan.budget)), Set(cfg.budgets))
        for c in cfg.budgets {
            let profile = matched.filter { $0.plan.budget == c }
            let ns = profile.map { Double($0.plan.parameters) }, losses = profile.map { $0.finalEvalLoss! }
            let v = try XCTUnwrap(profileVertex(budget: c, parameters: ns, losses: losses), "\(c)")
            let t = try XCTUnwrap(v.position, "budget \(c): the parabola has a minimum")
            XCTAssertTrue(t > 0 && t < 1, "budget \(c): vertex at \(t) of its sizes \(ns.sorted())")
            XCTAssertTrue(profile.allSatisfy { $0.origin == .centred || $0.origin == .extraShape })
        }
        XCTAssertTrue(first.stdout.contains("grid centred on N_opt") && first.stdout.contains("predicted by"), first.stdout)
        XCTAssertTrue(first.stdout.contains("extra shape(s) above"), "the low prediction needs shapes above:\n\(first.stdout)")
        XCTAssertTrue(matched.contains { $0.origin == .extraShape && $0.plan.parameters > profileMax(matched, $0.plan.budget) })

        // Rerun: it resumes (the first budgets are planned the same) and adds nothing.
        XCTAssertEqual(try CLI.run(["sweep", "run", config, "--store", store, "--workers", "2", "--dry-run", "2000"]), 0)
        XCTAssertEqual(try db.runs(sweep: try XCTUnwrap(db.sweepID(named: "adapt"))).count, runs.count)
    }
}

/// The largest N among a budget's runs planned as its centred grid.
private func profileMax(_ runs: [RunRecord], _ budget: Double) -> Int {
    runs.filter { $0.plan.budget == budget && $0.origin != .extraShape }.map(\.plan.parameters).max() ?? 0
}
