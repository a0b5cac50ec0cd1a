// The runs table: its CSV reads back through `isoflop fit`'s reader to the same runs (and so the
// same exponents), unfinished runs are listed but not fitted, and the JSON parses with nulls.
import Fit
import Foundation
import Report
import XCTest

final class RunsTableTests: XCTestCase {
    /// A sweep drawn from L = E + A/N^α + B/D^β under two schedules, with one run still planned
    /// and one diverged at the largest budget.
    func rows() -> [RunsTableRow] {
        var out: [RunsTableRow] = []
        for (s, schedule) in ["matched", "fixed"].enumerated() {
            for c in [1e12, 3e12, 1e13, 3e13] {
                for k in 0..<6 {
                    let n = (c / 6.6).squareRoot() * pow(3, Double(k) / 2.5 - 1)
                    let fpt = 6.6 * n
                    let steps = Int(c / fpt / 1024)
                    let d = steps * 1024
                    let loss = Synthetic.loss(parameters: n, tokens: Double(d)) + 0.01 * Double(s) + 0.003 * sin(Double(k) * 7 + c)
                    var row = RunsTableRow(
                        id: out.count + 1, sweep: "syn", key: "C=\(c) k=\(k) \(schedule)", schedule: schedule, budget: c,
                        d: 16 * (k + 1), layers: 1 + k / 3, headSize: 16, parameters: Int(n), nonEmbeddingParameters: Int(n * 0.6),
                        flopsPerToken: fpt, flopsPerToken6N: 6 * n.rounded(), steps: steps, tokens: d, flops: Double(d) * fpt,
                        epochs: Double(d) / 5.4e6, peakLR: 3e-3 / Double(k + 1), seed: 1, status: "done",
                        finalTrainLoss: loss - 0.01, finalEvalLoss: loss, tokensPerSecond: 1.5e5, wallSeconds: Double(d) / 1.5e5)
                    if c == 3e13 && k == 5 { row.status = "planned"; row.finalTrainLoss = nil; row.finalEvalLoss = nil; row.wallSeconds = nil }
                    if c == 3e13 && k == 0 && s == 1 { row.status = "diverged"; row.finalEvalLoss = nil }
                    out.append(row)
                }
            }
        }
        return out
    }

    func testCSVReadsBackIntoTheSameFitRunsAndExponents() throws {
        let table = rows()
        let text = runsTableCSV(table)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(String(lines[0]), runsTableColumns.joined(separator: ","))
        XCTAssertEqual(lines.count, table.count + 1)
        XCTAssertTrue(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == runsTableColumns.count })
        let parsed = try parseRunsCSV(text, source: "runs.csv")
        let done = table.filter { $0.status == "done" }
        XCTAssertEqual(parsed.count, done.count, "planned and diverged runs are listed, not fitted")
        for (p, r) in zip(parsed, done) {
            XCTAssertEqual(p.id, String(r.id))
            XCTAssertEqual(p.parameters, Double(r.parameters))
            XCTAssertEqual(p.nonEmbeddingParameters, Double(r.nonEmbeddingParameters))
            XCTAssertEqual(p.tokens, Double(r.tokens))
            XCTAssertEqual(p.flops, r.flops, "C reads back bit for bit")
            XCTAssertEqual(p.budget, r.budget)
            XCTAssertEqual(p.finalLoss, r.finalEvalLoss, "loss reads back bit for bit")
            XCTAssertEqual(p.schedule, r.schedule)
        }
        // Fitting what was read gives exactly the exponents of the runs as built (approaches 2, 3).
        let direct = done.filter { $0.schedule == "matched" }.map {
            FitRun(id: String($0.id), budget: $0.budget, parameters: Double($0.parameters),
                   nonEmbeddingParameters: Double($0.nonEmbeddingParameters), tokens: Double($0.tokens), flops: $0.flops,
                   finalLoss: $0.finalEvalLoss!, schedule: $0.schedule)
        }
        var options = FitOptions()
        options.approaches = [2, 3]
        let a = try fitScalingLaws(direct, options: options)
        let b = try fitScalingLaws(parsed.filter { $0.schedule == "matched" }, options: options)
        XCTAssertEqual(a.exponents.map(\.a.value), b.exponents.map(\.a.value))
        XCTAssertEqual(a.exponents.map(\.b.value), b.exponents.map(\.b.value))
        XCTAssertEqual(a.exponents.map(\.approach), [2, 3], "\(a.notes)")
        XCTAssertEqual(a.exponents[0].a.value, 0.5, accuracy: 0.1)
    }

    func testJSONHasEveryColumnWithNullsForMissing() throws {
        let table = rows()
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(runsTableJSON(table).utf8)) as? [[String: Any]])
        XCTAssertEqual(json.count, table.count)
        XCTAssertEqual(Set(json[0].keys), Set(runsTableColumns))
        let planned = try XCTUnwrap(json.first { $0["status"] as? String == "planned" })
        XCTAssertTrue(planned["loss"] is NSNull)
        XCTAssertTrue(planned["wall_seconds"] is NSNull)
        XCTAssertEqual(planned["N"] as? Int, table.first { $0.status == "planned" }!.parameters)
        let diverged = try XCTUnwrap(json.first { $0["status"] as? String == "diverged" })
        XCTAssertTrue(diverged["loss"] is NSNull, "a diverged run has no loss to fit")
        XCTAssertEqual(json[3]["C"] as? Double, table[3].flops)
        XCTAssertEqual(json[3]["key"] as? String, table[3].key)
    }

    /// Regression: the fit's reader matched headers ignoring case only, so `D` (tokens) read the
    /// width column `d` that comes first in a runs table.
    func testTokensColumnIsNotTheWidthColumn() throws {
        let runs = try parseRunsCSV("d,N,D,C,loss\n64,1000,50000,3e11,3.5\n", source: "t.csv")
        XCTAssertEqual(runs.map(\.tokens), [50000])
        XCTAssertEqual(try parseRunsCSV("n,d,c,LOSS\n1000,50000,3e11,3.5\n", source: "t.csv").map(\.tokens), [50000],
                       "other spellings still match up to case")
    }

    func testTextWithCommasIsQuoted() throws {
        var row = rows()[0]
        row.sweep = "a, \"b\""
        let line = runsTableCSV([row]).split(separator: "\n")[1]
        XCTAssertTrue(line.hasPrefix("1,\"a, \"\"b\"\"\","), String(line))
    }
}
