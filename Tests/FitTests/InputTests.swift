// CSV input and the errors people see for unusable runs.
import Foundation
import XCTest
import Fit
import Tensor

final class InputTests: XCTestCase {
    let csv = """
    # a comment line
    loss, C, N, D, N_nonemb, schedule
    3.2, 1e18, 1e8, 1.66e9, 8e7, matched
    3.1, 1.02e18, 2e8, 8.3e8, , matched

    3.3, 1e19, 1e8, 1.66e10, 8e7, fixed
    3.0, 1.05e19, 3e8, 5e9, 2.5e8, fixed
    """

    func testReadsColumnsByNameAndGroupsBudgetsByC() throws {
        let runs = try parseRunsCSV(csv, source: "runs.csv")
        XCTAssertEqual(runs.count, 4)
        XCTAssertEqual(runs[0].parameters, 1e8)
        XCTAssertEqual(runs[0].tokens, 1.66e9)
        XCTAssertEqual(runs[0].finalLoss, 3.2)
        XCTAssertEqual(runs[0].nonEmbeddingParameters, 8e7)
        XCTAssertNil(runs[1].nonEmbeddingParameters)
        XCTAssertEqual(runs[2].schedule, "fixed")
        XCTAssertEqual(runs[1].id, "runs.csv:4")
        // Budgets: geometric means of the two C clusters.
        XCTAssertEqual(runs[0].budget, (1e18 * 1.02e18).squareRoot(), accuracy: 1e-12 * runs[0].budget)
        XCTAssertEqual(runs[1].budget, runs[0].budget)
        XCTAssertEqual(runs[3].budget, (1e19 * 1.05e19).squareRoot(), accuracy: 1e-12 * runs[3].budget)
        XCTAssertEqual(groupByBudget(runs).count, 2)
    }

