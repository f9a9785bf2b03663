import Engine
import Foundation

/// The box head's inference settings (torchvision's `MaskRCNN` defaults, which the reference keeps).
public struct BoxHeadSettings: Equatable, Sendable {
    /// Class probabilities at or below this are dropped: 0.05.
    public var scoreThreshold: Float = 0.05
    /// Per-class NMS IoU: 0.5.
    public var nmsThreshold: Double = 0.5
    /// Detections kept per image: 100.
    public var detectionsPerImage = 100
    /// Boxes with a side below this are dropped: 1e-2.
    public var minSize: Float = 1e-2
    /// The device whose `batched_nms` size rule is followed.
    public var nmsDevice: BatchedNMSStrategy.Device = .cuda

    public init() {}
}

/// One image's detections, best first.
public struct Detections: Equatable, Sendable {
    /// (D, 4) as (x1, y1, x2, y2).
    public var boxes: [Float] = []
    public var scores: [Float] = []
    /// Class index, 1…classes − 1 (0 is the background).
    public var labels: [Int] = []
    public var count: Int { scores.count }
}

/// Row-wise softmax in Float: exp(x − max) / Σ.
func softmaxRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int) -> [Float] {
    var out = [Float](repeating: 0, count: rows * cols)
    for r in 0..<rows {
        let row = x + r * cols
        var m = -Float.infinity
        for c in 0..<cols { m = max(m, row[c]) }
        var sum: Float = 0
        for c in 0..<cols { let e = exp(row[c] - m); out[r * cols + c] = e; sum += e }
        for c in 0..<cols { out[r * cols + c] /= sum }
    }
    return out
}

/// torchvision's `RoIHeads.postprocess_detections` for one image: boxes decoded per class from
/// the proposals (weights 10, 10, 5, 5), class probabilities by softmax, boxes clipped to the
/// image; the background column dropped; (box, class) pairs with probability > 0.05 and sides
/// ≥ 1e-2 kept; NMS per class at 0.5; the first 100 by score.
/// - Parameters:
///   - logits: (K, classes).
///   - deltas: (K, 4·classes).
///   - proposals: (K, 4).
///   - imageHeight, imageWidth: the (resized, unpadded) image the proposals live in.
public func postprocessDetections(logits: UnsafePointer<Float>, deltas: UnsafePointer<Float>, proposals: UnsafePointer<Float>,
                                  count k: Int, classes: Int, imageHeight: Int, imageWidth: Int,
                                  settings: BoxHeadSettings = BoxHeadSettings()) -> Detections {
    var boxes = [Float](repeating: 0, count: k * classes * 4)
    BoxCoder.roiHeads.decode(&boxes, deltas: deltas, boxes: proposals, count: k, classes: classes)
    clipBoxes(&boxes, count: k * classes, height: imageHeight, width: imageWidth)
    let probs = softmaxRows(logits, rows: k, cols: classes)
    var cb: [Float] = [], cs: [Float] = [], cl: [Int] = []
    for r in 0..<k { for c in 1..<classes where probs[r * classes + c] > settings.scoreThreshold {
        let b = (r * classes + c) * 4
        if boxes[b + 2] - boxes[b] >= settings.minSize && boxes[b + 3] - boxes[b + 1] >= settings.minSize {
            cb += boxes[b..<(b + 4)]; cs.append(probs[r * classes + c]); cl.append(c)
        }
    } }
    let strategy = BatchedNMSStrategy.torchvision(count: cs.count, device: settings.nmsDevice)
    let keep = batchedNMS(cb, cs, groups: cl, count: cs.count, iouThreshold: settings.nmsThreshold, strategy: strategy)
        .prefix(settings.detectionsPerImage)
    var out = Detections()
    for j in keep { out.boxes += cb[(4 * j)..<(4 * j + 4)]; out.scores.append(cs[j]); out.labels.append(cl[j]) }
    return out
}

/// torchvision's `resize_boxes`: x scaled by new/old width, y by new/old height (float32 ratios).
/// - Parameter boxes: (D, 4), updated.
public func resizeBoxes(_ boxes: inout [Float], from old: (height: Int, width: Int), to new: (height: Int, width: Int)) {
    let rh = Float(new.height) / Float(old.height), rw = Float(new.width) / Float(old.width)
    for d in 0..<(boxes.count / 4) {
        boxes[4 * d] *= rw; boxes[4 * d + 2] *= rw
        boxes[4 * d + 1] *= rh; boxes[4 * d + 3] *= rh
    }
}
