// Planner arithmetic against values worked out by hand from DESIGN.md's counting.
import Foundation
import Model
import Sweep
import Tensor
import Training
import XCTest

final class PlannerTests: XCTestCase {
    func config() -> SweepConfig {
        var c = SweepConfig(name: "p", corpus: "pydocs", trainTokens: "t", evalTokens: "e", tokenizer: "k", vocab: 512,
                            budgets: [3e11], family: FamilyConfig(widths: [32, 96]), batch: 8)
        c.uniqueTokens = 467_456
        c.schedules = [.matched, .fixed]
        c.grid = GridConfig(sizes: 7, width: 1000)
        return c
    }

    func testStepsTokensEpochsByHand() throws {
        // d=32, L=1, V=512, T=128, one head of 32. Forward FLOPs per sequence (Appendix F):
        // embeddings 2·128·512·32 = 4,194,304, final logits the same;
        // per layer: QKV 786,432 + logits 1,048,576 + softmax 49,152 + reduction 1,048,576
        //   + projection 262,144 + MLP 2,097,152 = 5,292,032.
        // Total 13,680,640; ×3 / 128 = 320,640 training FLOPs per token.
        let m = GPTConfig(vocabSize: 512, context: 128, d: 32, layers: 1)
        XCTAssertEqual(m.trainingFLOPsPerToken, 320_640)
        // 3e11 / (1024 tokens per step × 320,640) = 913.7 → 913 steps, 934,912 tokens.
        XCTAssertEqual(stepsForBudget(3e11, model: m, batch: 8), 913)

        let plan = try Planner.plan(config())
        let small = plan.runs.filter { $0.model.d == 32 }
        XCTAssertEqual(small.map(\.schedule), [.matched, .fixed])
        let r = small[0]
        XCTAssertEqual(r.model.layers, 1, "depth rule: ceil(32 / 64) = 1")
        XCTAssertEqual(r.steps, 913)
        XCTAssertEqual(r.tokens, 934_912)
        XCTAssertEqual(r.flops, 934_912 * 320_640)
        XCTAssertEqual(r.epochs, 2.0, "934,912 tokens over 467,456 unique ones")
        XCTAssertEqual(r.parameters, 32_960)
        XCTAssertEqual(r.nonEmbeddingParameters, 12_480)
        XCTAssertEqual(r.warmupSteps, 46, "max(10, 5% of 913 = 45.65 → 46)")
        // ln lr = -5.944 - 0.425 ln(1/4) + 0.408 ln(913/300) - 0.402 (batch 8).
        let lnLR = -5.944 - 0.425 * log(0.25) + 0.408 * log(913.0 / 300) - 0.402
        XCTAssertEqual(r.peakLR, exp(lnLR), accuracy: 1e-12)
        XCTAssertEqual(r.peakLR, 4.98e-3, accuracy: 1e-5)

        // d=96, L=2 has fewer steps; the fixed cycle is the longest run's: 913 for both.
        let big = plan.runs.filter { $0.model.d == 96 }
        XCTAssertEqual(big.map(\.model.layers), [2, 2])
        XCTAssertEqual(plan.fixedCycle, 913)
        XCTAssertEqual(big.map(\.cycleSteps), [big[0].steps, 913])
        XCTAssertEqual(small.map(\.cycleSteps), [913, 913])
        XCTAssertEqual(plan.totalFLOPs, plan.runs.map(\.flops).reduce(0, +))
        XCTAssertTrue(plan.warnings.isEmpty)
    }

