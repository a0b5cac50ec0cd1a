import XCTest

final class TensorPlaceholderTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
