import Engine
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

    // MARK: resize on a 4×4 image, x[y][x] = 13·(4y + x)

    let square: [Float] = (0..<16).map { Float(13 * $0) }

    func resized(_ kind: Interpolation, _ size: Int) -> [Float] {
        let plan = ResizePlan(kind, inHeight: 4, inWidth: 4, outHeight: size, outWidth: size)
        var out = [Float](repeating: 0, count: size * size)
        plan.apply(&out, square, channels: 1)
        return out
    }

    func testBilinearHandValues() {
        let out = resized(.bilinear, 3)
        // scale 4/3: source coordinates 1/6, 3/2, 17/6. The image is linear (13·(4y + x)) and
        // bilinear weights reproduce a linear function: value = 13·(4·sy + sx).
        let s: [Double] = [1.0 / 6, 1.5, 17.0 / 6]
        for y in 0..<3 { for x in 0..<3 {
            XCTAssertEqual(Double(out[y * 3 + x]), 13 * (4 * s[y] + s[x]), accuracy: 1e-4, "(\(y),\(x))")
        } }
        // Upscaling 4 → 6 (scale 2/3): sx = (2/3)(x + 0.5) − 0.5 = −1/6 (clamped to 0), 1/2, …, 19/6
        // (past the last column: column 3 twice).
        let up = resized(.bilinear, 6)
        XCTAssertEqual(up[0], 0)
        XCTAssertEqual(Double(up[1]), 13 * 0.5, accuracy: 1e-4)
        XCTAssertEqual(Double(up[5]), 39, accuracy: 1e-4)
    }

    func testBicubicHandValues() {
        let out = resized(.bicubic, 3)
        // Centre: source (1.5, 1.5), all four taps inside; Keys' kernel reproduces linear functions.
        XCTAssertEqual(Double(out[4]), 13 * (4 * 1.5 + 1.5), accuracy: 1e-4)
        // Corner: source (1/6, 1/6): taps −1…2 with −1 clamped to 0. By hand per axis, with
        // t = 1/6 and a = −0.75: w = [W(7/6), W(1/6), W(5/6), W(11/6)].
        func W(_ x: Double) -> Double {
            let a = -0.75, x = abs(x)
            return x <= 1 ? ((a + 2) * x - (a + 3)) * x * x + 1 : ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        }
        let t = 1.0 / 6, wts = [W(1 + t), W(t), W(1 - t), W(2 - t)], cols = [0, 0, 1, 2]
        var v = 0.0
        for j in 0..<4 { for k in 0..<4 { v += wts[j] * wts[k] * Double(square[cols[j] * 4 + cols[k]]) } }
        XCTAssertEqual(Double(out[0]), v, accuracy: 1e-4)
        XCTAssertEqual(Double(out[0]), 8.200229, accuracy: 1e-4)   // torch.nn.functional.interpolate
    }

    /// Values printed by PyTorch 2.15: F.interpolate(x, size, mode, align_corners=False) and
    /// torchvision.transforms.functional.resize(uint8, antialias=False).
    func testAgreesWithPyTorch() {
        let torch: [(Interpolation, Int, [Float], [UInt8])] = [
            (.bilinear, 3, [10.833335, 28.166668, 45.500004, 80.166664, 97.5, 114.833336, 149.5, 166.833344, 184.166672],
             [11, 28, 46, 80, 98, 115, 150, 167, 184]),
            (.bicubic, 3, [8.200229, 26.060186, 43.920151, 79.64006, 97.5, 115.359985, 151.07991, 168.93985, 186.799866],
             [8, 26, 44, 80, 98, 115, 151, 169, 187]),
            (.bilinear, 6, [0.0, 6.5, 15.166668, 23.833334, 32.5, 39.0, 26.0, 32.5, 41.166668, 49.833332, 58.5, 65.0,
                            60.666672, 67.166672, 75.833336, 84.500008, 93.166672, 99.666672, 95.333336, 101.833336,
                            110.5, 119.166672, 127.833336, 134.333328, 130.0, 136.5, 145.166672, 153.833328, 162.5, 169.0,
                            156.0, 162.5, 171.166656, 179.833328, 188.5, 195.0],
             [0, 6, 15, 24, 32, 39, 26, 32, 41, 50, 58, 65, 61, 67, 76, 85, 93, 100, 95, 102, 110, 119, 128, 134,
              130, 136, 145, 154, 162, 169, 156, 162, 171, 180, 188, 195]),
            (.bicubic, 6, [-5.642364, 0.76736, 11.254627, 18.717594, 29.204866, 35.61459, 19.996529, 26.40625, 36.89352,
                           44.356487, 54.84375, 61.253471, 61.945602, 68.355309, 78.84259, 86.305565, 96.792809,
                           103.202538, 91.79747, 98.207176, 108.694458, 116.157433, 126.644684, 133.054398, 133.746552,
                           140.15625, 150.643524, 158.106506, 168.59375, 175.003494, 159.385452, 165.795151, 176.28244,
                           183.745422, 194.232651, 200.642395],
             [0, 1, 11, 19, 29, 36, 20, 26, 37, 44, 55, 61, 62, 68, 79, 86, 97, 103, 92, 98, 109, 116, 127, 133,
              134, 140, 151, 158, 169, 175, 159, 166, 176, 184, 194, 201]),
        ]
        for (kind, size, floats, bytes) in torch {
            assertClose(resized(kind, size), floats, rtol: 1e-6, atol: 1e-5, "\(kind) 4→\(size)")
            let plan = ResizePlan(kind, inHeight: 4, inWidth: 4, outHeight: size, outWidth: size)
            var scratch = [Float](repeating: 0, count: plan.scratchCount(channels: 1))
            var out = [UInt8](repeating: 0, count: size * size)
            plan.apply(&out, square.map { UInt8($0) }, channels: 1, scratch: &scratch)
            // Exact except at rounding ties (x.5 ± 1e-4), where PyTorch's own result depends on
            // which of its kernels runs (vectorised or generic, chosen by size and thread count).
            for i in 0..<out.count {
                let tie = abs(floats[i] - floats[i].rounded(.down) - 0.5) < 1e-4
                XCTAssertLessThanOrEqual(abs(Int(out[i]) - Int(bytes[i])), tie ? 1 : 0, "\(kind) 4→\(size) uint8 [\(i)]")
            }
        }
    }

    /// The two-pass kernel does the reference's float operations in the same order: equal bits.
    func testTwoPassEqualsReferenceBitwise() {
        let r = Philox(seed: 3, purpose: .test)
        for (kind, ih, iw, oh, ow, c) in [(Interpolation.bicubic, 32, 32, 128, 128, 3), (.bilinear, 28, 28, 36, 20, 1),
                                          (.bicubic, 17, 9, 5, 23, 2), (.bilinear, 64, 48, 7, 64, 3)] {
            let x = (0..<ih * iw * c).map { Float(r.uniform(UInt64($0)) * 255) }
            let plan = ResizePlan(kind, inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow)
            var fast = [Float](repeating: 0, count: oh * ow * c), ref = fast
            plan.apply(&fast, x, channels: c)
            plan.applyReference(&ref, x, channels: c)
            XCTAssertEqual(fast.map(\.bitPattern), ref.map(\.bitPattern), "\(kind) \(ih)×\(iw) → \(oh)×\(ow)×\(c)")
        }
    }

    func testResizeChannelsAreIndependent() {
        // A 2-channel image whose channels are the square and its negation must resize to the
        // same values and their negation.
        var two = [Float](repeating: 0, count: 32)
        for i in 0..<16 { two[2 * i] = square[i]; two[2 * i + 1] = -square[i] }
        let plan = ResizePlan(.bicubic, inHeight: 4, inWidth: 4, outHeight: 5, outWidth: 7)
        var out = [Float](repeating: 0, count: 70)
        plan.apply(&out, two, channels: 2)
        let one = ResizePlan(.bicubic, inHeight: 4, inWidth: 4, outHeight: 5, outWidth: 7)
        var ref = [Float](repeating: 0, count: 35)
        one.apply(&ref, square, channels: 1)
        XCTAssertEqual((0..<35).map { out[2 * $0] }, ref)
        XCTAssertEqual((0..<35).map { out[2 * $0 + 1] }, ref.map { -$0 })
    }
}
