import Engine
import XCTest
@testable import COCO

/// The notebook's training augmentation with albumentations' semantics (flip, scale, colour
/// jitter, min_visibility), checked on hand-made images and on the draw statistics.
final class NotebookAugmentTests: XCTestCase {
    /// A w×h image whose pixel (x, y) is (x, y, 7), with one box and its mask.
    func sample(w: Int, h: Int, box: [Double], mask: (Int, Int) -> Bool) -> NotebookAugment.Sample {
        var pixels: [UInt8] = []
        for y in 0..<h { for x in 0..<w { pixels += [UInt8(x), UInt8(y), 7] } }
        var m: [UInt8] = []
        for y in 0..<h { for x in 0..<w { m.append(mask(x, y) ? 1 : 0) } }
        let t = NotebookTargets.Target(imageID: 1, height: h, width: w, boxes: box, labels: [3], masks: m, annotations: [0])
        return .init(width: w, height: h, pixels: pixels, target: t)
    }

    func testFlipMirrorsImageMaskAndBox() {
        let s = sample(w: 5, h: 2, box: [1, 0, 2.5, 2]) { x, _ in x == 1 || x == 2 }
        let o = NotebookAugment.apply(.init(flip: true, scale: nil, jitter: nil), to: s)
        XCTAssertEqual(o.target.boxes, [(1 - 2.5 / 5) * 5, 0, (1 - 1.0 / 5) * 5, 2], "x1' = w − x2, x2' = w − x1 (in normalised coordinates)")
        XCTAssertEqual(Array(o.pixels[0..<3]), [4, 0, 7])
        XCTAssertEqual(Array(o.target.masks[0..<5]), [0, 0, 1, 1, 0])
        XCTAssertEqual(o.target.labels, [3])
    }

    func testScaleSizesMaskNearestAndBoxes() {
        let s = sample(w: 10, h: 7, box: [2, 1, 6, 5]) { x, y in x >= 2 && x < 6 && y >= 1 && y < 5 }
        let o = NotebookAugment.apply(.init(flip: false, scale: 1.09, jitter: nil), to: s)
        XCTAssertEqual([o.width, o.height], [10, 7], "int(10·1.09) = 10, int(7·1.09) = 7")
        let big = NotebookAugment.apply(.init(flip: false, scale: 1.1, jitter: nil), to: s)
        XCTAssertEqual([big.width, big.height], [11, 7])
        let x1: Double = 2.0 / 10 * 11, y1: Double = 1.0 / 7 * 7, x2: Double = 6.0 / 10 * 11, y2: Double = 5.0 / 7 * 7
        XCTAssertEqual(big.target.boxes, [x1, y1, x2, y2])
        // Nearest: destination column x reads source floor(x · 10/11).
        let row = Array(big.target.masks[2 * 11..<3 * 11])
        let step: Double = 1 / (11.0 / 10.0)
        let expected: [UInt8] = (0..<11).map { x in
            let sx = Int((Double(x) * step).rounded(.down))
            return sx >= 2 && sx < 6 ? 1 : 0
        }
        XCTAssertEqual(row, expected)
        let small = NotebookAugment.apply(.init(flip: false, scale: 0.9, jitter: nil), to: s)
        XCTAssertEqual([small.width, small.height], [9, 6])
        XCTAssertEqual(small.target.masks.count, 9 * 6)
        // The identity scale copies the image.
        let same = NotebookAugment.apply(.init(flip: false, scale: 1.0, jitter: nil), to: s)
        XCTAssertEqual(same.pixels, s.pixels)
        // Bilinear between neighbours: a horizontal ramp stays a ramp.
        let reds: [UInt8] = (0..<9).map { small.pixels[3 * $0] }
        XCTAssertEqual(reds, reds.sorted())
    }

