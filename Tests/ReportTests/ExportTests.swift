// Curve export: columns, smoothing columns, missing values, file naming.
import Foundation
import XCTest
import Report
import Sweep

final class ExportTests: XCTestCase {
    let run = RunCurve(runID: 7, sweep: "my sweep/1", schedule: "matched", budget: 1e12, parameters: 238_208, rows: [
        MetricRow(run: 0, step: 1, tokens: 4096, flops: 9.68e9, lr: 1e-4, trainLoss: 1, evalLoss: nil),
        MetricRow(run: 0, step: 2, tokens: 8192, flops: 1.936e10, lr: 2e-4, trainLoss: 2, evalLoss: 5),
        MetricRow(run: 0, step: 3, tokens: 12288, flops: 2.904e10, lr: 3e-4, trainLoss: 3, evalLoss: nil),
    ])

    func testCSVColumnsAndSmoothedValues() throws {
        let csv = try curvesCSV([run], options: ExportOptions(axis: .flops, emaWeight: 0.5, windowWidth: 3))
        let lines = csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines[0], "run,schedule,budget,flops,step,tokens,lr,train_loss,train_loss_ema,train_loss_window,"
                       + "eval_loss,eval_loss_ema,eval_loss_window")
        let f = lines[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(f[0], "7")
        XCTAssertEqual(Double(f[3]), 1.936e10)
        XCTAssertEqual(f[4], "2")
        XCTAssertEqual(Double(f[8])!, 5.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(Double(f[9])!, 2, accuracy: 1e-12)
        XCTAssertEqual(f[10], "5")
        XCTAssertEqual(Double(f[11])!, 5, accuracy: 1e-12)
        // No evaluation at step 1: empty fields.
        let g = lines[1].split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(g[10], "")
        XCTAssertEqual(g[11], "")
    }

    func testJSONParsesWithNullsForMissing() throws {
        let text = try curvesJSON([run, run], options: ExportOptions(format: .json, axis: .tokens, emaWeight: 0.5))
        let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        XCTAssertEqual(obj["axis"] as? String, "tokens")
        let runs = obj["runs"] as! [[String: Any]]
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(runs[0]["sweep"] as? String, "my sweep/1")
        XCTAssertEqual((runs[0]["tokens"] as! [Double]), [4096, 8192, 12288])
        let ema = runs[0]["train_loss_ema"] as! [Double]
        XCTAssertEqual(ema[2], 17.0 / 7.0, accuracy: 1e-12)
        let eval = runs[0]["eval_loss"] as! [Any]
        XCTAssertTrue(eval[0] is NSNull)
        XCTAssertEqual(eval[1] as? Double, 5)
    }

    func testFilesPerSweepAndPerRun() throws {
        let dir = NSTemporaryDirectory() + "isoflop-export-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var other = run
        other.runID = 8
        let perRun = try exportCurves([run, other], options: ExportOptions(grouping: .run), to: dir)
        XCTAssertEqual(perRun.map { ($0 as NSString).lastPathComponent }, ["my_sweep_1-run7.csv", "my_sweep_1-run8.csv"])
        let perSweep = try exportCurves([run, other], options: ExportOptions(format: .json, grouping: .sweep), to: dir)
        XCTAssertEqual(perSweep.map { ($0 as NSString).lastPathComponent }, ["my_sweep_1-curves.json"])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: perSweep[0]))) as! [String: Any]
        XCTAssertEqual((json["runs"] as! [Any]).count, 2)
        XCTAssertThrowsError(try exportCurves([run], options: ExportOptions(emaWeight: 2), to: dir))
    }

    /// Sweeps `a/b` and `a_b` map to the same safe name; each still gets its own file.
    func testSweepsWhoseSafeNamesCollideGetFilesOfTheirOwn() throws {
        let dir = NSTemporaryDirectory() + "isoflop-export-collide-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var a = run, b = run
        a.sweep = "a/b"
        b.sweep = "a_b"
        b.runID = 8
        for grouping in [ExportGrouping.sweep, .run] {
            var other = b
            if grouping == .run { other.runID = a.runID }
            let files = try exportCurves([a, other], options: ExportOptions(grouping: grouping), to: dir)
            XCTAssertEqual(Set(files).count, 2, "\(files)")
            XCTAssertTrue(files.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        }
    }
}
