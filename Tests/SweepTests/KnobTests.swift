// The ladder's knobs in sweep configs: each changes exactly what it should (steps under each FLOP
// count, warmup, optimizer, LR floor), the defaults plan the runs planned before the knobs, and a
// bad or conflicting value is one error naming its key.
import Foundation
import Model
import Sweep
import Training
import XCTest

final class KnobTests: XCTestCase {
    /// d = 32, L = 1 (head 32) at V = 512, T = 128, batch 8, one budget of 3e11.
    func config(_ toml: String = "", schedules: String = "matched") throws -> SweepConfig {
        try ConfigDecoder.decode(SweepConfig.self, fromTOML: """
            name = "k"
            corpus = "c"
            train_tokens = "t"
            eval_tokens = "e"
            tokenizer = "z"
            vocab = 512
            budgets = [3e11]
            batch = 8
            schedules = ["\(schedules)"]
            \(toml)
            [family]
            widths = [32]
            """, file: "k.toml")
    }

    func onlyRun(_ c: SweepConfig) throws -> PlannedRun {
        try c.validate(file: "k.toml")
        let runs = try Planner.plan(c).runs
        XCTAssertEqual(runs.count, 1)
        return runs[0]
    }

    func testStepsUnderEachFLOPCountMatchHandComputedValues() throws {
        // N = 512·32 + 128·32 + 12,416 (block) + 64 (final LN) = 32,960; N_nonemb = 12,480.
        // Per token: Appendix F 320,640; 6N = 197,760; Kaplan 6·N_nonemb = 74,880. Batch tokens 1,024.
        // steps = floor(3e11 / (1,024 × FLOPs per token)): 913, 1,481, 3,912.
        let expected: [(String, Int, Double)] = [("appendix_f", 913, 320_640), ("6n", 1_481, 197_760), ("kaplan", 3_912, 74_880)]
        for (count, steps, perToken) in expected {
            let run = try onlyRun(try config("flop_count = \"\(count)\""))
            XCTAssertEqual(run.steps, steps, count)
            XCTAssertEqual(run.flopsPerToken, perToken, count)
            XCTAssertEqual(run.flops, Double(steps * 1_024) * perToken, count)
            XCTAssertLessThanOrEqual(run.flops, 3e11, count)
            XCTAssertEqual(run.key, "C=3e11 d=32 L=1 h=32 matched", count)
            XCTAssertEqual(run.flopCount, count == "appendix_f" ? nil : FLOPCount(rawValue: count), count)
            // The fit sees C per the run's counting: k in C = k N D is 6 under both 6N conventions.
            if count == "kaplan" { XCTAssertEqual(run.flops / (Double(run.nonEmbeddingParameters) * Double(run.tokens)), 6) }
            if count == "6n" { XCTAssertEqual(run.flops / (Double(run.parameters) * Double(run.tokens)), 6) }
        }
        XCTAssertEqual(stepsForBudget(3e11, model: GPTConfig(vocabSize: 512, d: 32, layers: 1), batch: 8, count: .kaplan), 3_912)
    }

    func testDefaultsPlanTheRunsPlannedBeforeTheKnobs() throws {
        let plain = try onlyRun(try config())
        let explicit = try onlyRun(try config("""
            flop_count = "appendix_f"
            params = "total"
            beta1 = 0.9
            beta2 = 0.95
            weight_decay = 0.1
            lr_floor = 0.1
            """))
        XCTAssertEqual(plain, explicit)
        // The stored JSON of a run is what it was before the knobs, so old stores resume
        // (the store refuses a replanned sweep whose runs' JSON differs).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(plain), as: UTF8.self)
        for key in ["flopCount", "parameterCount", "beta1", "beta2", "weightDecay"] {
            XCTAssertFalse(json.contains("\"\(key)\""), key)
        }
        XCTAssertEqual(try JSONDecoder().decode(PlannedRun.self, from: Data(json.utf8)), plain)
        XCTAssertEqual(plain.warmupSteps, 46)  // max(10, round(0.05 × 913))
        XCTAssertEqual(plain.minLRFraction, 0.1)
        let train = try plain.trainConfig()
        XCTAssertEqual([train.beta1, train.beta2, train.weightDecay], [0.9, 0.95, 0.1])
    }

