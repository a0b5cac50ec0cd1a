import XCTest

final class SweepPlaceholderTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
