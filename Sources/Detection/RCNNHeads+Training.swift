import Engine

/// One training image's ground truth, in the resized image's pixels.
public struct DetectionTarget {
    /// (G, 4) boxes.
    public var boxes: [Float]
    /// (G) classes ≥ 1.
    public var labels: [Int]
    /// (G, H, W) masks (0/1), H×W the resized image.
    public var masks: Tensor
    public init(boxes: [Float], labels: [Int], masks: Tensor) { self.boxes = boxes; self.labels = labels; self.masks = masks }
}

/// The random choices of one training step: per image the RPN's sampled anchors and the box
/// head's sampled candidates (proposals then ground truth). Exported so that another
/// implementation can be held to the same draw, or injected from one.
public struct TrainingDraws: Sendable {
    public var rpn: [(positive: [Int], negative: [Int])]
    public var roi: [[Int]]
    /// Per image the sampled candidates' boxes (k, 4) in the resized image's pixels, as the box
    /// head received them (filled by `trainingStep`; not read from an injected draw). The indices
    /// in `roi` name these boxes only in the proposal list of this implementation: another one
    /// whose proposals differ by a near-tie in top-n or NMS can be given the boxes instead.
    public var roiBoxes: [[Float]]
    public init(rpn: [(positive: [Int], negative: [Int])], roi: [[Int]], roiBoxes: [[Float]] = []) {
        self.rpn = rpn; self.roi = roi; self.roiBoxes = roiBoxes
    }
}

/// Mask R-CNN's five losses (torchvision's names).
public struct DetectionLosses: Equatable, Sendable {
    public var classifier: Float = 0, boxReg: Float = 0, mask: Float = 0, objectness: Float = 0, rpnBoxReg: Float = 0
    public init(classifier: Float = 0, boxReg: Float = 0, mask: Float = 0, objectness: Float = 0, rpnBoxReg: Float = 0) {
        self.classifier = classifier; self.boxReg = boxReg; self.mask = mask; self.objectness = objectness; self.rpnBoxReg = rpnBoxReg
    }
    /// The sum the reference backpropagates.
    public var total: Float { classifier + boxReg + mask + objectness + rpnBoxReg }
}

