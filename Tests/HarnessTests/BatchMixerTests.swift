import Foundation
import XCTest
import Engine
@testable import Harness

/// CutMix's box and λ correction and MixUp's blend against cases worked out by hand
/// (tests/test_utils.py `rand_bbox` / `cutmix_data` / `mixup_data` of the reference).
final class BatchMixerTests: XCTestCase {
    /// Two 4×4 grey samples: sample 0 all 0, sample 1 all 1; labels 2 and 5 of 6 classes.
    private func pair() -> (Tensor, [Int]) {
        let x = Tensor(zeros: [2, 4, 4, 1])
        for k in 0..<16 { x.data[16 + k] = 1 }
        return (x, [2, 5])
    }

    /// λ = 0.75 on 8×8: cut ratio √0.25 = 0.5, so the box is 4×4, half-sizes 2. Centred at
    /// (1, 6): rows max(1−2, 0) = 0 ..< min(1+2, 8) = 3, columns 6−2 = 4 ..< min(6+2, 8) = 8,
    /// 3·4 = 12 pixels after clipping, so the corrected λ is 1 − 12/64 = 0.8125 (not 0.75).
    func testCutBoxIsClippedAndLambdaIsCorrectedToThePastedArea() {
        let box = BatchMixer.CutBox(lambda: 0.75, height: 8, width: 8, centerY: 1, centerX: 6)
        XCTAssertEqual(box, BatchMixer.CutBox(y1: 0, y2: 3, x1: 4, x2: 8))
        XCTAssertEqual(box.area, 12)
        XCTAssertEqual(box.lambda(height: 8, width: 8), 0.8125)
        // λ = 0.19: ratio √0.81 = 0.9, side Int(8·0.9) = 7, half 3; centred at (4, 4): rows and
        // columns 1 ..< 7, 36 pixels, λ = 1 − 36/64 = 0.4375.
        let inner = BatchMixer.CutBox(lambda: 0.19, height: 8, width: 8, centerY: 4, centerX: 4)
        XCTAssertEqual(inner, BatchMixer.CutBox(y1: 1, y2: 7, x1: 1, x2: 7))
        XCTAssertEqual(inner.lambda(height: 8, width: 8), 0.4375)
        // λ = 1: nothing is cut, the image stays its own.
        XCTAssertEqual(BatchMixer.CutBox(lambda: 1, height: 8, width: 8, centerY: 3, centerX: 3).lambda(height: 8, width: 8), 1)
    }

    /// Box rows 1..<3, columns 0..<2 of 4×4 (4 of 16 pixels): each sample gets its partner's
    /// pixels there, and targets 0.75 on its own label, 0.25 on the partner's.
    func testCutMixPastesThePartnersBoxAndWeighsTargetsByItsArea() throws {
        let (x, labels) = pair()
        let b = BatchMixer.cutMix(x, labels: labels, partners: [1, 0], box: .init(y1: 1, y2: 3, x1: 0, x2: 2), classes: 6)
        for i in 0..<2 {
            for y in 0..<4 {
                for xx in 0..<4 {
                    let inBox = (1..<3).contains(y) && (0..<2).contains(xx)
                    let expected: Float = inBox ? Float(1 - i) : Float(i)
                    XCTAssertEqual(b.images.data[i * 16 + y * 4 + xx], expected, "sample \(i) (\(y), \(xx))")
                }
            }
        }
        guard case let .soft(t) = b.targets else { return XCTFail("CutMix gives soft targets") }
        XCTAssertEqual(t.array, [0, 0, 0.75, 0, 0, 0.25,
                                 0, 0, 0.25, 0, 0, 0.75])
        XCTAssertEqual(x.data[0], 0, "the input batch is left alone")
    }

    /// λ = 0.3: sample 0 becomes 0.3·0 + 0.7·1 = 0.7 everywhere, sample 1 0.3·1 + 0.7·0 = 0.3;
    /// targets 0.3 / 0.7. A sample mixed with itself (same label) keeps target 1.
    func testMixUpBlendsImagesAndTargetsByLambda() throws {
        let (x, labels) = pair()
        let b = BatchMixer.mixUp(x, labels: labels, partners: [1, 0], lambda: 0.3, classes: 6)
        XCTAssertEqual(Array(b.images.array[0..<16]), [Float](repeating: 0.7, count: 16))
        for v in b.images.array[16..<32] { XCTAssertEqual(v, 0.3, accuracy: 1e-7) }
        guard case let .soft(t) = b.targets else { return XCTFail("MixUp gives soft targets") }
        XCTAssertEqual(t.array[2], 0.3, accuracy: 1e-7)
        XCTAssertEqual(t.array[5], 0.7, accuracy: 1e-7)
        XCTAssertEqual(t.array[6 + 5], 0.3, accuracy: 1e-7)
        XCTAssertEqual(t.array[6 + 2], 0.7, accuracy: 1e-7)
        let same = BatchMixer.softTargets([4, 4], partners: [1, 0], lambda: 0.3, classes: 6)
        XCTAssertEqual(same.array[4], 1, accuracy: 1e-7)
        XCTAssertEqual(same.array[10], 1, accuracy: 1e-7)
    }

    /// `mix` with CutMix always on: the share of pixels that changed is 1 − λ of the targets
    /// (the area correction applied to what was really pasted), and the same batch index gives
    /// the same mix.
    func testMixAppliesTheCorrectedLambdaOfTheBoxItPasted() throws {
        let mixer = BatchMixer(cutmix: (1, 1), mixup: nil, classes: 6, seed: 3, epoch: 1)
        var checked = 0
        for index in 0..<20 {
            let x = Tensor(zeros: [2, 8, 8, 1])
            for k in 0..<64 { x.data[64 + k] = 1 }
            let b = mixer.mix(x, labels: [2, 5], batchIndex: index)
            XCTAssertEqual(b.images.array, mixer.mix(x, labels: [2, 5], batchIndex: index).images.array)
            guard case let .soft(t) = b.targets else { return XCTFail("CutMix with p = 1 mixes every batch") }
            let changed = b.images.array[0..<64].filter { $0 != 0 }.count
            XCTAssertEqual(Double(t.data[2]), 1 - Double(changed) / 64, accuracy: 1e-6, "batch \(index)")
            if changed > 0 && changed < 64 { checked += 1 }
        }
        XCTAssertGreaterThan(checked, 5, "most boxes paste part of the image")
    }
}
