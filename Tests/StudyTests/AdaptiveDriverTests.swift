// The adaptive driver in-process: nothing is planned while runs wait; once the first budgets end,
// the next budget is planned centred on the optimum they predict, and a budget whose vertex sits
// at an edge of its sizes gets shapes beyond it, each with its origin stored.
import Foundation
import Study
import Sweep
import Tensor
import XCTest

final class AdaptiveDriverTests: XCTestCase {
    func adaptiveConfig() throws -> SweepConfig {
        var cfg = try tinyConfig(name: "adapt")
        cfg.family = FamilyConfig(widths: [32, 64, 96, 128, 160, 192, 224])
        cfg.budgets = [3e11, 6e11, 1.2e12]
        cfg.grid = GridConfig(sizes: 3, width: 1000)
        cfg.grid.adaptive = true
        return cfg
    }

    func testTheNextBudgetFollowsTheOptimumAndEdgesGetExtraShapes() throws {
        let cfg = try adaptiveConfig()
        let sweep = try planIntoStore(cfg, url: try temporaryFolder() + "/s.sqlite")
        let initial = try sweep.store.runs(sweep: sweep.id)
        XCTAssertEqual(Set(initial.map(\.plan.budget)), [3e11, 6e11], "two budgets up front")
        XCTAssertTrue(initial.allSatisfy { $0.origin == .centred })
        var lines: [String] = []
        let driver = AdaptiveDriver(sweep: sweep, message: { lines.append($0) })
        XCTAssertEqual(try driver.advance(), 0, "nothing is planned while runs wait to be claimed")

        // The optimum lies above every shape of both budgets: each vertex falls beyond the upper edge.
        let family = try cfg.familyShapes()
        let optimum = Double(family[5].parameters)
        try finishRuns(sweep.store, sweep: sweep.id, loss: parabolicLoss(optimum: optimum))
        let added = try driver.advance()
        let runs = try sweep.store.runs(sweep: sweep.id)
        XCTAssertEqual(added, runs.count - initial.count)
        let extra = runs.filter { $0.origin == .extraShape }
        XCTAssertFalse(extra.isEmpty, "\(lines)")
        for r in extra {
            let have = initial.filter { $0.plan.budget == r.plan.budget }.map(\.plan.parameters)
            XCTAssertGreaterThan(r.plan.parameters, have.max()!, "extra shapes lie above the grid")
        }
        let next = runs.filter { $0.plan.budget == 1.2e12 }
        XCTAssertFalse(next.isEmpty)
        XCTAssertTrue(next.allSatisfy { $0.origin == .centred })
        // Centred on the optimum predicted from the two vertices (not on the config's prediction,
        // which lies far below): its shapes are the larger ones of the family.
        XCTAssertGreaterThan(Double(next.map(\.plan.parameters).max()!), cfg.grid.predictedOptimum(budget: 1.2e12) * 3)
        XCTAssertTrue(lines.contains { $0.contains("extra shape(s) above") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.contains("1.2e12") && $0.contains("grid centred on N_opt") }, "\(lines)")

        // A budget gets its extra shapes once; with nothing else to plan, the driver adds nothing.
        try finishRuns(sweep.store, sweep: sweep.id, loss: parabolicLoss(optimum: optimum))
        _ = try driver.advance()
        try finishRuns(sweep.store, sweep: sweep.id, loss: parabolicLoss(optimum: optimum))
        let settled = try sweep.store.runs(sweep: sweep.id).count
        XCTAssertEqual(try driver.advance(), 0)
        XCTAssertEqual(try sweep.store.runs(sweep: sweep.id).count, settled)
        XCTAssertEqual(driver.unplannedFLOPs(try sweep.store.runs(sweep: sweep.id)), 0, "every budget is planned")
    }

    /// Planning the same adaptive sweep again (a rerun of `sweep run`) finds the stored sweep and
    /// adds nothing, whatever the driver planned since.
    func testReplanningResumes() throws {
        let cfg = try adaptiveConfig()
        let url = try temporaryFolder() + "/s.sqlite"
        let first = try planIntoStore(cfg, url: url)
        try finishRuns(first.store, sweep: first.id, loss: parabolicLoss(optimum: 1e5))
        XCTAssertGreaterThan(try AdaptiveDriver(sweep: first, message: { _ in }).advance(), 0)
        let count = try first.store.runs(sweep: first.id).count
        let again = try planIntoStore(cfg, url: url)
        XCTAssertEqual(again.id, first.id)
        XCTAssertEqual(try again.store.runs(sweep: again.id).count, count)
    }
}
