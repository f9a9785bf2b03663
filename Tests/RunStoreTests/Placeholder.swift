import XCTest

final class RunStorePlaceholderTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
