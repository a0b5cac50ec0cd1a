// Planning into a store in-process: the sweep is created once, a rerun finds it, an empty plan
// is refused before anything is stored.
import Foundation
import Study
import Sweep
import XCTest

final class PlanningTests: XCTestCase {
    func testAPlanWithoutRunsIsRefusedBeforeTheStoreIsMade() throws {
        var cfg = try tinyConfig()
        cfg.budgets = [1e8]
        let url = try temporaryFolder() + "/s.sqlite"
        XCTAssertThrowsError(try planIntoStore(cfg, url: url)) { error in
            guard case StudyError.emptyPlan(let sweep, let warnings)? = error as? StudyError else { return XCTFail("\(error)") }
            XCTAssertEqual(sweep, "tiny")
            XCTAssertFalse(warnings.isEmpty)
            XCTAssertTrue("\(error)".contains("the plan has no runs"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url), "nothing is stored")
        // The corrected config is then planned as if nothing had happened.
        cfg.budgets = [1e11]
        let sweep = try planIntoStore(cfg, url: url)
        XCTAssertEqual(try sweep.store.runs(sweep: sweep.id).count, try Planner.plan(cfg).runs.count)
    }
}
