// The ladder's sharing in-process: a rung that plans a run another rung already trained takes a
// copy of its result, recorded as a column, and its fit counts it as copied.
import Foundation
import Ladder
import Study
import Sweep
import XCTest

final class LadderSharingTests: XCTestCase {
    func testARungCopiesTheRunsAnotherRungTrained() throws {
        let base = try tinyConfig()
        var first = base, second = base
        first.name = "ladder-a"
        second.name = "ladder-b"
        second.params = .nonEmbedding   // counted differently, trained identically
        let url = try temporaryFolder() + "/s.sqlite"
        let a = try planIntoStore(first, url: url)
        try finishRuns(a.store, sweep: a.id, loss: parabolicLoss(optimum: 2e4))
        let b = try planIntoStore(second, url: url)
        XCTAssertEqual(try copySharedRuns(b, rungs: [first, second]), try a.store.runs(sweep: a.id).count)
        let copies = try b.store.runs(sweep: b.id)
        let sources = Dictionary(uniqueKeysWithValues: try a.store.runs(sweep: a.id).map { ($0.plan.key, $0) })
        for r in copies {
            XCTAssertEqual(r.status, .done)
            XCTAssertEqual(r.copiedFrom, sources[r.plan.key]?.id)
            XCTAssertEqual(r.finalEvalLoss, sources[r.plan.key]?.finalEvalLoss)
            XCTAssertNil(r.message, "the copy is a column, not a sentence")
        }
        XCTAssertEqual(try copySharedRuns(b, rungs: [first, second]), 0, "a copied run is not copied again")
        let (result, view) = try fitRung(1, RungChange(name: "b"), second, url: url, bootstrap: 0)
        XCTAssertEqual(result.copied, copies.count)
        XCTAssertEqual(view.copied, copies.count)
        XCTAssertEqual(result.finished, copies.count)
    }
}
