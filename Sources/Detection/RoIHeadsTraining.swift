import Engine

/// One image's training samples for the box and mask heads (torchvision's
/// `RoIHeads.select_training_samples`).
public struct RoITrainingSamples: Equatable, Sendable {
    /// (S, 4) sampled proposals (the ground-truth boxes are candidates too).
    public var proposals: [Float]
    /// (S) class of each sample, 0 for background.
    public var labels: [Int]
    /// (S) the ground-truth box each sample is matched to (0 for background samples, as torchvision's clamp).
    public var matched: [Int]
    /// (S, 4) box-head regression targets (weights 10, 10, 5, 5).
    public var targets: [Float]
    /// (S) the sampled candidates' indices (proposals first, then the ground-truth boxes): the draw.
    public var candidates: [Int]
    public var count: Int { labels.count }
}

/// torchvision's `select_training_samples` for one image: the ground-truth boxes appended to the
/// proposals; each candidate matched by `Matcher(0.5, 0.5)` and labelled with its box's class
/// (0 below 0.5); 512 sampled with at most 25 % positives (`sampleBalanced`); the samples in
/// ascending candidate order (torchvision's `where(pos | neg)`), with their regression targets.
/// - Parameters:
///   - proposals: (P, 4) the RPN's proposals.
///   - gtBoxes: (G, 4); gtLabels: (G) classes ≥ 1.
///   - rng: the sampler's stream for this image and step; or `injected`, candidate indices to
///     use instead (another implementation's draw).
public func selectTrainingSamples(proposals: [Float], gtBoxes: [Float], gtLabels: [Int], batchSize: Int = 512,
                                  positiveFraction: Double = 0.25, rng: Philox, injected: [Int]? = nil) -> RoITrainingSamples {
    let candidates = proposals + gtBoxes
    let (p, g) = (candidates.count / 4, gtBoxes.count / 4)
    var matched = [Int](repeating: 0, count: p), labels = [Int](repeating: 0, count: p)
    if g > 0 {
        var iou = [Float](repeating: 0, count: g * p)
        boxIoU(&iou, gtBoxes, count: g, candidates, count: p)
        let m = Matcher(high: 0.5, low: 0.5, allowLowQualityMatches: false).match(iou, gts: g, predictions: p)
        for j in 0..<p {
            matched[j] = max(m[j], 0)
            labels[j] = m[j] >= 0 ? gtLabels[m[j]] : m[j] == Matcher.belowLowThreshold ? 0 : -1
        }
    }
    let chosen: [Int]
    if let injected { chosen = injected } else {
        let (pos, neg) = sampleBalanced(labels, batchSize: batchSize, positiveFraction: positiveFraction, rng: rng)
        chosen = (pos + neg).sorted()
    }
    var out = RoITrainingSamples(proposals: [], labels: [], matched: [], targets: [], candidates: chosen)
    var gtOfSample: [Float] = []
    for j in chosen {
        out.proposals += candidates[(4 * j)..<(4 * j + 4)]
        out.labels.append(labels[j]); out.matched.append(matched[j])
        gtOfSample += g > 0 ? Array(gtBoxes[(4 * matched[j])..<(4 * matched[j] + 4)]) : [0, 0, 0, 0]
    }
    out.targets = [Float](repeating: 0, count: 4 * chosen.count)
    BoxCoder.roiHeads.encode(&out.targets, matched: gtOfSample, proposals: out.proposals, count: chosen.count)
    return out
}

