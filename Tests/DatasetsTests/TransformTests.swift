import Engine
import Foundation
import TestSupport
import XCTest
@testable import Datasets

final class TransformTests: XCTestCase {
    /// A 3×4 RGB image with distinct bytes: value = 10·(y·4 + x) + c + 1.
    let h = 3, w = 4, c = 3
    var image: [UInt8] { (0..<36).map { (i: Int) -> UInt8 in UInt8(10 * (i / 3) + i % 3 + 1) } }
    func px(_ y: Int, _ x: Int, _ k: Int) -> UInt8 { let v: Int = 10 * (y * 4 + x) + k + 1; return UInt8(v) }

    func testFlipExact() {
        var out = [UInt8](repeating: 0, count: 36)
        Transforms.hflip(&out, image, height: h, width: w, channels: c)
        for y in 0..<h { for x in 0..<w { for k in 0..<c {
            XCTAssertEqual(out[(y * w + x) * c + k], px(y, w - 1 - x, k))
        } } }
    }

    func testPadCropExactAgainstHandComputation() {
        // RandomCrop(size 3×4, padding 2) with draws i = 1, j = 3 → window corner (−1, 1).
        var out = [UInt8](repeating: 99, count: 36)
        Transforms.crop(&out, image, height: h, width: w, channels: c, outHeight: 3, outWidth: 4, top: 1 - 2, left: 3 - 2)
        // Row 0 is padding; rows 1, 2 are input rows 0, 1 shifted left by one, last column padding.
        var expected = [UInt8](repeating: 0, count: 36)
        for y in 1..<3 { for x in 0..<3 { for k in 0..<3 { expected[(y * 4 + x) * 3 + k] = px(y - 1, x + 1, k) } } }
        XCTAssertEqual(out, expected)
        // Fully outside: all zeros; fully inside with no padding: identity.
        Transforms.crop(&out, image, height: h, width: w, channels: c, outHeight: 3, outWidth: 4, top: 5, left: -9)
        XCTAssertEqual(out, Array(repeating: 0, count: 36))
        Transforms.crop(&out, image, height: h, width: w, channels: c, outHeight: 3, outWidth: 4, top: 0, left: 0)
        XCTAssertEqual(out, image)
    }

    func testCenterOffsetsFollowTorchvision() {
        // torchvision: int(round((h − th) / 2)) with Python's banker's rounding; pad (th − h)//2 when larger.
        XCTAssertEqual(Transforms.centerOffset(input: 32, output: 28), 2)
        XCTAssertEqual(Transforms.centerOffset(input: 5, output: 4), 0)   // round(0.5) = 0
        XCTAssertEqual(Transforms.centerOffset(input: 7, output: 4), 2)   // round(1.5) = 2
        XCTAssertEqual(Transforms.centerOffset(input: 4, output: 7), -1)  // pad left 1, right 2
    }

    func testNormalizeExact() {
        let mean: [Float] = [0.5071, 0.4867, 0.4408], std: [Float] = [0.2675, 0.2565, 0.2761]
        let table = Transforms.normalizeTable(mean: mean, std: std)
        var out = [Float](repeating: 0, count: 36)
        Transforms.normalize(&out, image, pixels: 12, channels: 3, table: table)
        for p in 0..<12 { for k in 0..<3 {
            // torchvision: x.float().div(255), then sub(mean).div(std), all float32.
            let v = Float(image[p * 3 + k]) / 255
            XCTAssertEqual(out[p * 3 + k], (v - mean[k]) / std[k])
        } }
        XCTAssertEqual(table[255], (1 - mean[0]) / std[0])
    }

