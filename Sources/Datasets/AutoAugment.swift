import Engine

/// torchvision's `RandAugment(num_ops, magnitude, num_magnitude_bins=31)`, NEAREST, fill 0.
///
/// For each of `ops` operations: pick one of the 14 operations of `AugmentOp.randAugmentSpace`
/// uniformly, take its magnitude at bin `magnitude`, negate it with probability 0.5 if the
/// operation is signed, apply it.
public struct RandAugment: Sendable, Equatable {
    /// Operations per image (torchvision `num_ops`), at most `maxOps`.
    public var ops: Int
    /// Magnitude bin (torchvision `magnitude`), `0..<bins`.
    public var magnitude: Int
    /// Number of magnitude bins (torchvision `num_magnitude_bins`).
    public var bins: Int

    /// Most operations per image: the draws of op `k` are 8 + 2k and 9 + 2k, below 32.
    public static let maxOps = 12

    public init(ops: Int = 2, magnitude: Int = 9, bins: Int = 31) {
        self.ops = ops; self.magnitude = magnitude; self.bins = bins
    }
}

/// torchvision's AutoAugment policies (each 25 pairs of `(op, probability, magnitude bin of 10)`).
public enum AutoAugmentPolicy: String, CaseIterable, Sendable {
    case imagenet, cifar10, svhn

    /// One step of a sub-policy: the operation, its probability and its magnitude bin (nil: none).
    public typealias Step = (op: AugmentOp, p: Double, bin: Int?)

    /// The 25 sub-policies, in torchvision's order (the policy draw indexes them).
    public var subPolicies: [(Step, Step)] {
        switch self {
        case .imagenet: return AutoAugmentPolicy.imagenetTable
        case .cifar10: return AutoAugmentPolicy.cifar10Table
        case .svhn: return AutoAugmentPolicy.svhnTable
        }
    }

    static let imagenetTable = table(.imagenet), cifar10Table = table(.cifar10), svhnTable = table(.svhn)

    static func table(_ policy: AutoAugmentPolicy) -> [(Step, Step)] {
        let table: [(String, Double, Int?, String, Double, Int?)]
        switch policy {
        case .imagenet: table = [
            ("Posterize", 0.4, 8, "Rotate", 0.6, 9), ("Solarize", 0.6, 5, "AutoContrast", 0.6, nil),
            ("Equalize", 0.8, nil, "Equalize", 0.6, nil), ("Posterize", 0.6, 7, "Posterize", 0.6, 6),
            ("Equalize", 0.4, nil, "Solarize", 0.2, 4), ("Equalize", 0.4, nil, "Rotate", 0.8, 8),
            ("Solarize", 0.6, 3, "Equalize", 0.6, nil), ("Posterize", 0.8, 5, "Equalize", 1.0, nil),
            ("Rotate", 0.2, 3, "Solarize", 0.6, 8), ("Equalize", 0.6, nil, "Posterize", 0.4, 6),
            ("Rotate", 0.8, 8, "Color", 0.4, 0), ("Rotate", 0.4, 9, "Equalize", 0.6, nil),
            ("Equalize", 0.0, nil, "Equalize", 0.8, nil), ("Invert", 0.6, nil, "Equalize", 1.0, nil),
            ("Color", 0.6, 4, "Contrast", 1.0, 8), ("Rotate", 0.8, 8, "Color", 1.0, 2),
            ("Color", 0.8, 8, "Solarize", 0.8, 7), ("Sharpness", 0.4, 7, "Invert", 0.6, nil),
            ("ShearX", 0.6, 5, "Equalize", 1.0, nil), ("Color", 0.4, 0, "Equalize", 0.6, nil),
            ("Equalize", 0.4, nil, "Solarize", 0.2, 4), ("Solarize", 0.6, 5, "AutoContrast", 0.6, nil),
            ("Invert", 0.6, nil, "Equalize", 1.0, nil), ("Color", 0.6, 4, "Contrast", 1.0, 8),
            ("Equalize", 0.8, nil, "Equalize", 0.6, nil),
        ]
        case .cifar10: table = [
            ("Invert", 0.1, nil, "Contrast", 0.2, 6), ("Rotate", 0.7, 2, "TranslateX", 0.3, 9),
            ("Sharpness", 0.8, 1, "Sharpness", 0.9, 3), ("ShearY", 0.5, 8, "TranslateY", 0.7, 9),
            ("AutoContrast", 0.5, nil, "Equalize", 0.9, nil), ("ShearY", 0.2, 7, "Posterize", 0.3, 7),
            ("Color", 0.4, 3, "Brightness", 0.6, 7), ("Sharpness", 0.3, 9, "Brightness", 0.7, 9),
            ("Equalize", 0.6, nil, "Equalize", 0.5, nil), ("Contrast", 0.6, 7, "Sharpness", 0.6, 5),
            ("Color", 0.7, 7, "TranslateX", 0.5, 8), ("Equalize", 0.3, nil, "AutoContrast", 0.4, nil),
            ("TranslateY", 0.4, 3, "Sharpness", 0.2, 6), ("Brightness", 0.9, 6, "Color", 0.2, 8),
            ("Solarize", 0.5, 2, "Invert", 0.0, nil), ("Equalize", 0.2, nil, "AutoContrast", 0.6, nil),
            ("Equalize", 0.2, nil, "Equalize", 0.6, nil), ("Color", 0.9, 9, "Equalize", 0.6, nil),
            ("AutoContrast", 0.8, nil, "Solarize", 0.2, 8), ("Brightness", 0.1, 3, "Color", 0.7, 0),
            ("Solarize", 0.4, 5, "AutoContrast", 0.9, nil), ("TranslateY", 0.9, 9, "TranslateY", 0.7, 9),
            ("AutoContrast", 0.9, nil, "Solarize", 0.8, 3), ("Equalize", 0.8, nil, "Invert", 0.1, nil),
            ("TranslateY", 0.7, 9, "AutoContrast", 0.9, nil),
        ]
        case .svhn: table = [
            ("ShearX", 0.9, 4, "Invert", 0.2, nil), ("ShearY", 0.9, 8, "Invert", 0.7, nil),
            ("Equalize", 0.6, nil, "Solarize", 0.6, 6), ("Invert", 0.9, nil, "Equalize", 0.6, nil),
            ("Equalize", 0.6, nil, "Rotate", 0.9, 3), ("ShearX", 0.9, 4, "AutoContrast", 0.8, nil),
            ("ShearY", 0.9, 8, "Invert", 0.4, nil), ("ShearY", 0.9, 5, "Solarize", 0.2, 6),
            ("Invert", 0.9, nil, "AutoContrast", 0.8, nil), ("Equalize", 0.6, nil, "Rotate", 0.9, 3),
            ("ShearX", 0.9, 4, "Solarize", 0.3, 3), ("ShearY", 0.8, 8, "Invert", 0.7, nil),
            ("Equalize", 0.9, nil, "TranslateY", 0.6, 6), ("Invert", 0.9, nil, "Equalize", 0.6, nil),
            ("Contrast", 0.3, 3, "Rotate", 0.8, 4), ("Invert", 0.8, nil, "TranslateY", 0.0, 2),
            ("ShearY", 0.7, 6, "Solarize", 0.4, 8), ("Invert", 0.6, nil, "Rotate", 0.8, 4),
            ("ShearY", 0.3, 7, "TranslateX", 0.9, 3), ("ShearX", 0.1, 6, "Invert", 0.6, nil),
            ("Solarize", 0.7, 2, "TranslateY", 0.6, 7), ("ShearY", 0.8, 4, "Invert", 0.8, nil),
            ("ShearX", 0.7, 9, "TranslateY", 0.8, 3), ("ShearY", 0.8, 5, "AutoContrast", 0.7, nil),
            ("ShearX", 0.7, 2, "Invert", 0.1, nil),
        ]
        }
        return table.map { ((AugmentOp(rawValue: $0.0)!, $0.1, $0.2), (AugmentOp(rawValue: $0.3)!, $0.4, $0.5)) }
    }
}

