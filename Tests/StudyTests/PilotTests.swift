// The LR pilot's rounds in-process: each multiplier's runs are stored with their multiplier (not
// decoded from the key); a shape best at an edge gets one more multiplier beyond it, round after
// round, up to the limit beyond those asked for.
import Fit
import Foundation
import Study
import Sweep
import XCTest

final class PilotTests: XCTestCase {
    func testExtensionRoundsGoBeyondTheEdgeUpToTheLimit() throws {
        let cfg = try tinyConfig()
        let pilot = try LRPilot.config(cfg, budgets: 1)
        let asked = [0.5, 1, 2]
        let sweep = try planIntoStore(pilot, try pilotBatches(pilot, multipliers: asked), url: try temporaryFolder() + "/s.sqlite")
        let stored = try sweep.store.runs(sweep: sweep.id)
        XCTAssertEqual(Set(stored.compactMap(\.origin.multiplier)), Set(asked))
        XCTAssertTrue(stored.allSatisfy { $0.origin.multiplier != nil }, "every pilot run has its multiplier stored")

        // The loss falls as the LR does: every shape is best at the smallest multiplier tried.
        let lossFallingWithLR = { (run: PlannedRun) in 3 + run.peakLR * 10 }
        var rounds: [[Double]] = []
        for _ in 0..<5 {
            try finishRuns(sweep.store, sweep: sweep.id, loss: lossFallingWithLR)
            let records = try sweep.store.runs(sweep: sweep.id)
            let best = try bestLRs(records)
            XCTAssertTrue(best.allSatisfy { $0.edge == .low })
            let more = pilotExtensions(best, records, pilot: pilot, asked: asked, limit: 2)
            guard !more.isEmpty else { break }
            XCTAssertEqual(more.count, best.count, "one more run per shape")
            rounds.append(Array(Set(more.compactMap { $0.0.multiplier })).sorted())
            for (origin, run) in more { _ = try sweep.store.addRuns(sweep: sweep.id, runs: [run], origin: origin) }
        }
        XCTAssertEqual(rounds, [[0.25], [0.125]], "two rounds below the smallest multiplier asked for, each a factor 2 further")
        let extended = try sweep.store.runs(sweep: sweep.id).filter { $0.origin.multiplier == 0.125 }
        for r in extended {
            XCTAssertEqual(r.plan.peakLR, exp(pilot.lr.lnPeak(d: r.plan.model.d, steps: r.plan.steps, batch: r.plan.batchSize)) * 0.125,
                           accuracy: 1e-12)
        }
    }
}

final class PoorRuleFitTests: XCTestCase {
    /// A rule that fits its shapes to within the laptop pilots' 0.15–0.18 passes; one at the
    /// unseen corpus's 0.42 (or a NaN from a failed fit) is refused with the reason.
    func testAPoorlyFittingRuleIsNotTrusted() throws {
        XCTAssertNil(poorRuleFit(rms: 0.18, shapes: 12))
        XCTAssertNil(poorRuleFit(rms: trustworthyRuleRMS, shapes: 12))
        let why = try XCTUnwrap(poorRuleFit(rms: 0.42, shapes: 9))
        XCTAssertTrue(why.contains("rms 0.42") && why.contains("9 shapes") && why.contains("35%"), why)
        XCTAssertNotNil(poorRuleFit(rms: .nan, shapes: 9))
    }
}