    func testRunScheduleIsTheConfigsScheduleAtEveryStep() throws {
        // The record keeps the wsd cooldown in steps; the trainer's schedule built from the
        // record must give the rate of the schedule built from the config's fraction, at every
        // step, for fractions whose step counts are not whole (0.23 × steps) and for runs
        // so short that warmup takes them whole (d=32 at 2e9: 6 steps, no room for a cooldown).
        var c = config()
        c.budgets = [2e9, 3e11]
        c.schedules = ScheduleKind.allCases
        c.cooldownFraction = 0.23
        c.warmupFraction = 0.07
        c.warmupMin = 12
        c.fixedCycle = 700
        let plan = try Planner.plan(c)
        XCTAssertEqual(Set(plan.runs.map(\.schedule)), Set(ScheduleKind.allCases))
        for r in plan.runs {
            // A fixed or (shared) wsd run's peak and warmup are its shape's: from its longest and
            // shortest run of that schedule; wsd's peak is half the rule's.
            let same = plan.runs.filter { $0.schedule == r.schedule && $0.model == r.model }.map(\.steps)
            let shapeWide = r.schedule == .fixed || r.schedule == .wsd
            let (short, long) = shapeWide ? (same.min()!, same.max()!) : (r.steps, r.steps)
            let direct = LRSchedule(kind: r.schedule, peak: (r.schedule == .wsd ? 0.5 : 1) * c.lr.peak(d: r.model.d, steps: long, batch: c.batch),
                                    totalSteps: r.steps, warmupSteps: min(short, max(12, Int((0.07 * Double(short)).rounded()))),
                                    cycleSteps: r.schedule == .fixed ? 700 : nil, finalFraction: 0.1, cooldownFraction: 0.23)
            let trained = try r.trainConfig().schedule
            if r.schedule == .wsd { XCTAssertEqual(trained.cooldownSteps, direct.cooldownSteps, r.key) }
            for step in 0..<r.steps {
                XCTAssertEqual(trained.lr(at: step).bitPattern, direct.lr(at: step).bitPattern, "\(r.key) step \(step)")
            }
            XCTAssertEqual(r.cooldownSteps, r.schedule == .wsd ? Int((0.23 * Double(r.steps)).rounded()) : 0)
        }
    }

    func testFixedRunsOfAShapeAreOneCycleReadFromTheLongest() throws {
        var c = config()
        c.budgets = [3e11, 6e11, 1.2e12]
        let plan = try Planner.plan(c)
        let fixed = plan.runs.filter { $0.schedule == .fixed && $0.model.d == 32 }
        let matched = plan.runs.filter { $0.schedule == .matched && $0.model.d == 32 }
        // 6e11 / (1024 × 320,640) = 1827.4, 1.2e12 → 3654.7.
        XCTAssertEqual(fixed.map(\.steps), [913, 1827, 3654])
        // One schedule for the shape: the rule's peak at its longest fixed run's 3654 steps,
        // warmup max(10, 5% of its shortest's 913 = 45.65 → 46), the sweep's cycle.
        let lnLR = -5.944 - 0.425 * log(0.25) + 0.408 * log(3654.0 / 300) - 0.402
        XCTAssertEqual(fixed.map(\.warmupSteps), [46, 46, 46])
        XCTAssertEqual(plan.fixedCycle, 3654)
        for r in fixed {
            XCTAssertEqual(r.peakLR, exp(lnLR), accuracy: 1e-12)
            XCTAssertEqual(r.cycleSteps, 3654)
        }
        // The matched runs keep a schedule of their own.
        XCTAssertEqual(matched.map(\.warmupSteps), [46, 91, 183])
        XCTAssertEqual(matched[0].peakLR, 4.98e-3, accuracy: 1e-5)
        // Every fixed run's rate is the longest one's at each of its steps.
        let longest = fixed[2].lrSchedule
        for r in fixed {
            let own = r.lrSchedule
            XCTAssertTrue((0..<r.steps).allSatisfy { own.lr(at: $0).bitPattern == longest.lr(at: $0).bitPattern }, r.key)
        }
        XCTAssertEqual(fixed.map(\.sharedFrom), [fixed[2].key, fixed[2].key, nil])
        XCTAssertTrue(matched.allSatisfy { $0.sharedFrom == nil })
        // Two shapes at three budgets: six matched runs and one fixed run per shape are trained.
        XCTAssertEqual(plan.runs.count, 12)
        XCTAssertEqual(plan.trainedRuns.map(\.key), plan.runs.filter { $0.sharedFrom == nil }.map(\.key))
        XCTAssertEqual(plan.trainedRuns.count, 8)
        let trained = plan.runs.filter { $0.schedule == .matched || $0.budget == 1.2e12 }.map(\.flops).reduce(0, +)
        XCTAssertEqual(plan.trainedFLOPs, trained)
        XCTAssertLessThan(plan.trainedFLOPs, plan.totalFLOPs)
    }