/// Runs RandAugment / AutoAugment on one image with draws from the sample's Philox stream.
///
/// Draw order (block indices of `Augment.stream(seed:epoch:sample:)`; 0–2 belong to the crop
/// and flip, 32 and up to RandomResizedCrop):
/// - AutoAugment: draw 3 `below(25)` picks the sub-policy; draws 4, 5 (`uniform`) are the
///   probabilities of its two steps (a step runs when the draw is ≤ its p, as torchvision
///   compares); draws 6, 7 are the signs (a signed magnitude is negated when the draw is < 0.5).
/// - RandAugment: op `k` uses draw `8 + 2k` (`below(14)`, the operation) and `9 + 2k` (negated
///   when < 0.5, signed operations only).
/// AutoAugment runs before RandAugment when both are set.
public enum AutoAugmentRunner {
    /// Applies the configured operations, ping-ponging between two buffers.
    /// - Parameters:
    ///   - image: `(height, width, channels)` bytes holding the input; on return one of `image`
    ///     and `spare` holds the result.
    ///   - spare: `(height, width, channels)` scratch bytes.
    /// - Returns: the buffer holding the result (`image` or `spare`).
    public static func apply(_ image: UnsafeMutablePointer<UInt8>, spare: UnsafeMutablePointer<UInt8>,
                             height: Int, width: Int, channels: Int, rng: Philox,
                             autoAugment: AutoAugmentPolicy?, randAugment: RandAugment?) -> UnsafeMutablePointer<UInt8> {
        var cur = image, other = spare
        func run(_ op: AugmentOp, _ m: Double) {
            op.apply(other, cur, height: height, width: width, channels: channels, magnitude: m)
            swap(&cur, &other)
        }
        if let policy = autoAugment {
            let subs = policy.subPolicies
            let (s0, s1) = subs[rng.below(subs.count, 3)]
            for i in 0..<2 {
                let step = i == 0 ? s0 : s1
                guard rng.uniform(4 + UInt64(i)) <= step.p else { continue }
                var m = step.bin.map { step.op.magnitude(bin: $0, bins: 10, height: height, width: width) } ?? 0
                if step.op.signed && rng.uniform(6 + UInt64(i)) < 0.5 { m = -m }
                run(step.op, m)
            }
        }
        if let ra = randAugment {
            for k in 0..<ra.ops {
                let op = AugmentOp.randAugmentSpace[rng.below(AugmentOp.randAugmentSpace.count, 8 + 2 * UInt64(k))]
                var m = op.magnitude(bin: ra.magnitude, bins: ra.bins, height: height, width: width)
                if op.signed && rng.uniform(9 + 2 * UInt64(k)) < 0.5 { m = -m }
                if op == .identity { continue }
                run(op, m)
            }
        }
        return cur
    }
}
