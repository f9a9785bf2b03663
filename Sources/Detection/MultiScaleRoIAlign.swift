import Engine

/// torchvision's `MultiScaleRoIAlign(["0", "1", "2", "3"], P, 2)`: each box is pooled from the
/// FPN level its size maps to (`LevelMapper`, scales set up from the maps and the images' sizes),
/// with `roi_align` at that level's scale; the output keeps the boxes' order (image after image).
/// - Parameters:
///   - maps: P2…P5, each (N, H_l, W_l, C) (the "pool" map is not used).
///   - boxes: per image, (K_i, 4) in the resized image's pixels.
///   - imageSizes: each image's resized (unpadded) size.
///   - output: P (7 for boxes, 14 for masks).
/// - Returns: (Σ K_i, P, P, C), and for the backward each box's level, the (K, 5) regions and the
///   maps' scales.
public func multiScaleRoIAlign(_ maps: [Tensor], boxes: [[Float]], imageSizes: [(height: Int, width: Int)], output: Int,
                               samplingRatio: Int = 2) throws -> (features: Tensor, levels: [Int], rois: [Float], scales: [Float]) {
    let (scales, mapper) = LevelMapper.setup(featureHeights: maps.map { $0.shape[1] }, imageSizes: imageSizes)
    var rois: [Float] = []
    for (i, b) in boxes.enumerated() {
        for k in 0..<(b.count / 4) { rois += [Float(i)] + b[(4 * k)..<(4 * k + 4)] }
    }
    let all = boxes.flatMap { $0 }, k = all.count / 4, c = maps[0].shape[3], cell = output * output * c
    let levels = mapper.levels(all, count: k)
    let out = Tensor(zeros: [k, output, output, c])
    for (l, map) in maps.enumerated() {
        let members = (0..<k).filter { levels[$0] == l }
        if members.isEmpty { continue }
        let r = Tensor(shape: [members.count, 5], values: members.flatMap { rois[(5 * $0)..<(5 * $0 + 5)] })
        let y = try roiAlign(map, rois: r, outHeight: output, outWidth: output, spatialScale: scales[l], samplingRatio: samplingRatio)
        for (j, m) in members.enumerated() { (out.data + m * cell).update(from: y.data + j * cell, count: cell) }
    }
    return (out, levels, rois, scales)
}

/// Gradient of `multiScaleRoIAlign` with respect to the maps.
/// - Parameters:
///   - dy: (Σ K_i, P, P, C).
///   - shapes: the maps' shapes.
///   - levels, rois, scales: from the forward.
/// - Returns: one gradient per map.
public func multiScaleRoIAlignBackward(_ dy: Tensor, shapes: [[Int]], levels: [Int], rois: [Float], scales: [Float],
                                       samplingRatio: Int = 2) -> [Tensor] {
    let (k, p, c) = (dy.shape[0], dy.shape[1], dy.shape[3]), cell = p * p * c
    return shapes.enumerated().map { l, shape in
        let d = Tensor(zeros: shape)
        let members = (0..<k).filter { levels[$0] == l }
        if members.isEmpty { return d }
        let r = members.flatMap { rois[(5 * $0)..<(5 * $0 + 5)] }
        let g = Tensor(uninitialized: [members.count, p, p, c])
        for (j, m) in members.enumerated() { (g.data + j * cell).update(from: dy.data + m * cell, count: cell) }
        let geometry = RoIAlignGeometry(batch: shape[0], height: shape[1], width: shape[2], channels: c, outHeight: p, outWidth: p,
                                        spatialScale: scales[l], samplingRatio: samplingRatio)
        r.withUnsafeBufferPointer { roiAlignBackward(d.data, g.data, $0.baseAddress!, regions: members.count, geometry) }
        return d
    }
}