    func testRunsShareOnlyWhenEqualButForTheirLength() throws {
        var c = config()
        c.budgets = [3e11, 6e11, 1.2e12]
        c.schedules = [.fixed]
        let plan = try Planner.plan(c)
        let runs = plan.runs.filter { $0.model.d == 32 }.map { r -> PlannedRun in
            var r = r
            r.sharedFrom = nil
            return r
        }
        XCTAssertEqual(Planner.shareRuns(runs).map(\.sharedFrom), [runs[2].key, runs[2].key, nil])
        var stale = runs
        stale[2].sharedFrom = "elsewhere"
        XCTAssertEqual(Planner.shareRuns(stale), Planner.shareRuns(runs), "worked out anew")
        // Anything else that differs splits a group: seed, every schedule parameter, data, eval.
        let changes: [(String, (inout PlannedRun) -> Void)] = [
            ("seed", { $0.seed += 1 }), ("peak", { $0.peakLR *= 1.5 }), ("warmup", { $0.warmupSteps += 1 }),
            ("cycle", { $0.cycleSteps += 1 }), ("floor", { $0.minLRFraction = 0.2 }), ("kind", { $0.schedule = .constant }),
            ("eval", { $0.evalEvery += 1 }), ("eval batches", { $0.evalBatches += 1 }), ("data", { $0.trainTokens = "other" }),
            ("batch", { $0.batchSize = 16 }), ("checkpoints", { $0.checkpointEvery += 1 }),
        ]
        for (what, change) in changes {
            var middle = runs, longest = runs
            change(&middle[1])
            XCTAssertEqual(Planner.shareRuns(middle).map(\.sharedFrom), [runs[2].key, nil, nil], what)
            // A changed longest run leaves the two shorter ones a group of their own.
            change(&longest[2])
            XCTAssertEqual(Planner.shareRuns(longest).map(\.sharedFrom), [runs[1].key, nil, nil], what)
        }
        // Equal runs under a schedule that depends on the length are never shared: the matched
        // cosine ends where its run ends.
        let matched = runs.map { r -> PlannedRun in
            var r = r
            r.schedule = .matched
            return r
        }
        XCTAssertEqual(Planner.shareRuns(matched).map(\.sharedFrom), [nil, nil, nil])
        // A constant rate with one peak and warmup is, whatever the config calls it.
        let constant = runs.map { r -> PlannedRun in
            var r = r
            r.schedule = .constant
            return r
        }
        XCTAssertEqual(Planner.shareRuns(constant).map(\.sharedFrom), [runs[2].key, runs[2].key, nil])
    }

    func testRepeatWarningAndClipping() throws {
        var c = config()
        c.uniqueTokens = 200_000  // 934,912 / 200,000 = 4.67 epochs for d=32
        c.budgets = [3e11]
        let plan = try Planner.plan(c)
        XCTAssertEqual(plan.warnings.filter { $0.contains("d=32") && $0.contains("4.7 epochs") }.count, 1)
        XCTAssertEqual(c.lr.peak(d: 16, steps: 1_000_000, batch: 8), 1.6e-2)
        XCTAssertEqual(c.lr.peak(d: 4096, steps: 1, batch: 32), 3e-4)
    }

    func testGridAroundOptimumAndExplicitGrid() throws {
        var c = config()
        c.family = FamilyConfig(widths: [32, 64, 96, 128, 160], shapes: [ShapeSpec(d: 16, L: 1, head: 16)])
        c.grid = GridConfig(sizes: 3, width: 10, coefficient: 1, exponent: 0)  // N_opt = 1: no shape within 10×
        XCTAssertThrowsError(try Planner.plan(c))
        // N_opt = 90,000: nearest in ln N are 64/1 (90k), 32/1 (33k, 1.00 away), 96/2 (284k, 1.15 away).
        c.grid = GridConfig(sizes: 3, width: 10, coefficient: 90_000, exponent: 0)
        let shapes = try Planner.plan(c).runs.filter { $0.schedule == .matched }.map { "\($0.model.d)/\($0.model.layers)" }
        XCTAssertEqual(shapes, ["32/1", "64/1", "96/2"])
        c.budgetGrids = [BudgetGrid(flops: 1e12, shapes: [ShapeSpec(d: 48, L: 1, head: 48)])]
        let explicit = try Planner.plan(c).runs.filter { $0.budget == 1e12 }
        XCTAssertEqual(explicit.map(\.model.headSize), [48, 48])
    }

