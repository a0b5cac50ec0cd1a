// `isoflop fit` and `isoflop predict` through the real tool: the held-out table, the defaults of
// issue 25 item 7, and refusals of budgets the fits cannot represent.
import Foundation
import XCTest

final class FitCommandTests: XCTestCase {
    /// Four budgets of a known law (C = 6ND, L = E + A/N^α + B/D^β, 0.5% noise) as a CSV.
    func lawCSV(_ dir: String) throws -> String {
        var text = "N,D,C,loss\n"
        var state: UInt64 = 12345
        for c in [1e18, 3e18, 1e19, 3e19] {
            let nOpt = 0.6 * pow(c, 0.45)
            for k in -3...3 {
                let n = nOpt * exp(0.4 * Double(k)), d = c / (6 * n)
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let z = Double(state >> 11) / 9_007_199_254_740_992.0 - 0.5
                let loss = (1.69 + 406.4 / pow(n, 0.34) + 410.7 / pow(d, 0.28)) * (1 + 0.01 * z)
                text += "\(n),\(d),\(c),\(loss)\n"
            }
        }
        let path = dir + "/law.csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testFitPrintsTheHeldOutCheckAndItsJSON() throws {
        let dir = try temporaryFolder()
        let csv = try lawCSV(dir)
        let r = try CLI.capture(["fit", csv, "--json", dir + "/fit.json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("held-out check: refit without the largest budget"), r.stdout)
        XCTAssertTrue(r.stdout.contains("held-out check: fitted up to 1e19, forecast at 3e19"), r.stdout)
        // VarPro alone by default: the L-BFGS grid's cross-check is opt-in (--solver both).
        XCTAssertFalse(r.stdout.contains("L-BFGS grid"), r.stdout)
        let json = try String(contentsOfFile: dir + "/fit.json", encoding: .utf8)
        XCTAssertTrue(json.contains("\"holdout\""), json)
        XCTAssertTrue(json.contains("\"parametersCovered\""), json)
        let off = try CLI.capture(["fit", csv, "--no-holdout", "--bootstrap", "0"])
        XCTAssertEqual(off.status, 0, off.stderr)
        XCTAssertFalse(off.stdout.contains("held-out check"), off.stdout)
        let both = try CLI.capture(["fit", csv, "--solver", "both", "--bootstrap", "0", "--no-holdout"])
        XCTAssertTrue(both.stdout.contains("L-BFGS grid"), both.stdout)
    }

    /// `--forecast-at` forecasts beyond the runs: approach 3's N_opt at 1e20 lands on the law's
    /// own optimum there (3× beyond the largest budget), and the forecasts are in the JSON.
    func testFitForecastsAtBudgetsBeyondTheRuns() throws {
        let dir = try temporaryFolder()
        let csv = try lawCSV(dir)
        let r = try CLI.capture(["fit", csv, "--forecast-at", "1e20", "--bootstrap", "50", "--no-holdout", "--json", dir + "/fit.json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("forecasts beyond the runs (95% intervals):"), r.stdout)
        // The law's optimum under C = 6ND: N_opt = G·(C/6)^(β/(α+β)), G = (αA/(βB))^(1/(α+β)).
        let (a, b, bigA, bigB) = (0.34, 0.28, 406.4, 410.7)
        let truth = pow(a * bigA / (b * bigB), 1 / (a + b)) * pow(1e20 / 6, b / (a + b))
        struct Report: Decodable { struct F: Decodable { struct E: Decodable { var value: Double }; var approach: Int; var budget: Double; var parameters: E }
                                   var forecasts: [F]? }
        let reports = try JSONDecoder().decode([Report].self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/fit.json")))
        let f = try XCTUnwrap(reports.first?.forecasts?.first { $0.approach == 3 })
        XCTAssertEqual(f.budget, 1e20)
        XCTAssertEqual(f.parameters.value / truth, 1, accuracy: 0.15, "forecast \(f.parameters.value), law \(truth)")
        let bad = try CLI.capture(["fit", csv, "--forecast-at", "1e20,nan"])
        XCTAssertEqual(bad.status, 64, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("--forecast-at"), bad.stderr)
    }

    /// Item 11: `--optimum-at inf` printed "C=inf: N=inf D=-nan"; one row printed a = 0.500.
    func testBudgetsAndDataTheFitsCannotRepresentAreRefused() throws {
        let dir = try temporaryFolder()
        let csv = try lawCSV(dir)
        for value in ["inf", "1e400", "nan", "-1"] {
            let r = try CLI.capture(["fit", csv, "--optimum-at", value])
            XCTAssertEqual(r.status, 64, r.stderr)
            XCTAssertTrue(r.stderr.contains("--optimum-at"), r.stderr)
        }
        let one = dir + "/one.csv"
        try "N,D,C,loss\n1e5,2e6,1.2e12,3.0\n".write(toFile: one, atomically: true, encoding: .utf8)
        let r = try CLI.capture(["fit", one])
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssertTrue(r.stderr.contains("needs at least 6"), r.stderr)
        XCTAssertFalse(r.stdout.contains("a ="), r.stdout)
        let huge = dir + "/huge.csv"
        try "N,D,C,loss\n1e308,1e6,1e12,3.0\n".write(toFile: huge, atomically: true, encoding: .utf8)
        let h = try CLI.capture(["fit", huge])
        XCTAssertEqual(h.status, 1)
        XCTAssertTrue(h.stderr.contains("huge.csv line 2"), h.stderr)
        XCTAssertFalse((h.stdout + h.stderr).contains("nan"), h.stdout)
    }

    func testPredictRefusesBadBudgetsAndSizes() throws {
        let dir = try temporaryFolder()
        for args in [["--budget", "inf"], ["--budget", "0"], ["--budget", "1e12", "--sizes", "1,-2"], ["--budget", "1e12", "--centre", "1"]] {
            let r = try CLI.capture(["predict", "--store", dir + "/none.sqlite"] + args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
        }
        let r = try CLI.capture(["predict", "--store", dir + "/none.sqlite", "--budget", "1e12"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("none.sqlite"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/none.sqlite"), "a read of a missing store created it")
    }
}
