import Engine
import Foundation
import XCTest
@testable import Datasets

/// PIL resizing against Pillow through torchvision (`AugmentFixtures.resizes`) and RandomResizedCrop's box choice.
final class ResizedCropTests: XCTestCase {
    func bytes(_ b64: String) -> [UInt8] { [UInt8](Data(base64Encoded: b64)!) }

    /// resize, resized_crop and resize + center_crop on PIL images: byte for byte.
    func testResizesEqualPillow() {
        let inp = bytes(AugmentFixtures.resizeInput)
        let resampler = PILResampler()
        for r in AugmentFixtures.resizes {
            let want = bytes(r.expected)
            var out = [UInt8](repeating: 7, count: r.outHeight * r.outWidth * 3)
            resampler.resize(&out, outHeight: r.outHeight, outWidth: r.outWidth, inp, inHeight: 23, inWidth: 31, channels: 3,
                             top: r.top, left: r.left, height: r.height, width: r.width, fullHeight: r.fullHeight,
                             fullWidth: r.fullWidth, rowOffset: r.rowOffset, colOffset: r.colOffset,
                             filter: Interpolation(rawValue: r.filter)!)
            XCTAssertEqual(out.count, want.count, r.name)
            let bad = (0..<min(out.count, want.count)).filter { out[$0] != want[$0] }
            XCTAssert(bad.isEmpty, "\(r.name): \(bad.count) of \(out.count) bytes differ, first at "
                      + bad.prefix(4).map { "[\($0)] \(out[$0]) vs \(want[$0])" }.joined(separator: ", "))
        }
    }

    /// The same size is the identity; torchvision's shorter-side sizes.
    func testResizeIdentityAndShorterSide() {
        let r = Philox(seed: 1, purpose: .test)
        let img = (0..<5 * 7 * 3).map { UInt8(truncatingIfNeeded: r.bits(UInt64($0))) }
        var out = [UInt8](repeating: 0, count: img.count)
        PILResampler().resize(&out, outHeight: 5, outWidth: 7, img, inHeight: 5, inWidth: 7, channels: 3,
                                    top: 0, left: 0, height: 5, width: 7, fullHeight: 5, fullWidth: 7)
        XCTAssertEqual(out, img)
        XCTAssert(RandomResizedCrop.shorterSide(256, height: 375, width: 500) == (256, 341))
        XCTAssert(RandomResizedCrop.shorterSide(256, height: 500, width: 333) == (384, 256))
        XCTAssert(RandomResizedCrop.shorterSide(280, height: 512, width: 512) == (280, 280))
    }

    /// torchvision's fallback box, and attempts that stay inside the image with the documented draws.
    func testRandomResizedCropBoxes() {
        // No attempt can fit a 100×10 strip (w ≤ 10 needs area·ratio ≤ 100): centred box with ratio 3/4.
        XCTAssertEqual(RandomResizedCrop.fallback(height: 100, width: 10), .init(top: 43, left: 0, height: 13, width: 10))
        XCTAssertEqual(RandomResizedCrop.fallback(height: 10, width: 100), .init(top: 0, left: 43, height: 10, width: 13))
        XCTAssertEqual(RandomResizedCrop.fallback(height: 30, width: 35), .init(top: 0, left: 0, height: 30, width: 35))
        for i in 0..<200 {
            let rng = Philox(seed: 9, purpose: .augment, index: UInt64(i))
            let (h, w) = (100 + i % 7 * 50, 400 - i % 5 * 40)
            let b = RandomResizedCrop.box(height: h, width: w, rng: rng)
            XCTAssert(b.top >= 0 && b.left >= 0 && b.top + b.height <= h && b.left + b.width <= w, "\(b) in \(h)×\(w)")
            // Recompute the first attempt from its draws: if it fits, it is the box.
            let area = Double(h * w) * (0.08 + 0.92 * rng.uniform(32))
            let ratio = exp(log(0.75) + (log(4.0 / 3) - log(0.75)) * rng.uniform(33))
            let w0 = Int((area * ratio).squareRoot().rounded(.toNearestOrEven))
            let h0 = Int((area / ratio).squareRoot().rounded(.toNearestOrEven))
            if w0 <= w && h0 <= h {
                XCTAssertEqual(b, .init(top: rng.below(h - h0 + 1, 34), left: rng.below(w - w0 + 1, 35), height: h0, width: w0))
            }
        }
    }
}
