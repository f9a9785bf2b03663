import XCTest
@testable import Harness

final class ReadmeBlockTests: XCTestCase {
    private let readme = """
        # RKAN repro ✓ café\u{301}
        Intro text.\r
        <!-- rkan-repro:cifar100 -->
        old cifar table
        <!-- /rkan-repro:cifar100 -->
        Between. 👩‍👩‍👧
        <!-- rkan-repro:fashion-mnist --><!-- /rkan-repro:fashion-mnist -->
        Trailer without newline
        """

    func testReplacesOnlyTheNamedBlock() throws {
        let out = try ReadmeBlock.replace(in: readme, suite: "cifar100", with: "| a | b |\n|---|---|\n")
        let (start, end) = ReadmeBlock.markers(suite: "cifar100")
        let before = readme.components(separatedBy: start)[0], after = readme.components(separatedBy: end)[1]
        XCTAssertEqual(out, before + start + "\n| a | b |\n|---|---|\n" + end + after)
        XCTAssertTrue(Array(out.utf8).starts(with: Array((before + start).utf8)), "bytes before the block unchanged")
        XCTAssertTrue(Array(out.utf8).reversed().starts(with: Array((end + after).utf8).reversed()), "bytes after unchanged")
    }

    func testReplacingTwiceIsByteStable() throws {
        let once = try ReadmeBlock.replace(in: readme, suite: "fashion-mnist", with: "table\n")
        let twice = try ReadmeBlock.replace(in: once, suite: "fashion-mnist", with: "table\n")
        XCTAssertEqual(Array(once.utf8), Array(twice.utf8))
        XCTAssertEqual(try ReadmeBlock.replace(in: once, suite: "fashion-mnist", with: "table"), once,
                       "a trailing newline of the block does not change the result")
        XCTAssertTrue(once.contains("<!-- rkan-repro:fashion-mnist -->\ntable\n<!-- /rkan-repro:fashion-mnist -->"))
        XCTAssertTrue(once.contains("old cifar table"), "other suite's block untouched")
        XCTAssertTrue(once.contains("Intro text.\r\n"), "CR LF kept")
        XCTAssertTrue(once.contains("café\u{301}") && once.contains("👩‍👩‍👧"))
    }

    func testMissingMarkersSayWhatToAdd() {
        XCTAssertThrowsError(try ReadmeBlock.replace(in: readme, suite: "imagenet", with: "x")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("<!-- rkan-repro:imagenet -->") && text.contains("<!-- /rkan-repro:imagenet -->"), text)
            XCTAssertTrue(text.contains("missing"), text)
        }
        let reversed = "<!-- /rkan-repro:a -->\n<!-- rkan-repro:a -->\n"
        XCTAssertThrowsError(try ReadmeBlock.replace(in: reversed, suite: "a", with: "x")) { error in
            XCTAssertTrue("\(error)".contains("before the start"), "\(error)")
        }
        let doubled = "<!-- rkan-repro:a -->\n<!-- /rkan-repro:a -->\n<!-- rkan-repro:a -->\n"
        XCTAssertThrowsError(try ReadmeBlock.replace(in: doubled, suite: "a", with: "x")) { error in
            XCTAssertTrue("\(error)".contains("more than once"), "\(error)")
        }
    }
}
