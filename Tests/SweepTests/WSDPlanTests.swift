// The planner's wsd: one trunk per shape with a branch per other length (share_wsd), the
// cooldown's form, and the wsd learning rate (a multiplier of the cosine's rule, or its own).
import Foundation
import Sweep
import Training
import XCTest

final class WSDPlanTests: XCTestCase {
    func testAShapesWSDRunsBranchFromItsLongestAtTheirCooldownStarts() throws {
        var config = tinyConfig(schedules: [.wsd, .matched])
        config.cooldownShape = .sqrt
        let plan = try Planner.plan(config)
        let wsd = plan.runs.filter { $0.schedule == .wsd }
        XCTAssertEqual(wsd.count, 6)
        for shape in Set(wsd.map(\.model)) {
            let members = wsd.filter { $0.model == shape }.sorted { $0.steps < $1.steps }
            let trunk = try XCTUnwrap(members.last)
            XCTAssertNil(trunk.branchOf)
            for m in members.dropLast() {
                XCTAssertEqual(m.branchOf, trunk.key)
                XCTAssertEqual(m.branchStep, m.steps - m.cooldownSteps)
                XCTAssertEqual(m.cooldownSteps, Int((0.2 * Double(m.steps)).rounded()))
            }
            // One constant rate per shape: half the cosine rule's peak at the trunk's steps, and
            // the warmup of the shortest member.
            let peak = 0.5 * config.lr.peak(d: shape.d, steps: trunk.steps, batch: config.batch)
            XCTAssertEqual(Set(members.map(\.peakLR)), [peak])
            XCTAssertEqual(Set(members.map(\.warmupSteps)), [LRSchedule.defaultWarmup(steps: members[0].steps)])
            XCTAssertEqual(Set(members.map(\.cooldownShape)), [.sqrt])
            XCTAssertEqual(Set(members.map { $0.lrSchedule.cooldownShape }), [.sqrt])
        }
        // Matched runs never branch, and their record has no cooldown form.
        XCTAssertTrue(plan.runs.filter { $0.schedule == .matched }.allSatisfy { $0.branchOf == nil && $0.cooldownShape == nil })
        // Trained: each trunk whole and only the branches' cooldowns.
        let trained = wsd.reduce(0.0) { sum, r in sum + (r.branchStep.map { r.flops * Double(r.steps - $0) / Double(r.steps) } ?? r.flops) }
            + plan.runs.filter { $0.schedule == .matched }.reduce(0) { $0 + $1.flops }
        XCTAssertEqual(plan.trainedFLOPs, trained, accuracy: 1)
        XCTAssertLessThan(wsd.reduce(0) { $0 + $1.trainedFLOPs }, 0.75 * wsd.reduce(0) { $0 + $1.flops })
    }

    func testUnsharedWSDRunsTrainAloneWithTheirOwnRates() throws {
        var config = tinyConfig(schedules: [.wsd])
        config.shareWSD = false
        let runs = try Planner.plan(config).runs
        XCTAssertTrue(runs.allSatisfy { $0.branchOf == nil && $0.branchStep == nil && $0.cooldownShape == nil })
        for r in runs {
            XCTAssertEqual(r.peakLR, 0.5 * config.lr.peak(d: r.model.d, steps: r.steps, batch: config.batch))
            XCTAssertEqual(r.warmupSteps, LRSchedule.defaultWarmup(steps: r.steps))
        }
    }

    func testWSDRateFromItsOwnRuleOrAStatedMultiplier() throws {
        var config = tinyConfig(schedules: [.wsd, .matched])
        config.lrWSDMultiplier = 0.7
        var runs = try Planner.plan(config).runs
        let trunk = try XCTUnwrap(runs.filter { $0.schedule == .wsd && $0.model.d == 16 }.max { $0.steps < $1.steps })
        XCTAssertEqual(trunk.peakLR, 0.7 * config.lr.peak(d: 16, steps: trunk.steps, batch: 8))

        var rule = LRRule()
        rule.intercept = -7
        config.lrWSDMultiplier = 0.5
        config.lrWSD = rule
        runs = try Planner.plan(config).runs
        for r in runs where r.schedule == .wsd && r.branchOf == nil {
            XCTAssertEqual(r.peakLR, rule.peak(d: r.model.d, steps: r.steps, batch: 8))
        }
        // The matched cosine keeps the [lr] rule.
        for r in runs where r.schedule == .matched { XCTAssertEqual(r.peakLR, config.lr.peak(d: r.model.d, steps: r.steps, batch: 8)) }

        let toml = minimalTOML("schedules = [\"wsd\"]\nlr_wsd_multiplier = 0.4\ncooldown_shape = \"sqrt\"\nshare_wsd = false")
        let path = temporaryDirectory() + "/c.toml"
        try toml.write(toFile: path, atomically: true, encoding: .utf8)
        let loaded = try SweepConfig.load(path: path)
        XCTAssertEqual([loaded.lrWSDMultiplier], [0.4])
        XCTAssertEqual(loaded.cooldownShape, .sqrt)
        XCTAssertFalse(loaded.shareWSD)
        for (extra, message) in [("lr_wsd_multiplier = 0", "lr_wsd_multiplier"), ("lr_wsd_multiplier = 0.3\n[lr_wsd]\nintercept = -6", "beside [lr_wsd]"),
                                 ("cooldown_shape = \"cube\"", "cooldown_shape")] {
            try minimalTOML(extra).write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try SweepConfig.load(path: path), extra) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
    }

