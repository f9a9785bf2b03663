// Non-maximum suppression, torchvision.ops.nms / batched_nms semantics.

/// Indices of `scores` from highest to lowest, equal scores in index order: torch's
/// `scores.sort(stable=True, descending=True)`, which torchvision's CPU and CUDA NMS kernels use.
/// NaN sorts first, as torch's descending sort puts NaN above every number.
public func stableDescendingOrder(_ scores: UnsafePointer<Float>, count: Int) -> [Int] {
    (0..<count).sorted { i, j in
        let (a, b) = (scores[i], scores[j])
        if a.isNaN || b.isNaN { return a.isNaN && !b.isNaN || (a.isNaN && b.isNaN && i < j) }
        return a > b || (a == b && i < j)
    }
}

/// torchvision's `nms`: visit boxes by descending score (stable); keep a box unless a kept box
/// overlaps it with IoU > `iouThreshold`. IoU in Float as the CPU kernel computes it
/// (areas (x2 − x1)·(y2 − y1), intersection sides clamped at 0, inter / (area_i + area_j − inter)),
/// compared with the threshold in Double (the kernel's `ovr > iou_threshold` promotes to double).
/// - Parameters:
///   - boxes: (K, 4) as (x1, y1, x2, y2).
///   - scores: (K).
///   - count: K.
/// - Returns: the kept indices, highest score first.
public func nms(_ boxes: UnsafePointer<Float>, _ scores: UnsafePointer<Float>, count: Int, iouThreshold: Double) -> [Int] {
    let order = stableDescendingOrder(scores, count: count)
    var areas = [Float](repeating: 0, count: count)
    for k in 0..<count { let b = boxes + 4 * k; areas[k] = (b[2] - b[0]) * (b[3] - b[1]) }
    var suppressed = [Bool](repeating: false, count: count)
    var keep: [Int] = []
    for (oi, i) in order.enumerated() {
        if suppressed[i] { continue }
        keep.append(i)
        let p = boxes + 4 * i
        for j in order[(oi + 1)...] where !suppressed[j] {
            let q = boxes + 4 * j
            let w = max(Float(0), min(p[2], q[2]) - max(p[0], q[0]))
            let h = max(Float(0), min(p[3], q[3]) - max(p[1], q[1]))
            let inter = w * h
            let iou = inter / (areas[i] + areas[j] - inter)
            if Double(iou) > iouThreshold { suppressed[j] = true }
        }
    }
    return keep
}

/// How `batchedNMS` keeps boxes of different groups (classes, FPN levels) from suppressing
/// each other. torchvision picks by size (`batched_nms`): `.perGroup` when the boxes hold more
/// than 4000 numbers on CPU (20000 on CUDA in torchvision 0.19, the reference's era; 0.29 raised
/// CUDA's to 100000), `.coordinateOffsets` otherwise. Both keep the same boxes up to float
/// rounding of the shifted coordinates.
public enum BatchedNMSStrategy: Sendable {
    /// Shift every box by group·(max coordinate + 1), then one `nms`; the result is in NMS order.
    case coordinateOffsets
    /// One `nms` per group (groups in ascending order), then all kept indices sorted by
    /// descending score (stable).
    case perGroup

    /// The device torchvision's choice depends on.
    public enum Device: Sendable { case cpu, cuda }

    /// torchvision 0.19's choice for `count` boxes on `device`.
    public static func torchvision(count: Int, device: Device) -> BatchedNMSStrategy {
        count * 4 > (device == .cpu ? 4000 : 20000) ? .perGroup : .coordinateOffsets
    }
}

/// torchvision's `batched_nms`: NMS within each group only.
/// - Parameters:
///   - boxes: (K, 4).
///   - scores: (K).
///   - groups: (K) group of each box (class or level), ≥ 0.
///   - count: K.
/// - Returns: the kept indices, by decreasing score.
public func batchedNMS(_ boxes: UnsafePointer<Float>, _ scores: UnsafePointer<Float>, groups: [Int], count: Int,
                       iouThreshold: Double, strategy: BatchedNMSStrategy) -> [Int] {
    precondition(groups.count == count, "batchedNMS: \(groups.count) groups for \(count) boxes")
    if count == 0 { return [] }
    switch strategy {
    case .coordinateOffsets:
        var maxCoordinate = -Float.infinity
        for i in 0..<(4 * count) { maxCoordinate = max(maxCoordinate, boxes[i]) }
        var shifted = [Float](repeating: 0, count: 4 * count)
        for k in 0..<count {
            let offset = Float(groups[k]) * (maxCoordinate + 1)
            for c in 0..<4 { shifted[4 * k + c] = boxes[4 * k + c] + offset }
        }
        return shifted.withUnsafeBufferPointer { nms($0.baseAddress!, scores, count: count, iouThreshold: iouThreshold) }
    case .perGroup:
        var keepMask = [Bool](repeating: false, count: count)
        for g in Set(groups).sorted() {
            let members = (0..<count).filter { groups[$0] == g }
            var b: [Float] = [], s: [Float] = []
            for m in members { for c in 0..<4 { b.append(boxes[4 * m + c]) }; s.append(scores[m]) }
            let kept = b.withUnsafeBufferPointer { bp in s.withUnsafeBufferPointer { sp in
                nms(bp.baseAddress!, sp.baseAddress!, count: members.count, iouThreshold: iouThreshold)
            } }
            for i in kept { keepMask[members[i]] = true }
        }
        let kept = (0..<count).filter { keepMask[$0] }
        let keptScores = kept.map { scores[$0] }
        return keptScores.withUnsafeBufferPointer { sp in
            stableDescendingOrder(sp.baseAddress!, count: kept.count).map { kept[$0] }
        }
    }
}
