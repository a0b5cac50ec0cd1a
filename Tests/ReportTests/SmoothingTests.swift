// Smoothing against hand-computed values.
import XCTest
import Report

final class SmoothingTests: XCTestCase {
    func testDebiasedEMAFirstPoints() throws {
        // w = 0.5: ema = 0.5, 1.25, 2.125; debias by 0.5, 0.75, 0.875.
        let out = try debiasedEMA([1, 2, 3], weight: 0.5)
        XCTAssertEqual(out[0], 1, accuracy: 1e-12)
        XCTAssertEqual(out[1], 5.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(out[2], 17.0 / 7.0, accuracy: 1e-12)
    }

    func testEMAOfConstantIsConstantAndZeroWeightIsIdentity() throws {
        for v in try debiasedEMA([4, 4, 4, 4, 4], weight: 0.9) { XCTAssertEqual(v, 4, accuracy: 1e-12) }
        XCTAssertEqual(try debiasedEMA([3, 1, 2], weight: 0), [3, 1, 2])
    }

    func testEMASkipsMissingValues() throws {
        let out = try debiasedEMA([1, .nan, 2, .nan, 3], weight: 0.5)
        XCTAssertTrue(out[1].isNaN && out[3].isNaN)
        XCTAssertEqual(out[0], 1, accuracy: 1e-12)
        XCTAssertEqual(out[2], 5.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(out[4], 17.0 / 7.0, accuracy: 1e-12)
    }

    func testCentredWindowShrinksSymmetricallyAtEnds() throws {
        let x: [Double] = [1, 4, 2, 8, 5]
        let w3 = try centredMovingAverage(x, width: 3)
        let want3: [Double] = [1, 7.0 / 3, 14.0 / 3, 5, 5]
        for (a, b) in zip(w3, want3) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        let w5 = try centredMovingAverage(x, width: 5)
        let want5: [Double] = [1, 7.0 / 3, 4, 5, 5]
        for (a, b) in zip(w5, want5) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }

    func testCentredWindowKeepsLinearTrend() throws {
        let x = (0..<20).map { 3.0 - 0.1 * Double($0) }
        for (a, b) in zip(try centredMovingAverage(x, width: 7), x) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }

    func testBadParametersThrow() {
        XCTAssertThrowsError(try debiasedEMA([1], weight: 1)) { XCTAssertEqual($0 as? SmoothingError, .weightOutOfRange(1)) }
        XCTAssertThrowsError(try debiasedEMA([1], weight: -0.1))
        XCTAssertThrowsError(try centredMovingAverage([1], width: 4)) {
            XCTAssertEqual($0 as? SmoothingError, .evenOrNonPositiveWidth(4))
        }
        XCTAssertThrowsError(try centredMovingAverage([1], width: 0))
    }
}
