// `isoflop horizon`'s CSV read back for the report: one curve per cycle, and errors that name
// the file and the line.
import Foundation
import Report
import XCTest

final class HorizonCSVTests: XCTestCase {
    func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "isoflop-horizon-\(UUID().uuidString).csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testCurvesComeOnePerCycleInOrderOfLength() throws {
        let path = try write("cycle,step,lr,eval_loss\n2,10,0.01,3.5\n1,10,0.01,3.4\n2,20,0.005,3.1\n1,20,0.001,3.0\n")
        let curves = try readHorizonCSV(path)
        XCTAssertEqual(curves.map(\.cycle), [1, 2])
        XCTAssertEqual(curves[0].steps, [10, 20])
        XCTAssertEqual(curves[0].loss, [3.4, 3.0])
        XCTAssertEqual(curves[1].loss, [3.5, 3.1])
    }

    func testBadRowsAndEmptyFilesNameTheFileAndLine() throws {
        var path = try write("cycle,step,lr,eval_loss\n1,10,0.01\n")
        XCTAssertThrowsError(try readHorizonCSV(path)) {
            XCTAssertEqual($0 as? HorizonCSVError, .badRow(path: path, line: 2, text: "1,10,0.01"))
            XCTAssertEqual("\($0)", "\(path):2: expected cycle,step,lr,eval_loss, found '1,10,0.01'")
        }
        path = try write("cycle,step,lr,eval_loss\n1,10,0.01,3\nnan,10,0.01,3\n")
        XCTAssertThrowsError(try readHorizonCSV(path)) {
            XCTAssertEqual($0 as? HorizonCSVError, .badValue(path: path, line: 3, text: "nan,10,0.01,3"))
        }
        path = try write("cycle,step,lr,eval_loss\n")
        XCTAssertThrowsError(try readHorizonCSV(path)) { XCTAssertEqual($0 as? HorizonCSVError, .empty(path: path)) }
        XCTAssertThrowsError(try readHorizonCSV(path + ".missing")) {
            XCTAssertTrue("\($0)".hasPrefix("\(path).missing: cannot read the horizon curves ("), "\($0)")
        }
    }
}