    func testColourOperationsAsAlbumentations() {
        let p: [UInt8] = [200, 250, 10, 128, 128, 128, 255, 0, 0]
        XCTAssertEqual(NotebookAugment.brightness(p, 1.2), [240, 255, 12, 153, 153, 153, 255, 0, 0], "LUT, clipped, truncated")
        XCTAssertEqual(NotebookAugment.brightness(p, 1), p)
        XCTAssertEqual(NotebookAugment.contrast(p, 1), p)
        XCTAssertEqual(NotebookAugment.saturation(p, 1), p)
        XCTAssertEqual(NotebookAugment.hue(p, 0), p)
        // Saturation 0: the OpenCV grey of each pixel.
        let grey = NotebookAugment.saturation(p, 0)
        XCTAssertEqual(Array(grey[3..<6]), [128, 128, 128])
        XCTAssertEqual(Array(grey[6..<9]), [76, 76, 76], "(255·4899 + 8192) >> 14 = 76")
        // Hue +0.5: half a turn; red becomes cyan, grey stays grey.
        let h = NotebookAugment.hue(p, 0.5)
        XCTAssertEqual(Array(h[6..<9]), [0, 255, 255])
        XCTAssertEqual(Array(h[3..<6]), [128, 128, 128])
        // Contrast: around the mean grey, float32 table, truncated.
        let c = NotebookAugment.contrast([100, 100, 100, 200, 200, 200], 0.5)
        XCTAssertEqual(c, [125, 125, 125, 175, 175, 175])
    }

    func testNormalizeIsImageNets() {
        let n = NotebookAugment.normalize([255, 0, 128])
        XCTAssertEqual(n[0], (1 - 0.485) / 0.229, accuracy: 1e-6)
        XCTAssertEqual(n[1], (0 - 0.456) / 0.224, accuracy: 1e-6)
        XCTAssertEqual(n[2], (Float(128) / 255 - 0.406) / 0.225, accuracy: 1e-6)
    }

    func testMostlyHiddenBoxesAreDroppedWithTheirMasks() {
        var s = sample(w: 10, h: 10, box: [-8, 0, 2, 10]) { x, _ in x < 2 }
        s.target.boxes += [2, 2, 6, 6]; s.target.labels.append(5); s.target.masks += [UInt8](repeating: 1, count: 100)
        s.target.annotations.append(1)
        let o = NotebookAugment.apply(.init(flip: false, scale: nil, jitter: nil), to: s)
        XCTAssertEqual(o.target.labels, [5], "20% visible: dropped")
        XCTAssertEqual(o.target.boxes, [2, 2, 6, 6])
        XCTAssertEqual(o.target.masks.count, 100)
    }

    func testDrawsHaveTheNotebooksProbabilitiesAndRanges() {
        let philox = Philox(seed: 3, purpose: .augment, index: 0)
        var flips = 0, scales = 0, jitters = 0
        let n = 20_000
        for i in 0..<n {
            let c = NotebookAugment.choose(philox, index: UInt64(i))
            XCTAssertEqual(c, NotebookAugment.choose(philox, index: UInt64(i)), "deterministic")
            if c.flip { flips += 1 }
            if let s = c.scale { scales += 1; XCTAssertTrue(s >= 0.9 && s <= 1.1) }
            if let j = c.jitter {
                jitters += 1
                XCTAssertEqual(j.order.sorted(), [0, 1, 2, 3])
                XCTAssertTrue(j.factors[0...2].allSatisfy { $0 >= 0.8 && $0 <= 1.2 } && abs(j.factors[3]) <= 0.1)
            }
        }
        XCTAssertEqual(Double(flips) / Double(n), 0.5, accuracy: 0.015)
        XCTAssertEqual(Double(scales) / Double(n), 0.3, accuracy: 0.015)
        XCTAssertEqual(Double(jitters) / Double(n), 0.3, accuracy: 0.015)
        XCTAssertNotEqual(NotebookAugment.choose(philox, index: 1), NotebookAugment.choose(Philox(seed: 4, purpose: .augment), index: 1))
    }
}
