// Grids that follow the optimum, on the planning side: what is planned up front, the shapes
// centred on a prediction, the extra shapes beyond an edge, and the reason stored with each run.
import Foundation
import Model
import Sweep
import XCTest

final class AdaptivePlanTests: XCTestCase {
    func config() -> SweepConfig {
        var c = SweepConfig(name: "a", corpus: "pydocs", trainTokens: "t", evalTokens: "e", tokenizer: "k", vocab: 512,
                            budgets: [3e11, 6e11, 1.2e12], family: FamilyConfig(widths: [32, 64, 96, 128, 160, 192, 224]), batch: 8)
        c.schedules = [.matched, .fixed]
        c.grid = GridConfig(sizes: 3, width: 1000)
        c.grid.adaptive = true
        return c
    }

    func testFixedRunsUpFrontAndTheTwoSmallestBudgetsAdapting() throws {
        let c = config()
        let full = try Planner.plan(c).runs
        let initial = try AdaptivePlan.initialRuns(c)
        XCTAssertEqual(initial.grid, full.filter { $0.schedule == .fixed },
                       "the fixed schedule keeps the config's grid and its shared cycle")
        XCTAssertTrue(initial.centred.allSatisfy { $0.schedule == .matched })
        XCTAssertEqual(Set(initial.centred.map(\.budget)), [3e11, 6e11])
    }

    func testCentredShapesAndShapesBeyond() throws {
        let c = config()
        let family = try c.familyShapes()
        let target = family[4]  // d = 160
        let shapes = try AdaptivePlan.centredShapes(c, budget: 1.2e12, optimum: Double(target.parameters))
        XCTAssertEqual(shapes.count, 3)
        XCTAssertEqual(shapes[1], target, "three sizes centred on the prediction put it in the middle")
        XCTAssertEqual(try AdaptivePlan.shapesBeyond(c, have: shapes, below: false, count: 2), [family[6]], "only one family shape is larger")
        XCTAssertEqual(try AdaptivePlan.shapesBeyond(c, have: shapes, below: true, count: 2), [family[2], family[1]])
        XCTAssertEqual(try AdaptivePlan.shapesBeyond(c, have: [family[6]], below: false, count: 2), [])
    }

    /// A budget's runs planned adaptively are the runs the planner makes for those shapes, centred
    /// on the optimum given (not on a coefficient made up to reach it); their JSON is the plain plan.
    func testBudgetRunsAreThePlannersRunsForThoseShapes() throws {
        var c = config()
        let family = try c.familyShapes()
        let runs = try AdaptivePlan.budgetRuns(c, budget: 1.2e12, shapes: [family[3], family[4]], optimum: 1e5)
        XCTAssertEqual(runs.map(\.schedule), [.matched, .matched], "fixed runs are never added adaptively")
        c.grid.adaptive = false
        c.schedules = [.matched]
        c.budgets = [1.2e12]
        c.budgetGrids = [BudgetGrid(flops: 1.2e12, shapes: [ShapeSpec(d: 128), ShapeSpec(d: 160)])]
        let plain = try Planner.plan(c).runs
        XCTAssertEqual(runs, plain)
        let json = String(decoding: try JSONEncoder().encode(plain[0]), as: UTF8.self)
        XCTAssertFalse(json.contains("reason"))
    }

    func testAdaptiveKeyInTOML() throws {
        let text = minimalTOML(grid: "adaptive = true")
        XCTAssertTrue(try ConfigDecoder.decode(SweepConfig.self, fromTOML: text, file: "x.toml").grid.adaptive)
        XCTAssertFalse(try ConfigDecoder.decode(SweepConfig.self, fromTOML: text.replacingOccurrences(of: "adaptive = true", with: ""),
                                                file: "x.toml").grid.adaptive)
    }

    /// A sweep grows by key: runs it holds are skipped, new ones added, a held key with another
    /// plan refused.
    func testAddRunsToAStoredSweep() throws {
        let dir = temporaryDirectory()
        let store = try SQLiteRunStore(path: dir + "/s.sqlite")
        var c = config()
        c.schedules = [.matched]
        let runs = try Planner.plan(c).runs
        let id = try store.createSweep(name: "a", configJSON: "{}", runs: Array(runs.prefix(3)))
        XCTAssertEqual(try store.addRuns(sweep: id, runs: Array(runs.prefix(5))), 2)
        XCTAssertEqual(try store.runs(sweep: id).map(\.plan), Array(runs.prefix(5)))
        XCTAssertEqual(try store.addRuns(sweep: id, runs: runs), runs.count - 5)
        var changed = runs[0]
        changed.peakLR *= 2
        XCTAssertThrowsError(try store.addRuns(sweep: id, runs: [changed])) {
            XCTAssertTrue("\($0)".contains(runs[0].key), "\($0)")
        }
        XCTAssertEqual(try store.runs(sweep: id).count, runs.count)
    }
}
