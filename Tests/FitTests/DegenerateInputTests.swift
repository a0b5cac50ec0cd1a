// Fits that cannot be determined are errors naming what is missing, never a table of made-up
// or non-finite numbers (issue 25, item 11).
import Foundation
import XCTest
@testable import Fit

final class DegenerateInputTests: XCTestCase {
    /// One row used to print "a = 0.500" (the solver's start) and exit 0.
    func testOneRowIsAnErrorForEveryApproach() {
        let one = [FitRun(id: "r", budget: 1e12, parameters: 1e5, tokens: 2e6, flops: 1e12, finalLoss: 3)]
        XCTAssertThrowsError(try fitScalingLaws(one)) { error in
            XCTAssertEqual(error as? FitError, .tooFewPoints(approach: 3, found: 1, needed: 6))
        }
        var three = FitOptions()
        three.approaches = [3]
        XCTAssertThrowsError(try fitScalingLaws(one, options: three))
    }

    /// Every run of one N used to give a = 0.850: nothing in the data ties loss to N.
    func testAllNEqualIsAnError() {
        let runs = (1...8).map { FitRun(id: "r\($0)", budget: 0, parameters: 5e4, tokens: Double($0) * 1e6, flops: 0, finalLoss: 4 - 0.1 * Double($0)) }
        XCTAssertThrowsError(try fitScalingLaws(runs)) { error in
            XCTAssertEqual(error as? FitError, .noSpread(approach: 3, column: "N", value: 5e4))
        }
    }

    /// Losses that rise with N and D (random rows of a 200 MB CSV did the same) used to print
    /// a = 0.500 from a law with A = B = 0, flat in both: no allocation is optimal.
    func testALawFlatInNOrDHasNoExponent() {
        var runs: [FitRun] = []
        for (i, n) in [1e4, 3e4, 1e5, 3e5].enumerated() {
            for (j, d) in [1e6, 1e7, 1e8].enumerated() {
                runs.append(FitRun(id: "r\(i)\(j)", budget: 0, parameters: n, tokens: d, flops: 0,
                                   finalLoss: 3 + 0.01 * log(n) + 0.02 * log(d)))
            }
        }
        var options = FitOptions()
        options.approaches = [3]
        XCTAssertThrowsError(try fitScalingLaws(runs, options: options)) { error in
            XCTAssertEqual(error as? FitError, .flatLaw(column: "N"))
            XCTAssertTrue("\(error)".contains("no compute-optimal allocation"), "\(error)")
        }
    }

    /// N = 1e308 used to print "N=inf D=-nan"; such a count is refused where it is read.
    func testCountsBeyondRangeAreRefusedWhereTheyAreRead() {
        XCTAssertThrowsError(try parseRunsCSV("N,D,C,loss\n1e308,1e6,1e12,3.0\n", source: "runs.csv")) { error in
            XCTAssertEqual(error as? FitError, .outOfRange(source: "runs.csv line 2", column: "N", value: 1e308, limit: maximumCount))
            XCTAssertTrue("\(error)".contains("runs.csv line 2"))
        }
        let run = FitRun(id: "big", budget: 0, parameters: 1e5, tokens: 1e305, flops: 0, finalLoss: 3)
        XCTAssertThrowsError(try validateRuns([run], convention: .total))
    }

    /// A sweep on only two budgets with every size once: approaches 1 and 2 are skipped with notes
    /// and approach 3 still fits; the notes name why.
    func testSkippedApproachesLeaveNotesWhenAnotherFits() throws {
        let runs = syntheticSweep(budgets: [1e18, 1e19], noise: 0.001)
        let report = try fitScalingLaws(runs)
        XCTAssertEqual(report.exponents.map(\.approach), [3])
        XCTAssertTrue(report.notes.contains { $0.hasPrefix("approach 2 skipped") }, "\(report.notes)")
    }

    /// Rows are parsed one at a time: a file of many rows gives exactly its runs.
    func testManyRowsParseToRuns() throws {
        var text = "N,D,loss\n"
        for i in 0..<50_000 { text += "\(1000 + i),\(2000 + i),\(3.0 + Double(i % 7) * 0.01)\n" }
        let runs = try parseRunsCSV(text, source: "many.csv")
        XCTAssertEqual(runs.count, 50_000)
        XCTAssertEqual(runs.last?.parameters, 50_999)
        XCTAssertEqual(runs.last?.id, "many.csv:50001")
    }
}