    func testWarmupStepsIsOneCountForEveryRunAndAllOfAShorterOne() throws {
        var c = try config("warmup_steps = 400")
        c.budgets = [3e11, 1e11]  // 913 and 304 steps
        try c.validate(file: "k.toml")
        let runs = try Planner.plan(c).runs.sorted { $0.steps < $1.steps }
        XCTAssertEqual(runs.map(\.steps), [304, 913])
        XCTAssertEqual(runs.map(\.warmupSteps), [304, 400])
        XCTAssertEqual(runs[1].lrSchedule.lr(at: 399), runs[1].peakLR)
        XCTAssertEqual(runs[1].lrSchedule.lr(at: 199), runs[1].peakLR * 200 / 400, accuracy: 1e-15)
    }

    func testLRFloorIsTheCosinesLastFraction() throws {
        for floor in [0.0, 0.1, 0.25] {
            let run = try onlyRun(try config("lr_floor = \(floor)"))
            XCTAssertEqual(run.minLRFraction, floor)
            XCTAssertEqual(run.lrSchedule.lr(at: run.steps - 1), floor * run.peakLR, accuracy: 1e-15)
        }
    }

    func testOptimizerKnobsReachTheTrainerConfig() throws {
        let run = try onlyRun(try config("beta1 = 0.8\nbeta2 = 0.99\nweight_decay = 0.5"))
        XCTAssertEqual(run.beta1, 0.8)
        XCTAssertEqual(run.beta2, 0.99)
        XCTAssertEqual(run.weightDecay, 0.5)
        let train = try run.trainConfig()
        XCTAssertEqual([train.beta1, train.beta2, train.weightDecay], [0.8, 0.99, 0.5])
        // Knobs away from their defaults change the stored run, so a changed optimizer is a new run.
        XCTAssertNotEqual(run, try onlyRun(try config()))
    }

    func testBadOrConflictingKnobsAreOneLineErrorsNamingTheKey() throws {
        let cases: [(String, String)] = [
            ("flop_count = \"chinchilla\"", "flop_count"),
            ("params = \"embedding\"", "params"),
            ("beta2 = 1.0", "beta2"),
            ("beta1 = -0.1", "beta1"),
            ("weight_decay = -1", "weight_decay"),
            ("lr_floor = 1.5", "lr_floor"),
            ("warmup_steps = -3", "warmup_steps"),
            ("warmup_steps = 100\nwarmup_fraction = 0.1", "warmup_steps"),
            ("warmup_steps = 100\nwarmup_min = 20", "warmup_steps"),
            ("warmup_steps = 100\nfixed_cycle = 100", "warmup_steps"),
            ("flop_cuont = \"kaplan\"", "flop_cuont"),
        ]
        for (toml, key) in cases {
            var message = ""
            do {
                try config(toml, schedules: "fixed").validate(file: "k.toml")
            } catch {
                message = "\(error)"
            }
            XCTAssertTrue(message.contains(key), "\(toml): \(message)")
            XCTAssertFalse(message.contains("\n"), message)
        }
        // A warmup as long as the whole fixed cycle (the longest run) cannot be planned.
        let c = try config("warmup_steps = 913", schedules: "fixed")
        XCTAssertThrowsError(try Planner.plan(c)) { XCTAssertTrue("\($0)".contains("warmup_steps 913"), "\($0)") }
    }

    func testFixedWarmupIsTheShapesOrEachRuns() throws {
        // 913 and 304 steps of one shape under one fixed cycle.
        var shape = try config("warmup_steps = 400", schedules: "fixed")
        shape.budgets = [3e11, 1e11]
        let shared = try Planner.plan(shape).runs.sorted { $0.steps < $1.steps }
        XCTAssertEqual(shared.map(\.steps), [304, 913])
        // One warmup for the shape, whole: the 304-step run ends inside it and is the first steps of the longer run.
        XCTAssertEqual(shared.map(\.warmupSteps), [400, 400])
        XCTAssertEqual(shared[0].sharedFrom, shared[1].key)
        XCTAssertNoThrow(try shared[0].trainConfig())
        XCTAssertEqual(shared[0].lrSchedule.lr(at: 303), shared[1].peakLR * 304 / 400, accuracy: 1e-15)
        var own = try config("fixed_warmup = \"run\"", schedules: "fixed")
        own.budgets = [3e11, 1e11]
        let apart = try Planner.plan(own).runs.sorted { $0.steps < $1.steps }
        XCTAssertEqual(apart.map(\.warmupSteps), [15, 46], "5% of each run")
        XCTAssertEqual(apart.map(\.sharedFrom), [nil, nil])
        XCTAssertEqual(apart[0].peakLR, apart[1].peakLR, "the peak stays the shape's")
        XCTAssertThrowsError(try config("fixed_warmup = \"budget\"")) { XCTAssertTrue("\($0)".contains("fixed_warmup"), "\($0)") }
    }
}
