import Engine
import Foundation
import XCTest
@testable import Datasets

/// AutoAugment/RandAugment operations against torchvision on PIL images (`AugmentFixtures.swift`,
/// written by Tools/fixtures/augment_ops.py with Pillow).
final class AugmentOpsTests: XCTestCase {
    func bytes(_ b64: String) -> [UInt8] { [UInt8](Data(base64Encoded: b64)!) }

    /// Every operation byte for byte: the affine ops follow PIL's fixed-point (or double) source
    /// coordinates, the enhancers PIL's float32 blend, the tables PIL's integer or double
    /// arithmetic. Any difference is reported with its first positions.
    func testOperationsEqualPillow() {
        var checked = Set<String>()
        for (k, name, m, expected) in AugmentFixtures.ops {
            let img = AugmentFixtures.images[k]
            let op = AugmentOp(rawValue: name)!
            checked.insert(name)
            let inp = bytes(img.pixels), want = bytes(expected)
            var out = [UInt8](repeating: 7, count: inp.count)
            op.apply(&out, inp, height: img.height, width: img.width, channels: img.channels, magnitude: m)
            let bad = (0..<out.count).filter { out[$0] != want[$0] }
            XCTAssert(bad.isEmpty, "\(name)(\(m)) on \(img.name): \(bad.count) of \(out.count) bytes differ, first at "
                      + bad.prefix(4).map { "[\($0)] \(out[$0]) vs \(want[$0])" }.joined(separator: ", "))
        }
        XCTAssertEqual(checked, Set(AugmentOp.allCases.map(\.rawValue)), "every operation is covered")
    }

    func testMagnitudeTablesMatchTorchvision() {
        for (name, bins, h, w, values) in AugmentFixtures.tables {
            let op = AugmentOp(rawValue: name)!
            let mine = (0..<bins).map { op.magnitude(bin: $0, bins: bins, height: h, width: w) }
            XCTAssertEqual(mine, values, "\(name), \(bins) bins, \(h)×\(w)")
        }
        // RandAugment(2, 9): the values the reference uses at 32×32.
        XCTAssertEqual(AugmentOp.posterize.magnitude(bin: 9, bins: 31, height: 32, width: 32), 7)
        XCTAssertEqual(AugmentOp.solarize.magnitude(bin: 9, bins: 31, height: 32, width: 32), 178.5, accuracy: 1e-4)
        XCTAssertEqual(AugmentOp.rotate.magnitude(bin: 9, bins: 31, height: 32, width: 32), 9, accuracy: 1e-5)
        XCTAssertEqual(AugmentOp.randAugmentSpace.count, 14)
    }

    /// RandAugment driven by the documented draws equals the operations applied by hand.
    func testRandAugmentFollowsDocumentedDraws() {
        let img = AugmentFixtures.images[0]
        let inp = bytes(img.pixels)
        var opsSeen = Set<AugmentOp>()
        for sample in 0..<40 {
            let rng = Augment.stream(seed: 3, epoch: 1, sample: sample)
            var a = inp, b = inp
            let result = a.withUnsafeMutableBufferPointer { pa in b.withUnsafeMutableBufferPointer { pb in
                Array(UnsafeBufferPointer(start: AutoAugmentRunner.apply(pa.baseAddress!, spare: pb.baseAddress!,
                        height: img.height, width: img.width, channels: 3, rng: rng, autoAugment: nil,
                        randAugment: RandAugment(ops: 2, magnitude: 9)), count: inp.count))
            } }
            var expected = inp
            for k in 0..<2 {
                let op = AugmentOp.randAugmentSpace[rng.below(14, UInt64(8 + 2 * k))]
                opsSeen.insert(op)
                var m = op.magnitude(bin: 9, bins: 31, height: img.height, width: img.width)
                if op.signed && rng.uniform(UInt64(9 + 2 * k)) < 0.5 { m = -m }
                var next = expected
                op.apply(&next, expected, height: img.height, width: img.width, channels: 3, magnitude: m)
                expected = next
            }
            XCTAssertEqual(result, expected, "sample \(sample)")
        }
        XCTAssertGreaterThan(opsSeen.count, 10, "op draws look biased")
    }

    /// AutoAugment: sub-policy draw 3, probabilities 4–5, signs 6–7.
    func testAutoAugmentFollowsDocumentedDraws() {
        let img = AugmentFixtures.images[0]
        let inp = bytes(img.pixels)
        for policy in AutoAugmentPolicy.allCases {
            XCTAssertEqual(policy.subPolicies.count, 25)
            for sample in 0..<30 {
                let rng = Augment.stream(seed: 5, epoch: 0, sample: sample)
                var a = inp, b = inp
                let result = a.withUnsafeMutableBufferPointer { pa in b.withUnsafeMutableBufferPointer { pb in
                    Array(UnsafeBufferPointer(start: AutoAugmentRunner.apply(pa.baseAddress!, spare: pb.baseAddress!,
                            height: img.height, width: img.width, channels: 3, rng: rng, autoAugment: policy,
                            randAugment: nil), count: inp.count))
                } }
                let (s0, s1) = policy.subPolicies[rng.below(25, 3)]
                var expected = inp
                for (i, s) in [s0, s1].enumerated() where rng.uniform(UInt64(4 + i)) <= s.p {
                    var m = s.bin.map { s.op.magnitude(bin: $0, bins: 10, height: img.height, width: img.width) } ?? 0
                    if s.op.signed && rng.uniform(UInt64(6 + i)) < 0.5 { m = -m }
                    var next = expected
                    s.op.apply(&next, expected, height: img.height, width: img.width, channels: 3, magnitude: m)
                    expected = next
                }
                XCTAssertEqual(result, expected, "\(policy) sample \(sample)")
            }
        }
        // Spot checks of torchvision's tables.
        XCTAssert(AutoAugmentPolicy.cifar10.subPolicies[1].0 == (AugmentOp.rotate, 0.7, 2))
        XCTAssert(AutoAugmentPolicy.svhn.subPolicies[24].1 == (AugmentOp.invert, 0.1, nil))
        XCTAssert(AutoAugmentPolicy.imagenet.subPolicies[0].0 == (AugmentOp.posterize, 0.4, 8))
    }
}
