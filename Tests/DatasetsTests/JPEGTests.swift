import Foundation
import XCTest
import TestSupport
@testable import Datasets

final class JPEGTests: XCTestCase {
    /// A smooth w×h image with `components` channels (JPEG keeps smooth images nearly exact).
    func smooth(_ w: Int, _ h: Int, _ components: Int) -> [UInt8] {
        var px: [UInt8] = []
        for y in 0..<h { for x in 0..<w { for c in 0..<components {
            let v: Int = 40 + (x * 150) / w + (y * 50) / h + c * 10
            px.append(UInt8(v))
        } } }
        return px
    }

    func decode(_ bytes: [UInt8], minWidth: Int = 0, minHeight: Int = 0) throws -> (Int, Int, [UInt8]) {
        try bytes.withUnsafeBytes { raw in
            try JPEG.decode(raw, name: "mem.jpg", minWidth: minWidth, minHeight: minHeight) { p, w, h in
                (w, h, Array(UnsafeBufferPointer(start: p, count: w * h * 3)))
            }
        }
    }

    func maxDiff(_ a: [UInt8], _ b: [UInt8]) -> Int { zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0 }

    /// What the reference's loaders see (`Image.open(f).convert("RGB")`, `JPEGFixtures`): reported per
    /// file as the count of differing bytes and the largest difference.
    func testDecodeEqualsPillow() throws {
        for f in JPEGFixtures.files {
            let (w, h, out) = try decode([UInt8](Data(base64Encoded: f.jpeg)!))
            let want = [UInt8](Data(base64Encoded: f.rgb)!)
            XCTAssertEqual([w, h], [f.width, f.height], f.name)
            let bad = (0..<min(out.count, want.count)).filter { out[$0] != want[$0] }
            XCTAssert(bad.isEmpty, "\(f.name): \(bad.count) of \(out.count) bytes differ (max \(maxDiff(out, want))), first at "
                      + bad.prefix(4).map { "[\($0)] \(out[$0]) vs \(want[$0])" }.joined(separator: ", "))
        }
    }

    func testRGBRoundTrip() throws {
        let px = smooth(40, 24, 3)
        let (w, h, out) = try decode(JPEG.encode(px, width: 40, height: 24, components: 3, quality: 100))
        XCTAssertEqual([w, h], [40, 24])
        XCTAssertLessThanOrEqual(maxDiff(out, px), 4)
    }

    func testGreyBecomesRGB() throws {
        let px = smooth(16, 16, 1)
        let (_, _, out) = try decode(JPEG.encode(px, width: 16, height: 16, components: 1, quality: 100))
        for i in 0..<256 {
            XCTAssertEqual(out[3 * i], out[3 * i + 1]); XCTAssertEqual(out[3 * i], out[3 * i + 2])
            XCTAssertLessThanOrEqual(abs(Int(out[3 * i]) - Int(px[i])), 2)
        }
    }

    func testAdobeCMYKBecomesRGB() throws {
        // Stored (inverted) C, M, Y, K = 255, 0, 128, 255 → R, G, B = 255, 0, 128; K = 128 halves them.
        var px: [UInt8] = []
        for y in 0..<16 { for _ in 0..<16 { px += y < 8 ? [255, 0, 128, 255] : [200, 100, 50, 128] } }
        let (_, _, out) = try decode(JPEG.encode(px, width: 16, height: 16, components: 4, quality: 100))
        XCTAssertLessThanOrEqual(maxDiff(Array(out[0..<3]), [255, 0, 128]), 3)
        XCTAssertLessThanOrEqual(maxDiff(Array(out[(15 * 16) * 3..<(15 * 16) * 3 + 3]), [100, 50, 25]), 3)
    }

    func testDCTScalingPicksTheLargestScaleThatStaysBigEnough() throws {
        let jpeg = JPEG.encode(smooth(64, 48, 3), width: 64, height: 48, components: 3)
        XCTAssertEqual(try decode(jpeg, minWidth: 8, minHeight: 6).0, 8)      // 1/8
        XCTAssertEqual(try decode(jpeg, minWidth: 16, minHeight: 12).0, 16)   // 1/4
        XCTAssertEqual(try decode(jpeg, minWidth: 17, minHeight: 6).0, 32)    // 1/2
        XCTAssertEqual(try decode(jpeg, minWidth: 64, minHeight: 48).0, 64)   // full
        XCTAssertEqual(try decode(jpeg, minWidth: 16, minHeight: 25).1, 48)   // height decides
        let small = try decode(jpeg, minWidth: 16, minHeight: 12)
        XCTAssertLessThanOrEqual(abs(Int(small.2[0]) - 46), 6, "a 1/4 decode averages 4×4 blocks")
    }

    func testBrokenJPEGsAreErrorsNamingTheFile() throws {
        let good = JPEG.encode(smooth(32, 32, 3), width: 32, height: 32, components: 3)
        let dir = TempFolder()
        let cases: [(String, [UInt8], String)] = [
            ("garbage.jpg", Array("not a jpeg at all".utf8), "Not a JPEG file"),
            ("truncated.jpg", Array(good.prefix(good.count / 2)), "truncated"),
            ("header-only.jpg", Array(good.prefix(20)), "broken JPEG"),
            ("empty.jpg", [], "empty"),
        ]
        for (name, bytes, problem) in cases {
            let url = dir.write(name, bytes)
            assertThrowsMessage(try JPEG.decode(contentsOf: url), contains: [url.path, problem])
        }
        var damaged = good
        for i in 200..<min(260, damaged.count - 2) { damaged[i] = 0xff }   // markers inside entropy-coded data
        let url = dir.write("damaged.jpg", damaged)
        do { _ = try JPEG.decode(contentsOf: url) } catch { XCTAssert("\(error)".contains(url.path), "\(error)") }
    }
}
