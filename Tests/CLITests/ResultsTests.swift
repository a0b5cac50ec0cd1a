// The commands that read results, on a store holding two sweeps (trained with --dry-run, so in
// seconds): without --sweep they refuse and list the sweeps; with it they read that sweep only;
// the runs table fits to the same exponents as the store; `sweep run --report` leaves a page.
import Fit
import Foundation
import XCTest

final class ResultsTests: XCTestCase {
    func testTwoSweepsInOneStore() throws {
        let dir = try temporaryFolder()
        let quick = try String(contentsOfFile: CLI.root.appendingPathComponent("configs/quick.toml").path, encoding: .utf8)
        let other = quick.replacingOccurrences(of: "name = \"quick\"", with: "name = \"other\"")
            .replacingOccurrences(of: "budgets = [1e11, 2e11, 3e11]", with: "budgets = [1e11, 3e11]")
        XCTAssertNotEqual(other, quick)
        try other.write(toFile: dir + "/other.toml", atomically: true, encoding: .utf8)
        let store = dir + "/two.sqlite", live = dir + "/live"
        var r = try CLI.capture(["sweep", "run", "configs/quick.toml", "--store", store, "--dry-run", "100", "--workers", "2", "--report", live])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CLI.capture(["sweep", "run", dir + "/other.toml", "--store", store, "--dry-run", "100", "--workers", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)

        // The page `sweep run --report` kept: finished, so stamped and not reloading.
        let page = try String(contentsOfFile: live + "/index.html", encoding: .utf8)
        XCTAssertTrue(page.contains("Every run of the sweep has ended."))
        XCTAssertFalse(page.contains("http-equiv"))

        for args in [["report", "--out", dir + "/r"], ["fit"], ["export", "--out", dir + "/e"], ["compare", "--bootstrap", "0"]] {
            r = try CLI.capture(args + ["--store", store])
            XCTAssertNotEqual(r.status, 0, "\(args[0]) mixed two sweeps")
            XCTAssertTrue(r.stderr.contains("the store holds 2 sweeps (quick, other); name one with --sweep"), "\(args[0]): \(r.stderr)")
            r = try CLI.capture(args + ["--store", store, "--sweep", "nope"])
            XCTAssertTrue(r.stderr.contains("no sweep named 'nope'"), "\(args[0]): \(r.stderr)")
        }

        // compare writes budgets as every other command does (it printed 1.2e12 as "1e+12").
        r = try CLI.capture(["compare", "--store", store, "--sweep", "other", "--bootstrap", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
        XCTAssertTrue(rows.contains("1e11") && rows.contains("3e11"), r.stdout)
        XCTAssertFalse(r.stdout.contains("e+"), r.stdout)

        // The report of one sweep lists its runs only.
        r = try CLI.capture(["report", "--store", store, "--sweep", "other", "--out", dir + "/r", "--bootstrap", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let html = try String(contentsOfFile: dir + "/r/index.html", encoding: .utf8)
        let table = html.components(separatedBy: "id=\"run-table\"")[1].components(separatedBy: "</table>")[0]
        XCTAssertEqual(table.components(separatedBy: "<tr>").count - 2, 12, "other's 2 budgets × 3 sizes × 2 schedules")

        // The runs table: one row per run of the chosen sweep, and `fit` on it agrees with the store.
        r = try CLI.capture(["export", "--store", store, "--sweep", "quick", "--runs", "--out", dir + "/e"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let csv = dir + "/e/quick-runs.csv"
        XCTAssertEqual(try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").count, 19)
        var exponents: [String: [Double]] = [:]
        for schedule in ["matched", "fixed"] {
            for (name, input) in [("store", ["--store", store, "--sweep", "quick"]), ("csv", [csv])] {
                let json = dir + "/\(schedule)-\(name).json"
                r = try CLI.capture(["fit"] + input + ["--schedule", schedule, "--approach", "2", "--json", json])
                XCTAssertEqual(r.status, 0, r.stderr)
                let approach3 = dir + "/\(schedule)-\(name)-3.json"
                r = try CLI.capture(["fit"] + input + ["--schedule", schedule, "--approach", "3", "--json", approach3])
                XCTAssertEqual(r.status, 0, r.stderr)
                let reports = try decodeJSON(Data(contentsOf: URL(fileURLWithPath: json)))
                    + decodeJSON(Data(contentsOf: URL(fileURLWithPath: approach3)))
                exponents["\(schedule) \(name)"] = reports.flatMap { $0.exponents.flatMap { [$0.a.value, $0.b.value] } }
            }
            XCTAssertEqual(exponents["\(schedule) store"]?.count, 8, "approaches 2 and 3, a and b, both conventions")
            XCTAssertEqual(exponents["\(schedule) csv"], exponents["\(schedule) store"], schedule)
        }
        // A CSV holding several schedules is fitted one schedule at a time (it used to mix them,
        // ignoring --schedule).
        r = try CLI.capture(["fit", csv, "--schedule", "wsd"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no runs with schedule 'wsd' (the file has fixed, matched)"), r.stderr)
    }
}
