import Model
import Training
import XCTest

final class ScheduleTests: XCTestCase {
    // peak 1e-3, 100 steps, warmup 10: the floor is 1e-4.
    func schedule(_ kind: ScheduleKind, cycle: Int? = nil, final: Double = 0.1) -> LRSchedule {
        LRSchedule(kind: kind, peak: 1e-3, totalSteps: 100, warmupSteps: 10, cycleSteps: cycle, finalFraction: final)
    }

    func testWarmupIsLinearToPeak() {
        for kind in ScheduleKind.allCases {
            let s = schedule(kind, cycle: 200)
            XCTAssertEqual(s.lr(at: 0), 1e-4, accuracy: 1e-15, "\(kind)")
            XCTAssertEqual(s.lr(at: 4), 5e-4, accuracy: 1e-15, "\(kind)")
            XCTAssertEqual(s.lr(at: 9), 1e-3, accuracy: 1e-15, "\(kind) peak at the end of warmup")
        }
    }

    func testMatchedCosine() {
        let s = schedule(.matched)
        // p = (s + 1 − 10) / 90; at s = 54, p = 1/2 and the cosine is halfway: 1e-4 + 9e-4 / 2.
        XCTAssertEqual(s.lr(at: 54), 5.5e-4, accuracy: 1e-15)
        // s = 30: p = 21/90, 1e-4 + 4.5e-4 (1 + cos(7π/30)).
        XCTAssertEqual(s.lr(at: 30), 0.0008844151714648274, accuracy: 1e-15)
        XCTAssertEqual(s.lr(at: 99), 1e-4, accuracy: 1e-15, "the last step lands on the floor")
    }

    func testFixedCycleIsCutWhereTheRunEnds() {
        let s = schedule(.fixed, cycle: 200)
        // p = (s + 1 − 10) / 190: s = 54 gives 45/190, s = 99 gives 90/190.
        XCTAssertEqual(s.lr(at: 54), 0.0008810757598029093, accuracy: 1e-15)
        XCTAssertEqual(s.lr(at: 99), 0.0005871607054625496, accuracy: 1e-15)
        // A cycle shorter than the run stays on the floor after it.
        let short = schedule(.fixed, cycle: 50)
        XCTAssertEqual(short.lr(at: 49), 1e-4, accuracy: 1e-15)
        XCTAssertEqual(short.lr(at: 99), 1e-4, accuracy: 1e-15)
        // A cycle equal to the run is the matched schedule.
        XCTAssertEqual(schedule(.fixed, cycle: 100).lr(at: 30), schedule(.matched).lr(at: 30))
    }

    func testConstant() {
        let s = schedule(.constant)
        XCTAssertEqual(s.lr(at: 54), 1e-3)
        XCTAssertEqual(s.lr(at: 99), 1e-3)
    }

    func testWarmupStableDecay() {
        // Cooldown 20% of 100 steps = 20 steps starting at step 80.
        let s = schedule(.wsd)
        XCTAssertEqual(s.cooldownSteps, 20)
        XCTAssertEqual(s.lr(at: 54), 1e-3)
        XCTAssertEqual(s.lr(at: 79), 1e-3)
        XCTAssertEqual(s.lr(at: 89), 5.5e-4, accuracy: 1e-15, "halfway down the line to 1e-4")
        XCTAssertEqual(s.lr(at: 99), 1e-4, accuracy: 1e-15)
        XCTAssertEqual(schedule(.wsd, final: 0).lr(at: 99), 0, accuracy: 1e-18, "to zero when asked")
        XCTAssertEqual(schedule(.wsd, final: 0).lr(at: 89), 5e-4, accuracy: 1e-15)
    }

    func testSquareRootCooldown() throws {
        // 1 − √x over the same 20 steps: a quarter of the way (x = 0.25) it has fallen halfway.
        var s = schedule(.wsd)
        s.cooldownShape = .sqrt
        XCTAssertEqual(s.lr(at: 79), 1e-3)
        XCTAssertEqual(s.lr(at: 84), 1e-3 + (1e-4 - 1e-3) * 0.5, accuracy: 1e-15)
        XCTAssertEqual(s.lr(at: 99), 1e-4, accuracy: 1e-15)
        XCTAssertGreaterThan(schedule(.wsd).lr(at: 84), s.lr(at: 84), "drops faster than the line at first")
        // Read back from a run config; one written before the field cools down linearly.
        var config = TrainConfig(model: GPTConfig(vocabSize: 512, context: 16, d: 16, layers: 1, headSize: 16), batchSize: 2,
                                 steps: 100, schedule: s, seed: 1)
        config.evalBatches = 1
        XCTAssertEqual(try TrainConfig.decode(json: try config.encodedJSON(), source: "t").schedule.cooldownShape, .sqrt)
        let old = String(decoding: try config.encodedJSON(), as: UTF8.self).split(separator: "\n")
            .filter { !$0.contains("cooldownShape") }.joined(separator: "\n")
        XCTAssertFalse(old.contains("cooldownShape"))
        XCTAssertEqual(try TrainConfig.decode(json: Data(old.utf8), source: "t").schedule.cooldownShape, .linear)
    }

    func testDefaultWarmup() {
        XCTAssertEqual(LRSchedule.defaultWarmup(steps: 100), 10)
        XCTAssertEqual(LRSchedule.defaultWarmup(steps: 1000), 50)
        XCTAssertEqual(LRSchedule.defaultWarmup(steps: 5), 5, "never longer than the run")
        XCTAssertEqual(LRSchedule(kind: .matched, peak: 1, totalSteps: 3000).warmupSteps, 150)
    }

    func testValidation() {
        XCTAssertThrowsError(try schedule(.fixed).validate(), "fixed needs a cycle")
        XCTAssertThrowsError(try LRSchedule(kind: .matched, peak: -1, totalSteps: 10).validate())
        XCTAssertNoThrow(try schedule(.fixed, cycle: 300).validate())
    }
}
