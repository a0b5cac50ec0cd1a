// The report's model from a store in-process: the fits per schedule, the parabolas the fit drew
// and its optima, the budgets still running left out with a note, and every note stated once.
import Fit
import Foundation
import Report
import Study
import Sweep
import XCTest

final class ReportModelTests: XCTestCase {
    func testTheModelShowsWhatTheFitFound() throws {
        var cfg = try tinyConfig()
        cfg.budgets = [1e11, 2e11, 3e11]
        let url = try temporaryFolder() + "/s.sqlite"
        let sweep = try planIntoStore(cfg, url: url)
        let shapes = Set(try sweep.store.runs(sweep: sweep.id).map(\.plan.parameters)).sorted()
        let optimum = Double(shapes[shapes.count / 2])
        try finishRuns(sweep.store, sweep: sweep.id, loss: parabolicLoss(optimum: optimum))

        let results = try readResults(url, sweep: nil)
        let model = buildReportModel(results, bootstrap: 0, seed: 0)
        XCTAssertEqual(model.schedules.map(\.schedule), ["matched"])
        XCTAssertEqual(Set(model.notes).count, model.notes.count, "each note once: \(model.notes)")
        XCTAssertEqual(model.runs.count, try sweep.store.runs(sweep: sweep.id).count)
        let matched = try XCTUnwrap(model.schedules.first)
        let fit = try fitScalingLaws(try fitRuns(results, schedule: "matched", source: url), options: {
            var o = FitOptions()
            o.approaches = [1, 2, 3]
            return o
        }())
        XCTAssertEqual(matched.parabolas, fit.approach2?.includedProfiles, "the report draws the fit's parabolas")
        XCTAssertEqual(matched.envelope, fit.approach1?.envelope ?? [], "the report draws the fit's envelope")
        XCTAssertEqual(approach2Optima(matched), fit.approach2?.includedProfiles.map(\.optimum))
        XCTAssertEqual(matched.parabolas.count, 3)
        let approach2 = try XCTUnwrap(matched.approaches.first { $0.name == "Approach 2" })
        for o in approach2.optima {
            XCTAssertEqual(o.parameters / optimum, 1, accuracy: 0.05, "budget \(o.budget): the vertex is the loss's minimum")
        }
        XCTAssertEqual(matched.points.count, results.finishedRuns().count)
    }

    /// Issue 25 item 12: a done run whose eval loss is NULL used to be fitted on its train loss
    /// without a word; it is left out, and the report says which.
    func testADoneRunWithoutEvalLossIsLeftOutWithANote() throws {
        var cfg = try tinyConfig()
        cfg.budgets = [1e11, 2e11, 3e11]
        let url = try temporaryFolder() + "/s.sqlite"
        let sweep = try planIntoStore(cfg, url: url)
        let shapes = Set(try sweep.store.runs(sweep: sweep.id).map(\.plan.parameters)).sorted()
        try finishRuns(sweep.store, sweep: sweep.id, loss: parabolicLoss(optimum: Double(shapes[shapes.count / 2])))
        let victim = try XCTUnwrap(try sweep.store.runs(sweep: sweep.id).first)
        let db = try XCTUnwrap(sweep.store as? SQLiteRunStore).db
        try db.query("UPDATE runs SET final_eval_loss = NULL, final_train_loss = 0.5 WHERE id = ?", [.int(Int(victim.id))])

        let results = try readResults(url, sweep: nil)
        let runs = try fitRuns(results, schedule: "matched", source: url)
        XCTAssertEqual(runs.count, results.finishedRuns().count - 1)
        XCTAssertFalse(runs.contains { $0.finalLoss == 0.5 }, "the train loss entered the fit")
        let note = try XCTUnwrap(missingEvalLossNote(results, schedule: "matched"))
        XCTAssertTrue(note.contains(victim.plan.key), note)
        XCTAssertTrue(buildReportModel(results, bootstrap: 0, seed: 0).notes.contains(note))
    }

    /// A budget whose loss is not convex in N is left out of approach 2, and the report says so
    /// once (it used to say it twice: the fit's note and approach 2's warning again).
    func testEachNoteIsStatedOnce() throws {
        var cfg = try tinyConfig()
        cfg.budgets = [1e11, 2e11, 3e11, 4e11]
        let url = try temporaryFolder() + "/s.sqlite"
        let sweep = try planIntoStore(cfg, url: url)
        let convex = parabolicLoss(optimum: 3e4)
        try finishRuns(sweep.store, sweep: sweep.id) { run in run.budget == 4e11 ? 6 - convex(run) : convex(run) }
        let model = buildReportModel(try readResults(url, sweep: nil), bootstrap: 0, seed: 0)
        XCTAssertEqual(model.notes.filter { $0.contains("4e11: loss is not convex") }.count, 1, "\(model.notes)")
    }