    func testFusedCropFlipNormalizeEqualsComposition() {
        let table = Transforms.normalizeTable(mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2])
        for (top, left, flip) in [(-1, 1, true), (0, 0, false), (2, -3, true), (-2, 2, false)] {
            var cropped = [UInt8](repeating: 0, count: 36), flipped = cropped
            Transforms.crop(&cropped, image, height: h, width: w, channels: c, outHeight: 3, outWidth: 4, top: top, left: left)
            if flip { Transforms.hflip(&flipped, cropped, height: 3, width: 4, channels: 3) } else { flipped = cropped }
            var expected = [Float](repeating: 0, count: 36), fused = expected
            Transforms.normalize(&expected, flipped, pixels: 12, channels: 3, table: table)
            Transforms.cropFlipNormalize(&fused, image, height: h, width: w, channels: c, outHeight: 3, outWidth: 4,
                                         top: top, left: left, flip: flip, table: table)
            XCTAssertEqual(fused, expected, "top \(top) left \(left) flip \(flip)")
        }
    }

    // MARK: PIL resizing

    func resize(_ inp: [UInt8], _ h: Int, _ w: Int, _ c: Int, to oh: Int, _ ow: Int, _ filter: Interpolation) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: oh * ow * c)
        PILResampler().resize(&out, outHeight: oh, outWidth: ow, inp, inHeight: h, inWidth: w, channels: c, filter: filter)
        return out
    }

    /// PIL's filters: bicubic with a = −0.5 (torch's tensor kernel uses −0.75), bilinear the triangle.
    func testFilterWeights() {
        XCTAssertEqual(Interpolation.bicubic.weight(0), 1)
        XCTAssertEqual(Interpolation.bicubic.weight(0.5), 0.5625)      // (1.5·½ − 2.5)·¼ + 1
        XCTAssertEqual(Interpolation.bicubic.weight(-1.5), -0.0625)    // (((1.5 − 5)·1.5 + 8)·1.5 − 4)·(−0.5)
        XCTAssertEqual(Interpolation.bicubic.weight(2), 0)
        XCTAssertEqual(Interpolation.bilinear.weight(-0.25), 0.75)
        XCTAssertEqual(Interpolation.bilinear.weight(1), 0)
    }

    /// A 1×2 row [0, 255] to 1×4, by hand. Centres 0.25, 0.75, 1.25, 1.75 (scale ½).
    /// Bilinear: outputs 1 and 2 have weights (¾, ¼) and (¼, ¾): 63.75 → 64, 191.25 → 191.
    /// Bicubic: at centre 0.75 the taps are columns 0 and 1 only (PIL drops taps outside the image and
    /// renormalises, where torch clamps indices): weights W(−¼) = 0.8671875 and W(¾) = 0.2265625 over
    /// their sum, so 255 · 0.2265625 / 1.09375 = 52.8 → fixed point 868 820 / 2²² → 53; centre 0.25 gives
    /// a negative value, clamped to 0.
    func testHandValues() {
        XCTAssertEqual(resize([0, 255], 1, 2, 1, to: 1, 4, .bilinear), [0, 64, 191, 255])
        XCTAssertEqual(resize([0, 255], 1, 2, 1, to: 1, 4, .bicubic), [0, 53, 202, 255])
        // Downscaling widens the filter (antialiasing): 4 → 1 bilinear averages with weights
        // W((x − 2 + ½)/4) = ⅝, ⅞, ⅞, ⅝ over their sum 3: (0·5 + 40·7 + 80·7 + 120·5) / 24 = 60.
        XCTAssertEqual(resize([0, 40, 80, 120], 1, 4, 1, to: 1, 1, .bilinear), [60])
    }

    /// `Resize(size, BICUBIC)` at the reference's own sizes (CIFAR 32 → 128, Tiny ImageNet 64 → 160),
    /// byte for byte against Pillow (`AugmentFixtures.upscales`).
    func testUpscalesEqualPillow() {
        for u in AugmentFixtures.upscales {
            let inp = [UInt8](Data(base64Encoded: u.input)!), want = [UInt8](Data(base64Encoded: u.expected)!)
            let out = resize(inp, u.side, u.side, u.channels, to: u.size, u.size, .bicubic)
            let bad = (0..<out.count).filter { out[$0] != want[$0] }
            XCTAssert(bad.isEmpty, "\(u.name): \(bad.count) of \(out.count) bytes differ, first at "
                      + bad.prefix(4).map { "[\($0)] \(out[$0]) vs \(want[$0])" }.joined(separator: ", "))
        }
    }

    /// The same size is a copy; channels resize independently.
    func testIdentityAndChannels() {
        let r = Philox(seed: 3, purpose: .test)
        let a = (0..<9 * 7).map { UInt8(truncatingIfNeeded: r.bits(UInt64($0))) }
        XCTAssertEqual(resize(a, 9, 7, 1, to: 9, 7, .bicubic), a)
        let b = a.map { 255 - $0 }
        var two = [UInt8](repeating: 0, count: a.count * 2)
        for i in 0..<a.count { two[2 * i] = a[i]; two[2 * i + 1] = b[i] }
        let out = resize(two, 9, 7, 2, to: 20, 5, .bicubic)
        XCTAssertEqual((0..<100).map { out[2 * $0] }, resize(a, 9, 7, 1, to: 20, 5, .bicubic))
        XCTAssertEqual((0..<100).map { out[2 * $0 + 1] }, resize(b, 9, 7, 1, to: 20, 5, .bicubic))
    }
}
