// The workers' busy share that `sweep run` prints at its end: how much of workers × wall time
// runs were held, the sweep's tail included.
import XCTest
@testable import Study

final class BusyShareTests: XCTestCase {
    func testBusyShareCountsHeldTimeInsideTheWindow() throws {
        // Two workers over 100 s: one busy throughout (two runs back to back), the other idle for
        // its last 20 s (a tail on one core), so 180 of 200 worker-seconds were held.
        let runs = [(start: 0.0, end: 60.0), (start: 60.0, end: 100.0), (start: 0.0, end: 80.0)]
        XCTAssertEqual(try XCTUnwrap(busyShare(runs, from: 0, to: 100, workers: 2)), 0.9, accuracy: 1e-12)
        // A run of an earlier call counts only inside this call's window.
        XCTAssertEqual(try XCTUnwrap(busyShare([(start: -50, end: 50)], from: 0, to: 100, workers: 1)), 0.5, accuracy: 1e-12)
        XCTAssertEqual(busyShare([(start: 0, end: 300)], from: 0, to: 100, workers: 1), 1)
        XCTAssertNil(busyShare(runs, from: 100, to: 100, workers: 2))
        XCTAssertNil(busyShare(runs, from: 0, to: 100, workers: 0))
    }
}
