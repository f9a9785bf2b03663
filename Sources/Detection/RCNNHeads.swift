import Engine
import Foundation

/// One image's final output: detections in the original image's pixels and their masks.
public struct ImageDetections: Sendable {
    public var detections: Detections
    /// (D, H, W) mask probabilities pasted into the original image (threshold at 0.5 for binary masks).
    public var masks: [Float]
    public var height: Int, width: Int
}

/// Everything of Mask R-CNN after the body: FPN, RPN, the box and mask heads, and their
/// settings. `detect` is torchvision's `GeneralizedRCNN.forward` in eval mode from the body's
/// stage outputs on.
public final class RCNNHeads {
    public let fpn: FeaturePyramidNetwork
    public let rpnHead: RPNHead
    public let boxHead: TwoMLPHead
    public let boxPredictor: FastRCNNPredictor
    public let maskHead: MaskHead
    public let anchorGenerator: AnchorGenerator
    public let classes: Int
    public var rpnSettings = RPNSettings()
    public var boxSettings = BoxHeadSettings()

    public init(fpn: FeaturePyramidNetwork, rpnHead: RPNHead, boxHead: TwoMLPHead, boxPredictor: FastRCNNPredictor,
                maskHead: MaskHead, anchorGenerator: AnchorGenerator, classes: Int) {
        self.fpn = fpn; self.rpnHead = rpnHead; self.boxHead = boxHead; self.boxPredictor = boxPredictor
        self.maskHead = maskHead; self.anchorGenerator = anchorGenerator; self.classes = classes
    }

    /// The RPN's proposals for every image (eval): head on every map, anchors of the padded batch,
    /// deltas decoded (weights 1, 1, 1, 1), then `filterProposals`.
    /// - Parameters:
    ///   - maps: the pyramid (P2…P5, pool), each (N, H_l, W_l, C).
    ///   - paddedSize: the batch's padded size (anchor strides).
    ///   - imageSizes: each image's resized size (clipping).
    public func proposals(_ maps: [Tensor], paddedSize: (height: Int, width: Int), imageSizes: [(height: Int, width: Int)],
                          mode: Mode) throws -> [Proposals] {
        let (objectness, deltas) = try rpnHead.forward(maps, mode: mode)
        let sizes = maps.map { (height: $0.shape[1], width: $0.shape[2]) }
        let (anchors, perLevel) = anchorGenerator.anchors(imageHeight: paddedSize.height, imageWidth: paddedSize.width, featureSizes: sizes)
        let total = perLevel.reduce(0, +)
        return try imageSizes.indices.map { i -> Proposals in
            // Image i's logits and deltas, level after level (NHWC rows are already (H, W, A)).
            var logits: [Float] = [], d: [Float] = []
            logits.reserveCapacity(total); d.reserveCapacity(4 * total)
            for (l, n) in perLevel.enumerated() {
                guard objectness[l].count == maps[l].shape[0] * n else {
                    throw EngineError.shapeMismatch(op: "RPN", detail: "level \(l): \(objectness[l].count) logits for \(n) anchors per image")
                }
                logits += UnsafeBufferPointer(start: objectness[l].data + i * n, count: n)
                d += UnsafeBufferPointer(start: deltas[l].data + i * 4 * n, count: 4 * n)
            }
            var boxes = [Float](repeating: 0, count: 4 * total)
            BoxCoder.rpn.decode(&boxes, deltas: d, boxes: anchors, count: total)
            return filterProposals(objectness: logits, boxes: boxes, perLevel: perLevel, imageHeight: imageSizes[i].height,
                                   imageWidth: imageSizes[i].width, settings: rpnSettings, mode: mode)
        }
    }

    /// Detections and masks of a batch in eval mode.
    /// - Parameters:
    ///   - features: the body's stage outputs (C2…C5).
    ///   - paddedSize: the padded batch size.
    ///   - imageSizes: each image's resized size.
    ///   - originalSizes: each image's size before the transform (output frame).
    public func detect(features: [Tensor], paddedSize: (height: Int, width: Int), imageSizes: [(height: Int, width: Int)],
                       originalSizes: [(height: Int, width: Int)]) throws -> [ImageDetections] {
        let maps = try fpn.forward(features, mode: .eval)
        let props = try proposals(maps, paddedSize: paddedSize, imageSizes: imageSizes, mode: .eval)
        func empty(_ i: Int) -> ImageDetections {
            ImageDetections(detections: Detections(), masks: [], height: originalSizes[i].height, width: originalSizes[i].width)
        }
        if props.allSatisfy({ $0.count == 0 }) { return imageSizes.indices.map(empty) }
        let pooled = try multiScaleRoIAlign(Array(maps.prefix(4)), boxes: props.map(\.boxes), imageSizes: imageSizes, output: 7)
        let (logits, deltas) = try boxPredictor.forward(boxHead.forward(pooled.features, mode: .eval), mode: .eval)
        var detections: [Detections] = []
        var first = 0
        for (i, p) in props.enumerated() {
            detections.append(postprocessDetections(logits: logits.data + first * classes, deltas: deltas.data + first * 4 * classes,
                                                    proposals: p.boxes, count: p.count, classes: classes,
                                                    imageHeight: imageSizes[i].height, imageWidth: imageSizes[i].width, settings: boxSettings))
            first += p.count
        }
        if detections.allSatisfy({ $0.count == 0 }) { return imageSizes.indices.map(empty) }
        let maskPooled = try multiScaleRoIAlign(Array(maps.prefix(4)), boxes: detections.map(\.boxes), imageSizes: imageSizes, output: 14)
        let maskLogits = try maskHead.forward(maskPooled.features, mode: .eval)   // (D, 28, 28, classes)
        let side = maskLogits.shape.count == 4 ? maskLogits.shape[1] : 0
        var out: [ImageDetections] = []
        first = 0
        for (i, var det) in detections.enumerated() {
            // The labelled class's mask, through the sigmoid (`maskrcnn_inference`).
            var probs = [Float](repeating: 0, count: det.count * side * side)
            for d in 0..<det.count { for q in 0..<(side * side) {
                let x = maskLogits.data[((first + d) * side * side + q) * classes + det.labels[d]]
                probs[d * side * side + q] = 1 / (1 + exp(-x))
            } }
            first += det.count
            resizeBoxes(&det.boxes, from: imageSizes[i], to: originalSizes[i])
            let (h, w) = originalSizes[i]
            var masks = [Float](repeating: 0, count: det.count * h * w)
            if det.count > 0 {
                pasteMasksInImage(&masks, masks: probs, boxes: det.boxes, count: det.count, side: side, imageHeight: h, imageWidth: w)
            }
            out.append(ImageDetections(detections: det, masks: masks, height: h, width: w))
        }
        return out
    }
}