    /// `sizes = [3, 1]`: one count per budget, in the order of `budgets`, for the fixed grid and
    /// for an adaptive grid's centred budgets; the list survives the JSON stored with a sweep.
    func testSizesPerBudget() throws {
        var c = config()
        c.budgets = [1e12, 3e11]
        c.family = FamilyConfig(widths: [32, 64, 96, 128, 160])
        c.grid = try ConfigDecoder.decode(GridConfig.self, fromTOML: "sizes = [1, 3]\nwidth = 10\ncoefficient = 90_000\nexponent = 0",
                                          file: "g.toml")
        XCTAssertEqual(c.grid.perBudget, [1, 3])
        XCTAssertEqual(c.gridSizes(at: 1e12), 1)
        XCTAssertEqual(c.gridSizes(at: 3e11), 3)
        XCTAssertEqual(c.gridSizes(at: 5e12), 3, "a budget not in the list (an explicit grid's) takes the largest count")
        let runs = try Planner.plan(c).runs.filter { $0.schedule == .matched }
        // N_opt = 90,000 at both: the one nearest is 64/1; the three nearest add 32/1 and 96/2.
        XCTAssertEqual(runs.filter { $0.budget == 1e12 }.map { "\($0.model.d)/\($0.model.layers)" }, ["64/1"])
        XCTAssertEqual(runs.filter { $0.budget == 3e11 }.map { "\($0.model.d)/\($0.model.layers)" }, ["32/1", "64/1", "96/2"])
        c.grid.adaptive = true
        XCTAssertEqual(try AdaptivePlan.centredShapes(c, budget: 1e12, optimum: 90_000).map(\.d), [64])
        XCTAssertEqual(try AdaptivePlan.centredShapes(c, budget: 3e11, optimum: 90_000).map(\.d), [32, 64, 96])
        // One budget planned on its own (an adaptive grid's later budget, the LR pilot's
        // smallest budgets) keeps its count; both once failed validation with the whole list.
        let alone = try AdaptivePlan.budgetRuns(c, budget: 1e12, shapes: try AdaptivePlan.centredShapes(c, budget: 1e12, optimum: 90_000),
                                              optimum: 90_000)
        XCTAssertEqual(alone.filter { $0.schedule == .matched }.map(\.model.d), [64])
        let pilot = try LRPilot.config(c, budgets: 1)
        XCTAssertEqual(pilot.budgets, [3e11])
        XCTAssertEqual(pilot.grid.perBudget, [3])
        XCTAssertEqual(Set(try Planner.plan(pilot).runs.map(\.model.d)), [32, 64, 96])
        XCTAssertEqual(c.keepingBudgets { $0 > 5e11 }.grid.perBudget, [1])
        let json = String(decoding: try JSONEncoder().encode(c), as: UTF8.self)
        XCTAssertEqual(try ConfigDecoder.decode(SweepConfig.self, fromJSON: json, file: "stored"), c)
        c.grid.perBudget = nil
        c.grid.sizes = 2
        let one = String(decoding: try JSONEncoder().encode(c.grid), as: UTF8.self)
        XCTAssertTrue(one.contains("\"sizes\":2"), one)
    }

    func testWallEstimateAndFormatting() {
        // Longest first onto the freest worker: 5 | 4; 4+3 | 5+3; 7+1 → 8.
        XCTAssertEqual(estimateWallSeconds([3, 5, 1, 4, 3], workers: 2), 8)
        XCTAssertEqual(estimateWallSeconds([3, 5, 1, 4, 3], workers: 1), 16)
        XCTAssertEqual(formatFLOPs(1e12), "1e12")
        XCTAssertEqual(formatFLOPs(3e11), "3e11")
        XCTAssertEqual(formatFLOPs(2.5e10), "2.5e10")
        XCTAssertEqual(formatFLOPs(1.234e12), "1.23e12")
        XCTAssertEqual(formatFLOPs(9.996e12), "1e13")
        XCTAssertEqual(formatFLOPs(3.6e12 * (1 + 1e-12)), "3.6e12")
        XCTAssertEqual(formatFLOPs(0), "0")
    }
}