extension RCNNHeads {
    /// One training step after the body, forward and backward (torchvision's `GeneralizedRCNN`
    /// in train mode): FPN; RPN head, anchors, targets, sampled losses; proposals from the
    /// detached deltas (train top-n); box-head samples, 7×7 pooling, box head and `fastRCNNLoss`;
    /// positives' 14×14 pooling, mask head and `maskLoss`; then every gradient back to the body's
    /// outputs, parameter gradients added into the store.
    /// - Parameters:
    ///   - features: the body's stage outputs (C2…C5), each (N, H, W, C).
    ///   - targets: per image, in the resized frame.
    ///   - draws: the samples to use; nil draws them from Philox streams of `seed` (purpose
    ///     `.sample`, index step·2¹⁶ + 2·i for image i's anchors, + 1 for its proposals).
    ///   - step: the training step (keys the streams; one batch holds fewer than 2¹⁵ images).
    ///   - weights: upstream gradient of each loss (1 each for the plain sum).
    /// - Returns: the losses, the draws used, and the gradient of each feature map.
    public func trainingStep(features: [Tensor], paddedSize: (height: Int, width: Int), imageSizes: [(height: Int, width: Int)],
                             targets: [DetectionTarget], draws: TrainingDraws?, seed: UInt64 = 0, step: Int = 0,
                             weights: DetectionLosses = DetectionLosses(classifier: 1, boxReg: 1, mask: 1, objectness: 1, rpnBoxReg: 1))
        throws -> (losses: DetectionLosses, draws: TrainingDraws, dFeatures: [Tensor]) {
        let n = imageSizes.count
        precondition(targets.count == n && (draws == nil || (draws!.rpn.count == n && draws!.roi.count == n)), "trainingStep: one target and draw per image")
        func stream(_ i: Int) -> Philox { Philox(seed: seed, purpose: .sample, index: UInt64(step) << 16 + UInt64(i)) }
        let maps = try fpn.forward(features, mode: .train)

        // RPN.
        let (objectness, deltas) = try rpnHead.forward(maps, mode: .train)
        let sizes = maps.map { (height: $0.shape[1], width: $0.shape[2]) }
        let (anchors, perLevel) = anchorGenerator.anchors(imageHeight: paddedSize.height, imageWidth: paddedSize.width, featureSizes: sizes)
        let total = perLevel.reduce(0, +)
        if let draws { try checkInjected(draws, anchors: total, imageCount: n) }
        var logitsPerImage: [[Float]] = [], deltasPerImage: [[Float]] = [], proposals: [Proposals] = []
        var rpnLabels: [[Int]] = [], rpnTargets_: [[Float]] = [], rpnDraws: [(positive: [Int], negative: [Int])] = []
        for i in 0..<n {
            var l: [Float] = [], d: [Float] = []
            for (lv, m) in perLevel.enumerated() {
                l += UnsafeBufferPointer(start: objectness[lv].data + i * m, count: m)
                d += UnsafeBufferPointer(start: deltas[lv].data + i * 4 * m, count: 4 * m)
            }
            var boxes = [Float](repeating: 0, count: 4 * total)
            BoxCoder.rpn.decode(&boxes, deltas: d, boxes: anchors, count: total)
            proposals.append(filterProposals(objectness: l, boxes: boxes, perLevel: perLevel, imageHeight: imageSizes[i].height,
                                             imageWidth: imageSizes[i].width, settings: rpnSettings, mode: .train))
            let (lab, tgt) = rpnTargets(anchors: anchors, gtBoxes: targets[i].boxes)
            rpnDraws.append(draws?.rpn[i] ?? sampleBalanced(lab, batchSize: rpnSettings.batchSizePerImage,
                                                             positiveFraction: rpnSettings.positiveFraction, rng: stream(2 * i)))
            logitsPerImage.append(l); deltasPerImage.append(d); rpnLabels.append(lab); rpnTargets_.append(tgt)
        }
        let rpn = rpnLoss(objectness: logitsPerImage, deltas: deltasPerImage, labels: rpnLabels, targets: rpnTargets_, samples: rpnDraws,
                          dObjectnessLoss: weights.objectness, dBoxLoss: weights.rpnBoxReg)

        // Box head.
        var samples: [RoITrainingSamples] = []
        for i in 0..<n {
            if let injected = draws?.roi[i], let bad = injected.first(where: { !(0..<(proposals[i].count + targets[i].labels.count)).contains($0) }) {
                throw EngineError.invalidArgument(op: "trainingStep", detail: "image \(i)'s injected box-head draw has candidate \(bad); "
                    + "this step has \(proposals[i].count) proposals and \(targets[i].labels.count) ground-truth boxes (indices 0..<\(proposals[i].count + targets[i].labels.count))")
            }
            samples.append(selectTrainingSamples(proposals: proposals[i].boxes, gtBoxes: targets[i].boxes, gtLabels: targets[i].labels,
                                                 rng: stream(2 * i + 1), injected: draws?.roi[i]))
        }
        let boxMaps = Array(maps.prefix(4))
        let pooled = try multiScaleRoIAlign(boxMaps, boxes: samples.map(\.proposals), imageSizes: imageSizes, output: 7)
        let (clsLogits, boxDeltas) = try boxPredictor.forward(boxHead.forward(pooled.features, mode: .train), mode: .train)
        let box = try fastRCNNLoss(logits: clsLogits, deltas: boxDeltas, labels: samples.flatMap(\.labels), targets: samples.flatMap(\.targets),
                                   dClassifier: weights.classifier, dBox: weights.boxReg)
        let dPooled = boxHead.backward(boxPredictor.backward(dLogits: box.dLogits, dDeltas: box.dDeltas))
        var dMaps = multiScaleRoIAlignBackward(dPooled, shapes: boxMaps.map(\.shape), levels: pooled.levels, rois: pooled.rois, scales: pooled.scales)

        // Mask head on the positive samples.
        var maskBoxes: [[Float]] = [], maskTargets: [Float] = [], maskLabels: [Int] = []
        for (i, s) in samples.enumerated() {
            let pos = s.labels.indices.filter { s.labels[$0] > 0 }
            let b = pos.flatMap { s.proposals[(4 * $0)..<(4 * $0 + 4)] }
            maskBoxes.append(b)
            maskLabels += pos.map { s.labels[$0] }
            maskTargets += try projectMasksOnBoxes(masks: targets[i].masks, boxes: b, matched: pos.map { s.matched[$0] }, side: 28)
        }
        var maskLossValue: Float = 0
        if !maskLabels.isEmpty {
            let mp = try multiScaleRoIAlign(boxMaps, boxes: maskBoxes, imageSizes: imageSizes, output: 14)
            let logits = try maskHead.forward(mp.features, mode: .train)
            guard logits.shape[1] == 28 else {
                throw EngineError.shapeMismatch(op: "maskrcnn_loss", detail: "mask logits \(shapeString(logits.shape)); the targets are 28×28")
            }
            let m = maskLoss(logits: logits, labels: maskLabels, targets: maskTargets, dLoss: weights.mask)
            maskLossValue = m.loss
            let dm = multiScaleRoIAlignBackward(maskHead.backward(m.dLogits), shapes: boxMaps.map(\.shape), levels: mp.levels, rois: mp.rois, scales: mp.scales)
            for (a, b) in zip(dMaps, dm) { accumulate(into: a, b) }
        }

        // RPN backward: per-image gradients back into the per-level NHWC layout.
        let dObj = perLevel.indices.map { Tensor(zeros: objectness[$0].shape) }, dDel = perLevel.indices.map { Tensor(zeros: deltas[$0].shape) }
        for i in 0..<n {
            var offset = 0
            for (lv, m) in perLevel.enumerated() {
                for j in 0..<m { dObj[lv].data[i * m + j] = rpn.dObjectness[i][offset + j] }
                for j in 0..<(4 * m) { dDel[lv].data[i * 4 * m + j] = rpn.dDeltas[i][4 * offset + j] }
                offset += m
            }
        }
        let dFromRPN = rpnHead.backward(dObjectness: dObj, dDeltas: dDel)
        for l in 0..<4 { accumulate(into: dMaps[l], dFromRPN[l]) }
        dMaps.append(dFromRPN[4])
        let dFeatures = fpn.backward(dMaps)
        let losses = DetectionLosses(classifier: box.classifier, boxReg: box.box, mask: maskLossValue, objectness: rpn.objectness, rpnBoxReg: rpn.box)
        let used = TrainingDraws(rpn: rpnDraws, roi: samples.map(\.candidates), roiBoxes: samples.map(\.proposals))
        return (losses, used, dFeatures)
    }

    /// Checks injected RPN draws against this step's anchors: every index in range, none twice.
    func checkInjected(_ draws: TrainingDraws, anchors total: Int, imageCount n: Int) throws {
        guard draws.rpn.count == n, draws.roi.count == n else {
            throw EngineError.invalidArgument(op: "trainingStep", detail: "injected draws for \(draws.rpn.count) images, the batch has \(n)")
        }
        for (i, d) in draws.rpn.enumerated() {
            let all = d.positive + d.negative
            if let bad = all.first(where: { !(0..<total).contains($0) }) {
                throw EngineError.invalidArgument(op: "trainingStep", detail: "image \(i)'s injected RPN draw has anchor \(bad); this batch has \(total) anchors per image")
            }
            guard Set(all).count == all.count else {
                throw EngineError.invalidArgument(op: "trainingStep", detail: "image \(i)'s injected RPN draw names an anchor twice")
            }
        }
    }
}