    /// An off-centre vertex is stated once: the diagnostic line marks the budget and gives the
    /// advice, and the fit's separate warning about it is not repeated.
    func testAnOffCentreVertexIsStatedOnce() throws {
        var cfg = try tinyConfig()
        cfg.budgets = [1e11, 2e11, 3e11]
        let url = try temporaryFolder() + "/s.sqlite"
        let sweep = try planIntoStore(cfg, url: url)
        // Every budget's optimum a tenth of the way into its sampled range in ln N.
        let sizes = try sweep.store.runs(sweep: sweep.id).map { log(Double($0.plan.parameters)) }
        let (low, high) = (sizes.min()!, sizes.max()!)
        try finishRuns(sweep.store, sweep: sweep.id, loss: parabolicLoss(optimum: exp(low + 0.1 * (high - low))))
        let model = buildReportModel(try readResults(url, sweep: nil), bootstrap: 0, seed: 0)
        let mentions = model.notes.filter { $0.contains("off-centre") }
        XCTAssertEqual(mentions.count, 1, "\(model.notes)")
        XCTAssertTrue(mentions.first?.contains("centre the sizes on the optimum") ?? false, "\(model.notes)")
        XCTAssertFalse(model.notes.contains { $0.contains("outer quarter") }, "\(model.notes)")
    }

    /// A sweep planned with params = "nonemb" is fitted and drawn with N_nonemb: the knob is read
    /// from the planned runs, which carry it.
    func testTheSweepsCountingOfNIsTheFitsAndTheFigures() throws {
        var cfg = try tinyConfig()
        cfg.budgets = [1e11, 2e11, 3e11]
        cfg.params = .nonEmbedding
        let url = try temporaryFolder() + "/s.sqlite"
        let sweep = try planIntoStore(cfg, url: url)
        try finishRuns(sweep.store, sweep: sweep.id, loss: parabolicLoss(optimum: 3e4))
        let results = try readResults(url, sweep: nil)
        XCTAssertEqual(results.params, .nonEmbedding)
        let model = buildReportModel(results, bootstrap: 0, seed: 0)
        XCTAssertTrue(model.notes.contains { $0.hasPrefix("N counts non-embedding parameters") }, "\(model.notes)")
        let nonemb = Set(results.finishedRuns().map { Double($0.plan.nonEmbeddingParameters) })
        XCTAssertEqual(Set(model.schedules[0].points.map(\.parameters)), nonemb)
    }

    func testBudgetsStillRunningAreLeftOutWithANote() throws {
        var cfg = try tinyConfig()
        cfg.budgets = [1e11, 2e11, 3e11, 4e11]
        let url = try temporaryFolder() + "/s.sqlite"
        let sweep = try planIntoStore(cfg, url: url)
        try finishRuns(sweep.store, sweep: sweep.id, where: { $0.plan.budget < 4e11 }, loss: parabolicLoss(optimum: 3e4))
        let model = buildReportModel(try readResults(url, sweep: nil), bootstrap: 0, seed: 0)
        XCTAssertTrue(model.notes.contains("Budgets with runs still to come are left out of the fits: 4e11."), "\(model.notes)")
        XCTAssertEqual(Set(model.schedules.flatMap(\.points).map(\.budget)), [1e11, 2e11, 3e11])
        XCTAssertEqual(model.pendingRuns.count, 3)
    }

    func testCompareReadsThroughTheResultsPath() throws {
        var cfg = try tinyConfig()
        cfg.budgets = [1e11, 2e11, 3e11]
        cfg.schedules = [.matched, .fixed]
        let url = try temporaryFolder() + "/s.sqlite"
        let sweep = try planIntoStore(cfg, url: url)
        XCTAssertThrowsError(try compareSchedules(url, sweep: nil, bootstrap: 0, seed: 0)) {
            XCTAssertTrue("\($0)".contains("no finished runs"), "\($0)")
        }
        try finishRuns(sweep.store, sweep: sweep.id, loss: parabolicLoss(optimum: 3e4))
        let c = try compareSchedules(url, sweep: nil, bootstrap: 0, seed: 0)
        XCTAssertEqual(c.schedules, ["fixed", "matched"])
        XCTAssertEqual(c.budgets, [1e11, 2e11, 3e11])
        for s in c.schedules {
            for b in c.budgets {
                let best = try XCTUnwrap(c.best[s]?[b])
                let all = try sweep.store.runs(sweep: sweep.id).filter { $0.plan.schedule.rawValue == s && $0.plan.budget == b }
                XCTAssertEqual(best.finalEvalLoss, all.compactMap(\.finalEvalLoss).min())
            }
        }
        XCTAssertEqual(c.fits.count, 2)
    }
}

private func approach2Optima(_ s: ScheduleResult) -> [Optimum]? { s.approaches.first { $0.name == "Approach 2" }?.optima }
