// The ladder's rungs (each a change to the one before), its config errors, and run sharing:
// a run whose training another rung already did is paired with it and takes a copy of its
// result, and only such runs are.
import Foundation
import Ladder
import Model
import Sweep
import Training
import XCTest

final class LadderTests: XCTestCase {
    static let sweep = """
        [sweep]
        name = "base"
        corpus = "c"
        train_tokens = "t"
        eval_tokens = "e"
        tokenizer = "z"
        vocab = 512
        budgets = [1e10, 2e10, 3e10]
        batch = 8
        schedules = ["matched", "fixed"]
        [sweep.family]
        widths = [32]
        shapes = [{ d = 16, L = 1, head = 16 }, { d = 48, L = 1, head = 48 }]
        [sweep.grid]
        sizes = 3
        width = 1000
        """
    static let rungs = """
        [[rungs]]
        name = "kaplan"
        flop_count = "kaplan"
        params = "nonemb"
        warmup_steps = 20
        schedule = "fixed"
        [[rungs]]
        name = "total"
        flop_count = "appendix_f"
        params = "total"
        [[rungs]]
        name = "warmup"
        warmup_fraction = 0.05
        fixed_warmup = "run"
        [[rungs]]
        name = "matched"
        schedule = "matched"
        [[rungs]]
        name = "nonemb"
        params = "nonemb"
        """

    func ladder(_ text: String = "name = \"lad\"\n" + LadderTests.rungs + "\n" + LadderTests.sweep) throws -> LadderConfig {
        try ConfigDecoder.decode(LadderConfig.self, fromTOML: text, file: "l.toml")
    }

    func testEachRungIsThePreviousOneWithItsChanges() throws {
        let rungs = try ladder().rungConfigs(file: "l.toml")
        XCTAssertEqual(rungs.map(\.name), ["lad-kaplan", "lad-total", "lad-warmup", "lad-matched", "lad-nonemb"])
        XCTAssertEqual(rungs.map(\.flopCount), [.kaplan, .appendixF, .appendixF, .appendixF, .appendixF])
        XCTAssertEqual(rungs.map(\.params), [.nonEmbedding, .total, .total, .total, .nonEmbedding])
        XCTAssertEqual(rungs.map(\.warmupSteps), [20, 20, nil, nil, nil])
        XCTAssertEqual(rungs.map(\.schedules), [[.fixed], [.fixed], [.fixed], [.matched], [.matched]])
        XCTAssertEqual(rungs.map(\.budgets), Array(repeating: [1e10, 2e10, 3e10], count: 5))
        // Kaplan's count gives each run more steps at the same nominal budget.
        let kaplan = try Planner.plan(rungs[0]).runs, total = try Planner.plan(rungs[1]).runs
        for (k, t) in zip(kaplan, total) {
            XCTAssertEqual(k.key, t.key)
            XCTAssertGreaterThan(k.steps, t.steps)
            XCTAssertEqual(k.warmupSteps, min(20, k.steps))
        }
        XCTAssertEqual(try ladder().rungs[0].delta, ["flop_count": "kaplan", "params": "nonemb", "warmup_steps": "20", "schedule": "fixed"])
    }

    func testBadLaddersAreOneLineErrorsNamingTheKey() throws {
        let cases: [(String, String)] = [
            ("name = \"lad\"\n" + Self.sweep, "rungs"),
            ("name = \"lad\"\n[[rungs]]\nname = \"a\"\nschedule = \"matched\"\n[[rungs]]\nname = \"a\"\n" + Self.sweep, "rungs[1].name"),
            ("name = \"lad\"\n[[rungs]]\nname = \"a\"\n" + Self.sweep, "rungs[0].schedule"),
            ("name = \"lad\"\n[[rungs]]\nname = \"a\"\nschedule = \"matched\"\nbeta3 = 0.9\n" + Self.sweep, "beta3"),
            ("name = \"lad\"\n[[rungs]]\nname = \"a\"\nschedule = \"matched\"\nbeta2 = 1.5\n" + Self.sweep, "beta2"),
            ("name = \"lad\"\nbase = \"configs/quick.toml\"\n[[rungs]]\nname = \"a\"\nschedule = \"matched\"\n" + Self.sweep, "base"),
            ("name = \"lad\"\n[[rungs]]\nname = \"a b\"\nschedule = \"matched\"\n" + Self.sweep, "rungs[0].name"),
        ]
        for (text, key) in cases {
            var message = ""
            do { _ = try ladder(text).rungConfigs(file: "l.toml") } catch { message = "\(error)" }
            XCTAssertTrue(message.contains(key), "expected an error naming \(key), got: \(message)")
            XCTAssertFalse(message.contains("\n"), message)
        }
    }

