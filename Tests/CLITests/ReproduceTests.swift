// The main job end to end: `isoflop reproduce` on the quick config, in a folder of its own, leaves
// a report, its figures and the fitted JSON with finite numbers in sensible ranges; run again, it
// only rebuilds the report.
import Fit
#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation
import Sweep
import XCTest

extension EndToEndTests {
    func testReproduceOnTheQuickConfigWritesAReportWithFiniteResults() throws {
        let dir = try temporaryFolder()
        let fm = FileManager.default
        for link in ["data", "configs"] {
            let target = Self.root.appendingPathComponent(link).path
            if link == "data" { try fm.createDirectory(atPath: target, withIntermediateDirectories: true) }
            try fm.createSymbolicLink(atPath: dir + "/" + link, withDestinationPath: target)
        }
        let args = ["reproduce", "--config", "configs/quick.toml", "--out", "out", "--bootstrap", "40", "--horizon-steps", "120"]
        XCTAssertEqual(try CLI.run(args, in: dir), 0)

        // The report: a page that shows every figure, and figures with no non-finite number in them.
        let out = dir + "/out"
        let html = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        let figures = try fm.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".svg") }.sorted()
        XCTAssertGreaterThanOrEqual(figures.count, 4, "figures: \(figures)")
        for name in figures {
            let svg = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
            XCTAssertTrue(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"), name)
            XCTAssertTrue(svg.contains("</svg>"), name)
            for bad in ["NaN", "nan", "inf"] {
                XCTAssertFalse(svg.contains("=\"\(bad)") || svg.contains(" \(bad) ") || svg.contains(",\(bad)"), "\(name) holds \(bad)")
            }
            XCTAssertNoThrow(try XMLDocument(data: Data(svg.utf8)), "\(name) is not well-formed XML")
        }
        XCTAssertTrue(html.contains("<svg") || figures.allSatisfy { html.contains($0) })
        XCTAssertFalse(html.contains("http://") && html.contains("<script src"), "the page must open without a network")

        // The fits: both schedules, both bootstrap designs, every approach, finite and in range.
        for schedule in ["matched", "fixed"] {
            for suffix in ["", "-runs"] {
                let path = "\(out)/fit-\(schedule)\(suffix).json"
                let reports = try decodeJSON(Data(contentsOf: URL(fileURLWithPath: path)))
                // Both parameter conventions: all parameters, and non-embedding ones.
                XCTAssertEqual(reports.map(\.convention), [.total, .nonEmbedding], path)
                for report in reports {
                    XCTAssertEqual(report.budgets, [1e11, 2e11, 3e11], path)
                    XCTAssertEqual(report.bootstrapMethod, suffix.isEmpty ? .residuals : .runs, path)
                    XCTAssertEqual(report.exponents.map(\.approach), [1, 2, 3], path)
                    for e in report.exponents {
                        // Approach 1's envelope on three tiny budgets may sit on one shape (a ≈ 0); the
                        // parabolas and the parametric law must find N_opt and D_opt growing with
                        // compute. (a + b is not 1 here: at these sizes FLOPs per token are far from 6N.)
                        let low = e.approach == 1 ? -0.5 : 0
                        XCTAssertTrue(e.a.value.isFinite && e.a.value > low && e.a.value < 1.5, "\(path) approach \(e.approach) a=\(e.a.value)")
                        XCTAssertTrue(e.b.value.isFinite && e.b.value > low && e.b.value < 1.5, "\(path) approach \(e.approach) b=\(e.b.value)")
                        if let i = e.a.interval95 {
                            XCTAssertTrue(i.lower.isFinite && i.upper.isFinite && i.lower <= i.upper, path)
                        } else {
                            // Only the residual bootstrap of a sweep with three sizes per budget has none.
                            XCTAssertEqual(report.bootstrapMethod, .residuals, path)
                            XCTAssertTrue(report.notes.contains { $0.contains("no residuals to resample") }, path)
                        }
                    }
                    let law = try XCTUnwrap(report.approach3?.law, path)
                    // The irreducible loss lies between 0 and the loss of a uniform guess over 512 tokens.
                    XCTAssertTrue(law.E > 0 && law.E < log(512.0), "\(path) E=\(law.E)")
                    for p in try XCTUnwrap(report.approach2?.profiles, path) where p.included {
                        XCTAssertTrue(p.lossAtOptimum > 2 && p.lossAtOptimum < log(512.0), "\(path) loss \(p.lossAtOptimum)")
                    }
                }
            }
        }
        let horizon = try String(contentsOfFile: out + "/horizon.csv", encoding: .utf8)
        XCTAssertEqual(Set(horizon.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[0] }), ["1.0", "1.5", "2.0", "5.0"])

        // Rerun after completion: nothing is trained again, the report is rebuilt.
        let store = try SQLiteRunStore(path: dir + "/runs/quick/sweep.sqlite")
        let before = try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "quick")))
        XCTAssertTrue(before.allSatisfy { $0.status == .done })
        try fm.removeItem(atPath: out + "/index.html")
        XCTAssertEqual(try CLI.run(args, in: dir), 0)
        let after = try store.runs(sweep: try XCTUnwrap(store.sweepID(named: "quick")))
        XCTAssertEqual(after.map(\.ended), before.map(\.ended))
        XCTAssertEqual(after.map(\.attempts), before.map(\.attempts))
        XCTAssertTrue(fm.fileExists(atPath: out + "/index.html"))
    }
}