    /// An adaptive sweep plans its first two budgets only: a branch whose trunk is a later
    /// budget's run would wait for ever, so the kept runs branch among themselves.
    func testAdaptiveFirstBudgetsBranchAmongThemselves() throws {
        let config = tinyConfig(schedules: [.wsd])
        let initial = try AdaptivePlan.initialRuns(config)
        let runs = initial.grid + initial.centred
        let keys = Set(runs.map(\.key))
        XCTAssertTrue(runs.contains { $0.branchOf != nil })
        for r in runs { if let trunk = r.branchOf { XCTAssertTrue(keys.contains(trunk), r.key) } }
    }
}

final class WSDConfigTests: XCTestCase {
    /// configs/wsd.toml: the laptop grid, matched and wsd, every wsd run but each shape's
    /// longest a branch, and the wsd half's trained FLOPs as a share of the matched half's.
    func testTheWSDConfigPlansTheLaptopGridWithBranches() throws {
        let wsd = try SweepConfig.load(path: ConfigDecoderTests.configs.appendingPathComponent("wsd.toml").path)
        let laptop = try SweepConfig.load(path: ConfigDecoderTests.configs.appendingPathComponent("laptop.toml").path)
        XCTAssertEqual(wsd.schedules, [.matched, .wsd])
        XCTAssertEqual(wsd.budgets, laptop.budgets)
        XCTAssertEqual(wsd.family, laptop.family)
        XCTAssertEqual(wsd.lr, laptop.lr)
        XCTAssertFalse(wsd.grid.adaptive)
        XCTAssertTrue(wsd.shareWSD)
        let plan = try Planner.plan(wsd)
        let runs = plan.runs.filter { $0.schedule == .wsd }
        let matched = plan.runs.filter { $0.schedule == .matched }
        XCTAssertEqual(runs.map(\.model), matched.map(\.model))
        XCTAssertEqual(runs.filter { $0.branchOf == nil }.count, Set(runs.map(\.model)).count, "one trunk per shape")
        let share = runs.reduce(0) { $0 + $1.trainedFLOPs } / matched.reduce(0) { $0 + $1.flops }
        // 65.2% with a 20% cooldown (60.9% with 10%): a shape of this grid spans three or four
        // budgets, so its trunk, the longest run, is most of its FLOPs; the 60% would
        // take shapes spanning more budgets.
        XCTAssertEqual(share, 0.652, accuracy: 0.001, "wsd trains \(share) of the matched FLOPs")
    }
}

final class WSDPilotTests: XCTestCase {
    /// `tune --schedule wsd`: every shape's wsd run alone at each multiple of the cosine rule's
    /// peak, in a sweep of its own that results commands pass over, and the multiplier the best
    /// rates imply.
    func testTheWSDPilotMeasuresTheRateAgainstTheCosineRule() throws {
        let config = tinyConfig(schedules: [.matched, .wsd])
        let pilot = try LRPilot.config(config, budgets: 2, schedule: .wsd)
        XCTAssertEqual(pilot.name, "t-wsd-tune")
        XCTAssertEqual(pilot.schedules, [.wsd])
        let runs = try LRPilot.runs(pilot, multipliers: [0.25, 0.5, 1])
        XCTAssertEqual(runs.count, 3 * 4)
        XCTAssertTrue(runs.allSatisfy { $0.branchOf == nil && $0.schedule == .wsd }, "no branch waits on a run the pilot renamed")
        for r in runs {
            let m = LRPilot.multiplier(of: r, config: pilot)
            XCTAssertEqual(r.peakLR, exp(config.lr.lnPeak(d: r.model.d, steps: r.steps, batch: 8)) * m, accuracy: 1e-15)
        }
        XCTAssertEqual(try LRPilot.config(config, budgets: 2).name, "t-tune")

        XCTAssertTrue(LRPilot.isPilot("t-wsd-tune", among: ["t", "t-wsd-tune"]))
        XCTAssertTrue(LRPilot.isPilot("t-tune", among: ["t", "t-tune"]))
        XCTAssertFalse(LRPilot.isPilot("t-wsd-tune", among: ["u", "t-wsd-tune"]), "a pilot without its sweep is a sweep")

        let rule = { (d: Int, steps: Int) in log(config.lr.peak(d: d, steps: steps, batch: 8)) }
        let best = [(d: 16, steps: 100, lnLR: rule(16, 100) + log(0.4)), (d: 32, steps: 300, lnLR: rule(32, 300) + log(0.625))]
        XCTAssertEqual(LRPilot.impliedMultiplier(best, config: config), 0.5, accuracy: 1e-12, "the geometric mean of 0.4 and 0.625")
    }
}
