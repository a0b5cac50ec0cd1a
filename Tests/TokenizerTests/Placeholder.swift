import XCTest

final class TokenizerPlaceholderTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
