// Replays every input kept in Tests/Fixtures/fuzz/fuzz-fit-csv (seeds and inputs the fuzzer
// found crashing) through the CSV reader; and non-finite numbers are refused by name.
import Fit
import Foundation
import XCTest

final class FuzzReplayTests: XCTestCase {
    func testFitCSVInputs() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz/fuzz-fit-csv")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertFalse(names.isEmpty)
        var parsed = 0
        for name in names {
            let text = String(decoding: try Data(contentsOf: dir.appendingPathComponent(name)), as: UTF8.self)
            if let runs = try? parseRunsCSV(text, source: name) {
                parsed += 1
                XCTAssertTrue(runs.allSatisfy { $0.parameters.isFinite && $0.finalLoss.isFinite && $0.budget.isFinite }, name)
            }
        }
        XCTAssertGreaterThan(parsed, 0)
    }

    /// `inf` and `nan` in a number column are malformed numbers, not runs of N = inf.
    func testNonFiniteNumbers() {
        for row in ["inf,1e6,1e12,3.0", "1e5,1e6,1e12,nan", "1e5,-inf,1e12,3.0", "1e5,1e6,infinity,3.0"] {
            XCTAssertThrowsError(try parseRunsCSV("N,D,C,loss\n" + row + "\n", source: "r.csv")) {
                XCTAssertTrue("\($0)".contains("r.csv"), "\($0)")
            }
        }
    }
}
