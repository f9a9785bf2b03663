import Engine

/// torchvision's `GeneralizedRCNNTransform` on the way in: each image normalised with
/// (x − mean)/std, then resized bilinearly (align_corners False, no antialias) by
/// s = min(minSize / shorter side, maxSize / longer side) to floor(side·s) (computed in double,
/// as `F.interpolate(scale_factor=s, recompute_scale_factor=True)`); then the batch is padded with
/// zeros at the bottom and right to multiples of 32. The reference: minSize 640,
/// maxSize int(640·1.666) = 1066, ImageNet mean and std.
public struct RCNNTransform: Equatable, Sendable {
    public var minSize = 640
    public var maxSize = Int(640 * 1.666)
    public var mean: [Float] = [0.485, 0.456, 0.406]
    public var std: [Float] = [0.229, 0.224, 0.225]
    public var sizeDivisible = 32

    public init() {}

    /// The resized (unpadded) size of an image.
    public func resizedSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let (lo, hi) = (Double(min(height, width)), Double(max(height, width)))
        let s = min(Double(minSize) / lo, Double(maxSize) / hi)
        return (Int((Double(height) * s).rounded(.down)), Int((Double(width) * s).rounded(.down)))
    }

    /// Normalises, resizes and batches images.
    /// - Parameter images: each (H_i, W_i, C) with C = mean.count, values as the data pipeline gives them.
    /// - Returns: the batch (N, Hp, Wp, C) and each image's resized size (the boxes' frame).
    /// - Throws: `EngineError` for an image of another rank or channel count, or an empty one.
    public func batch(_ images: [Tensor]) throws -> (batch: Tensor, sizes: [(height: Int, width: Int)]) {
        let c = mean.count
        guard !images.isEmpty else { throw EngineError.invalidArgument(op: "RCNNTransform", detail: "no images") }
        var resized: [(Tensor, Int, Int)] = []
        for (i, x) in images.enumerated() {
            guard x.rank == 3, x.shape[2] == c, x.shape[0] > 0, x.shape[1] > 0 else {
                throw EngineError.shapeMismatch(op: "RCNNTransform", detail: "image \(i) is \(shapeString(x.shape)); expected (H, W, \(c)) with H, W ≥ 1")
            }
            let (h, w) = (x.shape[0], x.shape[1])
            let (oh, ow) = resizedSize(height: h, width: w)
            let y = Tensor(uninitialized: [oh, ow, c])
            for ch in 0..<c {
                var plane = [Float](repeating: 0, count: h * w)
                for p in 0..<(h * w) { plane[p] = (x.data[p * c + ch] - mean[ch]) / std[ch] }
                let r = plane.withUnsafeBufferPointer { bilinearResize($0.baseAddress!, height: h, width: w, outHeight: oh, outWidth: ow) }
                for p in 0..<(oh * ow) { y.data[p * c + ch] = r[p] }
            }
            resized.append((y, oh, ow))
        }
        func padded(_ n: Int) -> Int { (n + sizeDivisible - 1) / sizeDivisible * sizeDivisible }
        let (hp, wp) = (padded(resized.map(\.1).max()!), padded(resized.map(\.2).max()!))
        let out = Tensor(zeros: [images.count, hp, wp, c])
        for (n, (y, h, w)) in resized.enumerated() {
            for r in 0..<h { (out.data + ((n * hp + r) * wp) * c).update(from: y.data + r * w * c, count: w * c) }
        }
        return (out, resized.map { (height: $0.1, width: $0.2) })
    }

    /// A training target resized with its image (torchvision's `resize_boxes` and the masks'
    /// nearest interpolation at the image's scale, to the image's resized size).
    /// - Throws: `EngineError` for masks that are not (G, H, W) of the original size.
    public func resize(_ t: DetectionTarget, from old: (height: Int, width: Int), to new: (height: Int, width: Int)) throws -> DetectionTarget {
        var out = t
        resizeBoxes(&out.boxes, from: old, to: new)
        let g = t.labels.count
        guard t.masks.shape == [g, old.height, old.width] else {
            throw EngineError.shapeMismatch(op: "RCNNTransform", detail: "masks \(shapeString(t.masks.shape)) for \(g) boxes of a \(old.height)×\(old.width) image")
        }
        let m = Tensor(uninitialized: [g, new.height, new.width])
        if g > 0 {
            nearestUpsampleForward(m.data, t.masks.data, batch: g, height: old.height, width: old.width, channels: 1,
                                   outHeight: new.height, outWidth: new.width)
        }
        out.masks = m
        return out
    }
}