/// torchvision's `fastrcnn_loss` over the samples of all images:
///
///     loss_classifier = cross-entropy(logits, labels), mean over samples
///     loss_box_reg    = Σ_{label > 0} smooth_l1(deltas[label] − targets; β = 1/9) / (number of samples)
///
/// - Parameters:
///   - logits: (S, C).
///   - deltas: (S, 4·C).
///   - labels: (S); targets: (S, 4).
/// - Returns: both losses and d logits (S, C), d deltas (S, 4·C).
/// - Throws: `EngineError` for a label outside 0..<C.
public func fastRCNNLoss(logits: Tensor, deltas: Tensor, labels: [Int], targets: [Float], dClassifier: Float = 1, dBox: Float = 1)
    throws -> (classifier: Float, box: Float, dLogits: Tensor, dDeltas: Tensor) {
    let (s, c) = (logits.shape[0], logits.shape[1])
    let (ce, dl) = try softmaxCrossEntropy(logits: logits, targets: .labels(labels))
    for i in 0..<dl.count { dl.data[i] *= dClassifier }
    var predicted: [Float] = [], wanted: [Float] = [], at: [Int] = []
    for k in 0..<s where labels[k] > 0 {
        let o = (k * c + labels[k]) * 4
        predicted += UnsafeBufferPointer(start: deltas.data + o, count: 4)
        wanted += targets[(4 * k)..<(4 * k + 4)]
        at.append(o)
    }
    let divisor = Float(max(s, 1))
    let box = smoothL1LossForward(predicted, wanted, count: predicted.count, beta: 1.0 / 9, divisor: divisor)
    var dp = [Float](repeating: 0, count: predicted.count)
    smoothL1LossBackward(&dp, predicted, wanted, count: predicted.count, beta: 1.0 / 9, divisor: divisor, dloss: dBox)
    let dd = Tensor(zeros: deltas.shape)
    for (j, o) in at.enumerated() { for q in 0..<4 { dd.data[o + q] += dp[4 * j + q] } }
    return (Float(ce), box, dl, dd)
}

/// torchvision's `project_masks_on_boxes`: each positive sample's ground-truth mask cropped to
/// the sample's box and resized to M×M by `roi_align(masks, rois, M, scale 1, sampling adaptive)`.
/// - Parameters:
///   - masks: (G, H, W) ground-truth masks of the image (0/1 values).
///   - boxes: (K, 4) positive samples; matched: (K) their boxes' indices.
/// - Returns: (K, M, M) mask targets in [0, 1].
public func projectMasksOnBoxes(masks: Tensor, boxes: [Float], matched: [Int], side m: Int) throws -> [Float] {
    let k = matched.count
    if k == 0 { return [] }
    let maps = masks.reshaped([masks.shape[0], masks.shape[1], masks.shape[2], 1])
    var rois: [Float] = []
    for j in 0..<k { rois += [Float(matched[j])] + boxes[(4 * j)..<(4 * j + 4)] }
    return try roiAlign(maps, rois: Tensor(shape: [k, 5], values: rois), outHeight: m, outWidth: m, spatialScale: 1, samplingRatio: -1).array
}

/// torchvision's `maskrcnn_loss`: BCE with logits between each positive sample's mask logits of
/// its own class and its projected target, mean over all pixels of all samples.
/// - Parameters:
///   - logits: (K, M, M, C) the mask head's output (NHWC).
///   - labels: (K) classes; targets: (K, M, M).
/// - Returns: the loss and d logits (K, M, M, C).
public func maskLoss(logits: Tensor, labels: [Int], targets: [Float], dLoss: Float = 1) -> (loss: Float, dLogits: Tensor) {
    let (k, p, c) = (logits.shape[0], logits.shape[1] * logits.shape[2], logits.shape[3])
    var x = [Float](repeating: 0, count: k * p)
    for j in 0..<k { for q in 0..<p { x[j * p + q] = logits.data[(j * p + q) * c + labels[j]] } }
    let loss = bceWithLogitsForward(x, targets, count: x.count)
    var dx = [Float](repeating: 0, count: x.count)
    bceWithLogitsBackward(&dx, x, targets, count: x.count, dloss: dLoss)
    let d = Tensor(zeros: logits.shape)
    for j in 0..<k { for q in 0..<p { d.data[(j * p + q) * c + labels[j]] = dx[j * p + q] } }
    return (loss, d)
}