    func testReadsAFileAndNamesAnUnreadableOne() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fit-input-\(getpid()).csv")
        try csv.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try readRunsCSV(path: url.path).count, 4)
        XCTAssertThrowsError(try readRunsCSV(path: url.path + ".missing")) { error in
            XCTAssertTrue("\(error)".contains(url.path + ".missing"), "\(error)")
        }
    }

    func testBudgetColumnIsUsedWhenPresent() throws {
        let runs = try parseRunsCSV("N,D,C,loss,budget\n1,2,3,4,1e18\n1,2,3.5,4,1e19\n", source: "x.csv")
        XCTAssertEqual(runs.map(\.budget), [1e18, 1e19])
    }

    func testMissingColumnNamesColumnAndFile() {
        XCTAssertThrowsError(try parseRunsCSV("N,C,loss\n1,2,3\n", source: "data/runs.csv")) { error in
            XCTAssertEqual(error as? FitError, .missingColumn("D", file: "data/runs.csv"))
            XCTAssertEqual("\(error)", "data/runs.csv: missing column 'D' in the header")
        }
    }

    func testNonPositiveLossNamesTheLine() {
        XCTAssertThrowsError(try parseRunsCSV("N,D,C,loss\n1,2,3,4\n1,2,3,0\n", source: "r.csv")) { error in
            XCTAssertEqual(error as? FitError, .nonPositiveLoss(source: "r.csv line 3", value: 0))
            XCTAssertTrue("\(error)".contains("r.csv line 3"))
        }
    }

    func testMalformedNumberAndFieldCount() {
        XCTAssertThrowsError(try parseRunsCSV("N,D,C,loss\n1,x,3,4\n", source: "r.csv")) { error in
            XCTAssertEqual(error as? FitError, .malformedNumber(file: "r.csv", line: 2, column: "D", text: "x"))
        }
        XCTAssertThrowsError(try parseRunsCSV("N,D,C,loss\n1,2,3\n", source: "r.csv")) { error in
            XCTAssertEqual(error as? FitError, .wrongFieldCount(file: "r.csv", line: 2, expected: 4, found: 3))
        }
    }

    func testFewerThanThreeBudgetsStopsApproach2AloneAndIsANoteOtherwise() throws {
        let runs = syntheticSweep(budgets: [1e18, 1e19])
        var options = FitOptions()
        options.approaches = [2]
        XCTAssertThrowsError(try fitScalingLaws(runs, options: options)) { error in
            XCTAssertEqual(error as? FitError, .tooFewBudgets(found: 2))
        }
        options.approaches = [1, 2, 3]
        let report = try fitScalingLaws(runs, options: options)
        XCTAssertEqual(report.exponents.map(\.approach), [3])
        XCTAssertTrue(report.notes.contains { $0.hasPrefix("approach 2 skipped: approaches 1 and 2 need at least 3") }, "\(report.notes)")
    }

    func testBudgetWithFewerThanThreeSizesIsLeftOutOfApproach2() throws {
        var runs = syntheticSweep(offsets: [-0.5, 0, 0.5])
        runs.removeAll { $0.id == "b1s2" }
        var options = FitOptions()
        options.approaches = [2, 3]
        let report = try fitScalingLaws(runs, options: options)
        XCTAssertEqual(report.budgets, [1e18, 1e20, 1e21, 1e22])
        XCTAssertTrue(report.notes.contains { $0.contains("fewer than 3 sizes left out: 1e19") }, "\(report.notes)")
        // With only two budgets of three sizes, approach 2 alone names the first short budget.
        runs.removeAll { $0.id == "b2s2" || $0.id == "b3s2" }
        options.approaches = [2]
        XCTAssertThrowsError(try fitScalingLaws(runs, options: options)) { error in
            XCTAssertEqual(error as? FitError, .tooFewSizes(budget: 1e19, found: 2))
            XCTAssertTrue("\(error)".contains("1e19"), "\(error)")
        }
    }

    /// The issue's first test: points without budgets or C (N, D, loss only) fit approach 3, the
    /// others are skipped with a note, and --optimum-at budgets still get an optimum.
    func testApproach3FitsPointsWithoutBudgetsOrC() throws {
        let truth = randomPoints(count: 60, noise: 0, seed: 3)
        let csv = "N,D,loss\n" + truth.map { "\($0.parameters),\($0.tokens),\($0.finalLoss)" }.joined(separator: "\n")
        let runs = try parseRunsCSV(csv, source: "points.csv")
        XCTAssertTrue(runs.allSatisfy { $0.budget == 0 && $0.flops == 0 })
        var options = FitOptions()
        options.allocationBudgets = [1e21]
        let report = try fitScalingLaws(runs, options: options)
        XCTAssertEqual(report.exponents.map(\.approach), [3])
        XCTAssertTrue(report.notes.contains { $0.hasPrefix("approach 1 skipped") }, "\(report.notes)")
        XCTAssertTrue(report.notes.contains { $0.hasPrefix("approach 2 skipped") }, "\(report.notes)")
        XCTAssertTrue(report.notes.contains { $0.contains("C = 6 N D") }, "\(report.notes)")
        let p = try XCTUnwrap(report.approach3)
        XCTAssertEqual(p.flopsPerParameterToken, 6)
        XCTAssertEqual(p.law.alpha, chinchillaLaw.alpha, accuracy: 1e-5)
        let want = chinchillaLaw.optimalAllocation(flops: 1e21, flopsPerParameterToken: 6)
        XCTAssertEqual(p.allocations.map(\.budget), [1e21])
        XCTAssertEqual(p.allocations[0].parameters, want.parameters, accuracy: 1e-4 * want.parameters)
    }

    func testNonPositiveLossInRunsIsAnError() {
        var runs = syntheticSweep(offsets: [-0.5, 0, 0.5])
        runs[4].finalLoss = -1
        XCTAssertThrowsError(try fitScalingLaws(runs)) { error in
            XCTAssertEqual(error as? FitError, .nonPositiveLoss(source: "run b1s1", value: -1))
        }
    }

    func testNonEmbeddingConventionNeedsTheCount() throws {
        let runs = try parseRunsCSV(csv, source: "runs.csv")
        var options = FitOptions()
        options.convention = .nonEmbedding
        XCTAssertThrowsError(try fitScalingLaws(runs, options: options)) { error in
            XCTAssertEqual(error as? FitError, .missingNonEmbeddingParameters(run: "runs.csv:4"))
        }
    }

    func testReportRoundTripsThroughJSONAndRenders() throws {
        var options = FitOptions()
        options.approaches = [1, 2, 3]
        options.approach3.grid = InitialGrid(a: [5, 10], b: [5, 10], e: [0, 1], alpha: [0.5], beta: [0.5])
        let report = try fitScalingLaws(syntheticSweep(), options: options)
        let data = try encodeJSON([report])
        let back = try decodeJSON(data)
        XCTAssertEqual(back, [report])
        let table = renderTable([report])
        XCTAssertTrue(table.contains("2 isoFLOP parabolas"), table)
        XCTAssertTrue(table.contains("0.49"), table)  // Chinchilla's approach-2 value
        XCTAssertTrue(table.contains("0.46"), table)  // and approach 3's
        XCTAssertTrue(table.contains("0.73"), table)  // Kaplan's
        XCTAssertTrue(table.contains("note: approach 1 skipped"), table)  // no curves in these runs
        XCTAssertEqual(report.approach3!.flopsPerParameterToken, 6, accuracy: 1e-9)
        // At C = 1e20 Chinchilla's law gives roughly 20 tokens per parameter... of its own kind.
        let alloc = report.approach3!.allocations[2]
        let truth = chinchillaLaw.optimalAllocation(flops: 1e20, flopsPerParameterToken: 6)
        XCTAssertEqual(alloc.tokensPerParameter, truth.tokens / truth.parameters, accuracy: 1e-3 * alloc.tokensPerParameter)
    }

    /// A fit report spells the convention as it always has ("nonEmbedding"), where configs say
    /// "nonemb"; both read back.
    func testConventionKeepsItsSpellings() throws {
        var options = FitOptions()
        options.approaches = [2]
        options.convention = .nonEmbedding
        let runs = syntheticSweep().map { r -> FitRun in
            var r = r
            r.nonEmbeddingParameters = 0.7 * r.parameters
            return r
        }
        let data = try encodeJSON([try fitScalingLaws(runs, options: options)])
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"convention\" : \"nonEmbedding\""))
        XCTAssertEqual(try decodeJSON(data).first?.convention, .nonEmbedding)
        let decoder = JSONDecoder()
        XCTAssertEqual(try decoder.decode([ParameterConvention].self, from: Data(#"["total", "nonemb"]"#.utf8)), [.total, .nonEmbedding])
        XCTAssertEqual(String(decoding: try JSONEncoder().encode([ParameterConvention.nonEmbedding]), as: UTF8.self), #"["nonemb"]"#)
        XCTAssertThrowsError(try decoder.decode([ParameterConvention].self, from: Data(#"["embedded"]"#.utf8)))
    }
}
