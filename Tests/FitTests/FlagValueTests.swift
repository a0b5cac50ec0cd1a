// The values `fit` takes from its flags: budget lists and which counts of N to report.
import Fit
import Tensor
import XCTest

final class FlagValueTests: XCTestCase {
    func testBudgetListsArePositiveFiniteFLOPsSeparatedByCommas() {
        XCTAssertEqual(parseBudgets("1e12, 3e12,1e13"), [1e12, 3e12, 1e13])
        XCTAssertEqual(parseBudgets("1e60"), [1e60], "the largest budget accepted")
        XCTAssertEqual(parseBudgets("1e12,,2e12"), [1e12, 2e12], "an empty item is skipped")
        for bad in ["", ",", "0", "-1e12", "1e12,x", "1e61", "inf", "nan"] {
            XCTAssertNil(parseBudgets(bad), bad)
        }
    }

    func testConventionsAreTheAskedOnesElseTheSweepsNonEmbeddingElseWhatTheRunsAllow() {
        let both = [FitRun(id: "a", budget: 1e12, parameters: 1e6, nonEmbeddingParameters: 8e5, tokens: 1e8, flops: 6e14, finalLoss: 3)]
        let totalOnly = both + [FitRun(id: "b", budget: 1e12, parameters: 2e6, tokens: 5e7, flops: 6e14, finalLoss: 3)]
        XCTAssertEqual(parameterConventions(asked: [.total], sweep: .nonEmbedding, runs: both), [.total])
        XCTAssertEqual(parameterConventions(asked: nil, sweep: .nonEmbedding, runs: totalOnly), [.nonEmbedding])
        XCTAssertEqual(parameterConventions(asked: nil, sweep: .total, runs: both), [.total, .nonEmbedding])
        XCTAssertEqual(parameterConventions(asked: nil, sweep: nil, runs: totalOnly), [.total], "a run without N_nonemb")
    }

    func testOneFitPerConventionInTheOrderAsked() throws {
        let runs = chinchillaShapedPoints(count: 60).map { r -> FitRun in
            var r = r
            r.nonEmbeddingParameters = 0.8 * r.parameters
            return r
        }
        var options = FitOptions()
        options.approaches = [3]
        options.allocationBudgets = []
        let reports = try fitScalingLaws(runs, options: options, conventions: [.nonEmbedding, .total])
        XCTAssertEqual(reports.map(\.convention), [.nonEmbedding, .total])
        options.convention = .nonEmbedding
        XCTAssertEqual(reports[0].exponents.map(\.a.value), try fitScalingLaws(runs, options: options).exponents.map(\.a.value))
    }
}
