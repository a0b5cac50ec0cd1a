import XCTest

final class AutogradPlaceholderTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
