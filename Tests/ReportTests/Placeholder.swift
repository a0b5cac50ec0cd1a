import XCTest

final class ReportPlaceholderTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