    func testTheFingerprintHoldsTrainingAndNothingElse() throws {
        let rungs = try ladder().rungConfigs(file: "l.toml")
        let matched = try Planner.plan(rungs[3]).runs, nonemb = try Planner.plan(rungs[4]).runs
        // Counting N differently changes the fit, not the training.
        XCTAssertEqual(matched.map(\.training), nonemb.map(\.training))
        XCTAssertNotEqual(matched[0], nonemb[0])
        // β2 changes the training.
        var tuned = rungs[3]
        tuned.beta2 = 0.99
        XCTAssertNotEqual(try Planner.plan(tuned).runs[0].training, matched[0].training)
        // A fixed cycle exactly as long as the run is the matched cosine, step for step.
        let fixed = try Planner.plan(rungs[2])
        let longest = try XCTUnwrap(fixed.runs.first { $0.steps == fixed.fixedCycle })
        let twin = try XCTUnwrap(matched.first { $0.budget == longest.budget && $0.model == longest.model })
        XCTAssertEqual(longest.training, twin.training)
        for s in 0..<longest.steps { XCTAssertEqual(longest.lrSchedule.lr(at: s), twin.lrSchedule.lr(at: s)) }
        // Across the five rungs: 5 × 9 runs, of which the last rung's 9 and one fixed run of rung 2 repeat
        // others, and the fixed runs read from a longer run of their shape are not trained.
        let all = try rungs.flatMap { try Planner.plan($0).runs }
        XCTAssertEqual(all.count, 45)
        let prefixes = all.filter { $0.sharedFrom != nil }.count
        XCTAssertGreaterThanOrEqual(prefixes, 6, "rungs 0 and 1 share one warmup per shape")
        XCTAssertEqual(distinctTrainings(all).count, 45 - 9 - 1 - prefixes)
    }

    func testSharedRunsAreCopiedWithTheirCurvesAndOnlyThey() throws {
        let rungs = try ladder().rungConfigs(file: "l.toml")
        let dir = NSTemporaryDirectory() + "ladder-share-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try SQLiteRunStore(path: dir + "/s.sqlite")
        func create(_ c: SweepConfig) throws -> Int64 { try store.createSweep(name: c.name, configJSON: "{}", runs: Planner.plan(c).runs) }
        let fixedSweep = try create(rungs[2]), matchedSweep = try create(rungs[3])
        // Finish every run of rung 2 with a made-up curve: loss 5 − step/100 at steps 1…3.
        while let r = try store.claimNextRun(sweep: fixedSweep, worker: "w", host: "h", pid: 1, lease: 60) {
            let tokens = r.plan.batchSize * r.plan.model.context
            try store.appendMetrics((1...3).map {
                MetricRow(run: r.id, step: $0, tokens: $0 * tokens, flops: 1, lr: 0.01, trainLoss: 5 - Double($0) / 100,
                          evalLoss: $0 == 3 ? 4.5 : nil)
            })
            try store.finishRun(r.id, worker: "w", outcome: .done(finalTrainLoss: Double(r.id), finalEvalLoss: 4.5, tokensPerSecond: 7),
                                wallSeconds: 2)
        }
        let donors = try store.runs(sweep: fixedSweep)
        let targets = try store.runs(sweep: matchedSweep)
        let shares = sharedRuns(targets: targets, donors: donors)
        // Exactly one: the fixed run whose cycle is its own length, and its matched twin.
        XCTAssertEqual(shares.count, 1)
        let share = try XCTUnwrap(shares.first)
        let source = try XCTUnwrap(donors.first { $0.id == share.source })
        let target = try XCTUnwrap(targets.first { $0.id == share.target })
        XCTAssertEqual(source.plan.cycleSteps, source.plan.steps)
        XCTAssertEqual(source.plan.budget, target.plan.budget)
        XCTAssertEqual(source.plan.model, target.plan.model)

        XCTAssertTrue(try store.copyResult(from: share.source, to: share.target, flopsPerToken: 10))
        XCTAssertFalse(try store.copyResult(from: share.source, to: share.target, flopsPerToken: 10), "a done run is not overwritten")
        let copied = try XCTUnwrap(try store.runs(sweep: matchedSweep).first { $0.id == share.target })
        XCTAssertEqual(copied.status, .done)
        XCTAssertEqual(copied.finalTrainLoss, Double(share.source))
        XCTAssertEqual(copied.finalEvalLoss, 4.5)
        XCTAssertEqual(copied.wallSeconds, 0)
        XCTAssertEqual(copied.step, 3)
        let rows = try store.metrics(run: share.target)
        XCTAssertEqual(rows.map(\.trainLoss), [4.99, 4.98, 4.97])
        XCTAssertEqual(rows.map(\.evalLoss), [nil, nil, 4.5])
        XCTAssertEqual(rows.map(\.flops), rows.map { Double($0.tokens) * 10 }, "FLOPs in the target's counting")
        XCTAssertEqual(try store.runs(sweep: matchedSweep).filter { $0.status == .done }.count, 1, "nothing else was touched")
        // Runs that already ended take no copy.
        XCTAssertEqual(sharedRuns(targets: donors, donors: targets).count, 0)
        try? FileManager.default.removeItem(atPath: dir)
    }

    func testTheShippedLadderPlansFiveRungsOfFourBudgets() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("configs/ladder.toml").path
        let ladder = try LadderConfig.load(path: path)
        let rungs = try ladder.rungConfigs(file: path)
        XCTAssertEqual(rungs.map(\.name), ["ladder-kaplan", "ladder-counting", "ladder-warmup", "ladder-cosine", "ladder-adamw"])
        XCTAssertEqual(rungs.map(\.beta2), [0.95, 0.95, 0.95, 0.95, 0.99])
        for r in rungs {
            let plan = try Planner.plan(r)
            XCTAssertEqual(Set(plan.runs.map(\.budget)), [3e11, 1e12, 3e12, 1e13], r.name)
            XCTAssertGreaterThanOrEqual(plan.runs.count, 4 * 5, r.name)
        }
    }
}
