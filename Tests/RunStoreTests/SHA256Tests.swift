import RunStore
import XCTest

/// FIPS 180-4 example vectors (NIST "SHA-256 examples" and the long-message test).
final class SHA256Tests: XCTestCase {
    func testABC() {
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testEmpty() {
        XCTAssertEqual(SHA256.hex([UInt8]()),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testTwoBlockMessage() {
        // 448 bits: the padding spills into a second block.
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testMillionA() {
        // Fed in uneven pieces so the block buffering across `update` calls is exercised.
        var hasher = SHA256()
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 999)
        var left = 1_000_000
        while left > 0 {
            let n = min(left, piece.count - left % 7)
            piece[0..<n].withUnsafeBytes { hasher.update($0) }
            left -= n
        }
        XCTAssertEqual(SHA256.hexString(hasher.finalize()),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
