import Engine

/// torchvision's `RegionProposalNetwork.assign_targets_to_anchors` and the regression targets
/// for one image: anchors matched to the ground truth by IoU (`Matcher(0.7, 0.3, low-quality
/// matches)`); label 1 for a match, 0 below 0.3, −1 (ignored) between; targets the RPN box
/// coder's encoding of the matched box (box 0 for unmatched anchors, as torchvision's clamp).
/// - Parameters:
///   - anchors: (A, 4).
///   - gtBoxes: (G, 4); none makes every anchor background.
/// - Returns: labels (A) and regression targets (A, 4).
public func rpnTargets(anchors: [Float], gtBoxes: [Float], matcher: Matcher = Matcher(high: 0.7, low: 0.3, allowLowQualityMatches: true))
    -> (labels: [Int], targets: [Float]) {
    let a = anchors.count / 4, g = gtBoxes.count / 4
    var matched = [Float](repeating: 0, count: 4 * a)
    var labels = [Int](repeating: 0, count: a)
    if g > 0 {
        var iou = [Float](repeating: 0, count: g * a)
        boxIoU(&iou, gtBoxes, count: g, anchors, count: a)
        let m = matcher.match(iou, gts: g, predictions: a)
        for j in 0..<a {
            let k = max(m[j], 0)
            for c in 0..<4 { matched[4 * j + c] = gtBoxes[4 * k + c] }
            labels[j] = m[j] >= 0 ? 1 : m[j] == Matcher.belowLowThreshold ? 0 : -1
        }
    }
    var targets = [Float](repeating: 0, count: 4 * a)
    BoxCoder.rpn.encode(&targets, matched: matched, proposals: anchors, count: a)
    return (labels, targets)
}

/// The RPN's two losses (`RegionProposalNetwork.compute_loss`) over the sampled anchors of all
/// images, and their gradients:
///
///     loss_objectness  = BCE-with-logits mean over sampled anchors (positives and negatives)
///     loss_rpn_box_reg = Σ_positives smooth_l1(deltas − targets; β = 1/9) / (number sampled)
///
/// - Parameters:
///   - objectness: per image (A) logits.
///   - deltas: per image (A, 4).
///   - labels, targets: per image, from `rpnTargets`.
///   - samples: per image, the sampled positive and negative anchors (`sampleBalanced`).
///   - dObjectnessLoss, dBoxLoss: upstream gradients of the two losses.
/// - Returns: the losses and per image d objectness (A), d deltas (A, 4).
public func rpnLoss(objectness: [[Float]], deltas: [[Float]], labels: [[Int]], targets: [[Float]],
                    samples: [(positive: [Int], negative: [Int])], dObjectnessLoss: Float = 1, dBoxLoss: Float = 1)
    -> (objectness: Float, box: Float, dObjectness: [[Float]], dDeltas: [[Float]]) {
    let sampled = samples.reduce(0) { $0 + $1.positive.count + $1.negative.count }
    var logits: [Float] = [], y: [Float] = [], predicted: [Float] = [], wanted: [Float] = []
    for (i, s) in samples.enumerated() {
        for j in s.positive + s.negative { logits.append(objectness[i][j]); y.append(Float(labels[i][j])) }
        for j in s.positive { predicted += deltas[i][(4 * j)..<(4 * j + 4)]; wanted += targets[i][(4 * j)..<(4 * j + 4)] }
    }
    let divisor = Float(max(sampled, 1))
    let lossObj = bceWithLogitsForward(logits, y, count: logits.count)
    let lossBox = smoothL1LossForward(predicted, wanted, count: predicted.count, beta: 1.0 / 9, divisor: divisor)
    var dl = [Float](repeating: 0, count: logits.count), dd = [Float](repeating: 0, count: predicted.count)
    bceWithLogitsBackward(&dl, logits, y, count: logits.count, dloss: dObjectnessLoss)
    smoothL1LossBackward(&dd, predicted, wanted, count: predicted.count, beta: 1.0 / 9, divisor: divisor, dloss: dBoxLoss)
    var dObj = objectness.map { [Float](repeating: 0, count: $0.count) }, dDel = deltas.map { [Float](repeating: 0, count: $0.count) }
    var (u, v) = (0, 0)
    for (i, s) in samples.enumerated() {
        for j in s.positive + s.negative { dObj[i][j] += dl[u]; u += 1 }
        for j in s.positive { for c in 0..<4 { dDel[i][4 * j + c] += dd[v + c] }; v += 4 }
    }
    return (lossObj, lossBox, dObj, dDel)
}
