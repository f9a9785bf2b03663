import Foundation

/// Which FPN level a region is pooled from (torchvision's `MultiScaleRoIAlign` and its
/// `LevelMapper`, Eq. 1 of the FPN paper): level = floor(k0 + log2(√area / s0) + ε), clamped to
/// [kMin, kMax], with k0 = 4, s0 = 224, ε = 1e-6; returned as 0-based indices into the levels.
///
/// torchvision computes it in float32 tensors: area = (x2 − x1)·(y2 − y1), √area, then
/// (k0 + log2(√area / s0)) + ε; the same order here.
public struct LevelMapper: Equatable, Sendable {
    public let kMin, kMax: Int
    public let canonicalScale: Int
    public let canonicalLevel: Int
    public let eps: Float

    public init(kMin: Int, kMax: Int, canonicalScale: Int = 224, canonicalLevel: Int = 4, eps: Float = 1e-6) {
        precondition(kMin <= kMax, "LevelMapper: kMin \(kMin) > kMax \(kMax)")
        self.kMin = kMin; self.kMax = kMax; self.canonicalScale = canonicalScale
        self.canonicalLevel = canonicalLevel; self.eps = eps
    }

    /// The mapper torchvision sets up for these feature maps (`MultiScaleRoIAlign._setup_scales`):
    /// each map's scale is 2^round(log2(feature height / largest image height)) (float32 log2,
    /// round half to even), and the levels run from −log2 of the first scale to −log2 of the last.
    /// - Parameters:
    ///   - featureHeights: height of each pooled map, finest first (the FPN's '0'…'3').
    ///   - imageSizes: (height, width) of every image of the batch before padding.
    /// - Returns: the scales (one per map) and the mapper.
    public static func setup(featureHeights: [Int], imageSizes: [(height: Int, width: Int)]) -> (scales: [Float], mapper: LevelMapper) {
        precondition(!featureHeights.isEmpty && !imageSizes.isEmpty, "LevelMapper.setup: no feature maps or no images")
        let maxHeight = imageSizes.map(\.height).max()!
        let scales = featureHeights.map { h -> Float in
            let approx = Float(Double(h) / Double(maxHeight))
            return Float(pow(2.0, Double(log2(approx).rounded(.toNearestOrEven))))
        }
        let lo = -log2(scales.first!), hi = -log2(scales.last!)
        return (scales, LevelMapper(kMin: Int(lo), kMax: Int(hi)))
    }

    /// The level index (0 = level kMin) of each box.
    /// - Parameters:
    ///   - boxes: (K, 4) as (x1, y1, x2, y2).
    ///   - count: K.
    public func levels(_ boxes: UnsafePointer<Float>, count: Int) -> [Int] {
        (0..<count).map { k in
            let b = boxes + 4 * k
            let s = ((b[2] - b[0]) * (b[3] - b[1])).squareRoot()
            let v = (Float(canonicalLevel) + log2(s / Float(canonicalScale)) + eps).rounded(.down)
            // A degenerate box (negative area: NaN) goes to the finest level rather than trapping.
            if v.isNaN { return 0 }
            return Int(min(max(v, Float(kMin)), Float(kMax))) - kMin
        }
    }
}
