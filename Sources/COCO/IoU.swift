/// Intersection over union of boxes and of RLE masks with pycocotools' semantics (`bbIou`,
/// `rleIou`), including its crowd rule: for a crowd ground truth the union is the detection's
/// own area, so a detection inside a crowd region scores 1 whatever the region's size.
public enum IoU {
    /// IoU of every detection box with every ground-truth box, `[x, y, w, h]` each.
    /// - Returns: `(detections, groundTruths)` row-major: `result[d * gt.count + g]`.
    public static func boxes(_ dt: [[Double]], _ gt: [[Double]], crowd: [Bool]) -> [Double] {
        precondition(crowd.count == gt.count, "IoU.boxes: \(crowd.count) crowd flags for \(gt.count) boxes")
        var o = [Double](repeating: 0, count: dt.count * gt.count)
        for g in 0..<gt.count {
            let G = gt[g]
            let ga = G[2] * G[3]
            for d in 0..<dt.count {
                let D = dt[d]
                let da = D[2] * D[3]
                let w = min(D[2] + D[0], G[2] + G[0]) - max(D[0], G[0])
                if w <= 0 { continue }
                let h = min(D[3] + D[1], G[3] + G[1]) - max(D[1], G[1])
                if h <= 0 { continue }
                let i = w * h
                let u = crowd[g] ? da : da + ga - i
                o[d * gt.count + g] = i / u
            }
        }
        return o
    }

    /// IoU of every detection mask with every ground-truth mask. As pycocotools, the exact
    /// overlap is computed only where the masks' boxes overlap; masks of another size than the
    /// ground truth's get −1.
    /// - Returns: `(detections, groundTruths)` row-major.
    public static func masks(_ dt: [RLE], _ gt: [RLE], crowd: [Bool]) -> [Double] {
        precondition(crowd.count == gt.count, "IoU.masks: \(crowd.count) crowd flags for \(gt.count) masks")
        var o = boxes(dt.map(\.boundingBox), gt.map(\.boundingBox), crowd: crowd)
        for g in 0..<gt.count {
            for d in 0..<dt.count where o[d * gt.count + g] > 0 {
                let a = dt[d], b = gt[g]
                if a.height != b.height || a.width != b.width { o[d * gt.count + g] = -1; continue }
                var ca = a.counts[0], cb = b.counts[0]
                var va = false, vb = false
                var ia = 1, ib = 1
                var inter: UInt32 = 0, union: UInt32 = 0, ct: UInt32 = 1
                while ct > 0 {
                    let c = min(ca, cb)
                    if va || vb { union &+= c; if va && vb { inter &+= c } }
                    ct = 0
                    ca -= c
                    if ca == 0 && ia < a.counts.count { ca = a.counts[ia]; ia += 1; va.toggle() }
                    ct &+= ca
                    cb -= c
                    if cb == 0 && ib < b.counts.count { cb = b.counts[ib]; ib += 1; vb.toggle() }
                    ct &+= cb
                }
                if inter == 0 { union = 1 } else if crowd[g] { union = a.area }
                o[d * gt.count + g] = Double(inter) / Double(union)
            }
        }
        return o
    }
}
