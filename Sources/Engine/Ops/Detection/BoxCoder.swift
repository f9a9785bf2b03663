import Foundation

// Box arithmetic of the R-CNN heads, torchvision.models.detection._utils.BoxCoder and
// torchvision.ops.boxes. Boxes are (x1, y1, x2, y2) rows in image pixels; every formula is
// evaluated in Float in torchvision's order so that the bytes match its float32 tensors up to
// the last bit of exp/log.

/// torchvision's `BoxCoder`: box deltas (dx, dy, dw, dh) relative to a reference box, scaled by
/// `weights`: (1, 1, 1, 1) for the RPN, (10, 10, 5, 5) for the box head.
public struct BoxCoder: Equatable, Sendable {
    public let wx, wy, ww, wh: Float
    /// Upper clamp of dw, dh before exp: log(1000/16) (float32, as torch clamps float32 tensors).
    public let bboxXformClip: Float

    public init(weights: (Float, Float, Float, Float), bboxXformClip: Float = Float(log(1000.0 / 16))) {
        (wx, wy, ww, wh) = weights
        self.bboxXformClip = bboxXformClip
    }

    /// The RPN's coder, weights (1, 1, 1, 1).
    public static let rpn = BoxCoder(weights: (1, 1, 1, 1))
    /// The box head's coder, weights (10, 10, 5, 5).
    public static let roiHeads = BoxCoder(weights: (10, 10, 5, 5))

    /// Regression targets: the deltas that take each proposal to its matched box
    /// (`encode_boxes`): dx = wx·(gx − px)/pw, dw = ww·log(gw/pw), centres at x1 + ½·w.
    /// - Parameters:
    ///   - out: (K, 4) deltas, overwritten.
    ///   - matched: (K, 4) the target boxes.
    ///   - proposals: (K, 4) the reference boxes.
    ///   - count: K.
    public func encode(_ out: UnsafeMutablePointer<Float>, matched: UnsafePointer<Float>, proposals: UnsafePointer<Float>, count: Int) {
        for k in 0..<count {
            let p = proposals + 4 * k, g = matched + 4 * k, o = out + 4 * k
            let pw = p[2] - p[0], ph = p[3] - p[1]
            let px = p[0] + 0.5 * pw, py = p[1] + 0.5 * ph
            let gw = g[2] - g[0], gh = g[3] - g[1]
            let gx = g[0] + 0.5 * gw, gy = g[1] + 0.5 * gh
            o[0] = wx * (gx - px) / pw
            o[1] = wy * (gy - py) / ph
            o[2] = ww * log(gw / pw)
            o[3] = wh * log(gh / ph)
        }
    }

    /// Boxes from deltas (`decode_single`): for each reference box and each of its `classes`
    /// delta groups, centre = d·size + centre, size = exp(min(dw/ww, clip))·size, corners at
    /// centre ∓ ½·size.
    /// - Parameters:
    ///   - out: (K, classes, 4) boxes, overwritten.
    ///   - deltas: (K, classes·4).
    ///   - boxes: (K, 4) reference boxes (anchors or proposals).
    ///   - count: K.
    ///   - classes: delta groups per box (1 for the RPN, the class count for the box head).
    public func decode(_ out: UnsafeMutablePointer<Float>, deltas: UnsafePointer<Float>, boxes: UnsafePointer<Float>,
                       count: Int, classes: Int = 1) {
        for k in 0..<count {
            let b = boxes + 4 * k
            let w = b[2] - b[0], h = b[3] - b[1]
            let cx = b[0] + 0.5 * w, cy = b[1] + 0.5 * h
            for j in 0..<classes {
                let d = deltas + (k * classes + j) * 4, o = out + (k * classes + j) * 4
                let dx = d[0] / wx, dy = d[1] / wy
                let dw = min(d[2] / ww, bboxXformClip), dh = min(d[3] / wh, bboxXformClip)
                let pcx = dx * w + cx, pcy = dy * h + cy
                let pw = exp(dw) * w, ph = exp(dh) * h
                let hw = 0.5 * pw, hh = 0.5 * ph
                o[0] = pcx - hw; o[1] = pcy - hh; o[2] = pcx + hw; o[3] = pcy + hh
            }
        }
    }
}

/// torchvision's `clip_boxes_to_image`: x clamped to [0, width], y to [0, height], in place.
/// - Parameters:
///   - boxes: (K, 4), updated.
///   - count: K.
public func clipBoxes(_ boxes: UnsafeMutablePointer<Float>, count: Int, height: Int, width: Int) {
    let (H, W) = (Float(height), Float(width))
    for k in 0..<count {
        let b = boxes + 4 * k
        // torch.clamp: min first, then max; NaN stays NaN.
        b[0] = clampLikeTorch(b[0], 0, W); b[2] = clampLikeTorch(b[2], 0, W)
        b[1] = clampLikeTorch(b[1], 0, H); b[3] = clampLikeTorch(b[3], 0, H)
    }
}

/// `min(max(v, lo), hi)` propagating NaN, as torch.clamp does.
@inline(__always) func clampLikeTorch(_ v: Float, _ lo: Float, _ hi: Float) -> Float {
    v.isNaN ? v : min(max(v, lo), hi)
}

/// torchvision's `remove_small_boxes`: indices of the boxes whose width and height are both
/// ≥ `minSize`, in order.
/// - Parameters:
///   - boxes: (K, 4).
///   - count: K.
public func removeSmallBoxes(_ boxes: UnsafePointer<Float>, count: Int, minSize: Float) -> [Int] {
    (0..<count).filter { k in
        let b = boxes + 4 * k
        return b[2] - b[0] >= minSize && b[3] - b[1] >= minSize
    }
}

/// Pairwise IoU (torchvision's `box_iou`): area = (x2 − x1)·(y2 − y1), intersection clamped at
/// 0, IoU = inter / (area_a + area_b − inter).
/// - Parameters:
///   - out: (A, B), overwritten.
///   - a: (A, 4).
///   - b: (B, 4).
public func boxIoU(_ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, count countA: Int,
                   _ b: UnsafePointer<Float>, count countB: Int) {
    for i in 0..<countA {
        let p = a + 4 * i
        let areaA = (p[2] - p[0]) * (p[3] - p[1])
        for j in 0..<countB {
            let q = b + 4 * j
            let areaB = (q[2] - q[0]) * (q[3] - q[1])
            let w = max(min(p[2], q[2]) - max(p[0], q[0]), 0), h = max(min(p[3], q[3]) - max(p[1], q[1]), 0)
            let inter = w * h
            out[i * countB + j] = inter / (areaA + areaB - inter)
        }
    }
}
