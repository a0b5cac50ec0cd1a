// Several seeds in a sweep config: the runs they plan, their keys, and the config's checks.
import Foundation
import Model
import Sweep
import XCTest

final class SeedPlanTests: XCTestCase {
    /// Five head-32 shapes (d = 32 … 160) at one budget, with the optimum predicted at d = 96's N.
    func config() -> SweepConfig {
        var c = SweepConfig(name: "s", corpus: "pydocs", trainTokens: "t", evalTokens: "e", tokenizer: "k", vocab: 512,
                            budgets: [3e11, 1e12], family: FamilyConfig(widths: [32, 64, 96, 128, 160]), batch: 8)
        c.schedules = [.matched]
        c.grid = GridConfig(sizes: 5, width: 1000)
        return c
    }

    func testOneSeedKeepsTodaysKeys() throws {
        let plan = try Planner.plan(config())
        XCTAssertEqual(plan.runs.count, 10)
        XCTAssertTrue(plan.runs.allSatisfy { $0.seed == 1 && !$0.key.contains("seed") })
        XCTAssertEqual(plan.runs[0].key, "C=3e11 d=32 L=1 h=32 matched")
        // One seed given as a list is the same sweep as `seed`: same runs, same keys.
        var listed = config()
        listed.seeds = [1]
        XCTAssertEqual(try Planner.plan(listed).runs, plan.runs)
    }

    func testEverySeedOfEveryShapeDiffersOnlyInSeed() throws {
        var c = config()
        c.seeds = [1, 2, 3]
        let plan = try Planner.plan(c)
        XCTAssertEqual(plan.runs.count, 30)
        let one = try Planner.plan(config()).runs
        for base in one {
            let copies = plan.runs.filter { $0.key.hasPrefix(base.key + " seed=") }
            XCTAssertEqual(copies.map(\.seed), [1, 2, 3])
            XCTAssertEqual(copies.map(\.key), [1, 2, 3].map { base.key + " seed=\($0)" })
            for var r in copies {
                r.seed = base.seed
                r.key = base.key
                XCTAssertEqual(r, base, "a seed's run differs from the one-seed run only in seed and key")
            }
        }
    }

    func testSeedsNearOptimumGoToTheNearestShapes() throws {
        var c = config()
        c.seeds = [4, 5]
        c.grid.seedsNearOptimum = 2
        // Predict the optimum at d = 96's N at 3e11, so that d = 64 and 128 are its neighbours
        // in ln N: 96 and whichever of 64 and 128 is nearer get both seeds.
        let n = { (d: Int) in Double(c.model(ShapeSpec(d: d)).parameters) }
        c.grid.exponent = 0
        c.grid.coefficient = n(96)
        let nearer = abs(log(n(64) / n(96))) < abs(log(n(128) / n(96))) ? 64 : 128
        let plan = try Planner.plan(c)
        for budget in [3e11, 1e12] {
            let runs = plan.runs.filter { $0.budget == budget }
            let twice = Set(runs.filter { $0.seed == 5 }.map(\.model.d))
            XCTAssertEqual(twice, [96, nearer])
            XCTAssertEqual(runs.filter { $0.seed == 4 }.count, 5, "every shape keeps the first seed")
            XCTAssertTrue(runs.allSatisfy { $0.key.hasSuffix(" seed=\($0.seed)") })
        }
        XCTAssertEqual(plan.runs.count, 14)
    }

    func testSeedKeysInTOMLAndTheirErrors() throws {
        let c = try ConfigDecoder.decode(SweepConfig.self, fromTOML: minimalTOML("seeds = [1, 2, 3]", grid: "seeds_near_optimum = 1"), file: "x.toml")
        try c.validate(file: "x.toml")
        XCTAssertEqual(c.runSeeds, [1, 2, 3])
        XCTAssertEqual(c.seed, 1)
        XCTAssertEqual(c.grid.seedsNearOptimum, 1)

        func error(_ text: String) -> String {
            do {
                let c = try ConfigDecoder.decode(SweepConfig.self, fromTOML: text, file: "x.toml")
                try c.validate(file: "x.toml")
                return "no error"
            } catch { return "\(error)" }
        }
        let both = error(minimalTOML("seed = 2\nseeds = [1, 2]"))
        XCTAssertTrue(both.contains("x.toml") && both.contains("seeds") && both.contains("not both"), both)
        XCTAssertTrue(error(minimalTOML("seeds = []")).contains("seeds"))
        XCTAssertTrue(error(minimalTOML("seeds = [1, -2]")).contains("seeds[1]"))
        XCTAssertTrue(error(minimalTOML("seeds = [3, 3]")).contains("same seed twice"))
        let lonely = error(minimalTOML("seed = 1", grid: "seeds_near_optimum = 2"))
        XCTAssertTrue(lonely.contains("grid.seeds_near_optimum") && lonely.contains("several seeds"), lonely)
        XCTAssertTrue(error(minimalTOML("seeds = [1, 2]", grid: "seeds_near_optimum = -1")).contains("must not be negative"))
        XCTAssertFalse(both.contains("\n"))
    }

    /// The store keeps the config as JSON and `sweep resume` decodes it again: with `seeds` that
    /// JSON must not hold `seed` too; without, it is the plain encoding of old stores.
    func testStoredConfigDecodesAgain() throws {
        var c = config()
        XCTAssertEqual(try ConfigDecoder.decode(SweepConfig.self, fromJSON: try c.storedJSON(), file: "store"), c)
        XCTAssertTrue(try c.storedJSON().contains("\"seed\":1"))
        c.seeds = [7, 8]
        c.seed = 7
        let json = try c.storedJSON()
        XCTAssertFalse(json.contains("\"seed\""))
        let back = try ConfigDecoder.decode(SweepConfig.self, fromJSON: json, file: "store")
        try back.validate(file: "store")
        XCTAssertEqual(back, c)
    }
}
