import XCTest

final class FitPlaceholderTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
