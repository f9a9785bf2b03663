import XCTest

final class ZooPlaceholderTests: XCTestCase {
    func testBuilds() { XCTAssertTrue(true) }
}
