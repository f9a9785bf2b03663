import XCTest

final class HarnessPlaceholderTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
