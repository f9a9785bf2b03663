import Foundation
import Engine

/// torchvision's `RPNHead`: on every pyramid map the same 3×3 conv + ReLU (`conv.0.0`), then a
/// 1×1 objectness conv (`cls_logits`, A outputs) and a 1×1 box-delta conv (`bbox_pred`, 4·A).
/// Every conv starts N(0, 0.01²) with bias 0 (torchvision's `RPNHead.__init__`).
///
/// NHWC outputs are already in torchvision's flattened order (`concat_box_prediction_layers`
/// permutes (N, A·k, H, W) to (N, H, W, A, k)): per image, level by level, row-major locations,
/// anchors innermost, matching `AnchorGenerator.anchors`.
public final class RPNHead {
    public let inChannels, anchorsPerLocation: Int
    let conv: SharedConv, relu: [ReLU]
    let cls: SharedConv, bbox: SharedConv
    private var hidden: [Tensor]?

    /// Declares `conv.0.0`, `cls_logits`, `bbox_pred` under the store's current prefix (`rpn.head`).
    public init(_ s: ParameterStore, inChannels c: Int, anchorsPerLocation a: Int, levels: Int = 5) {
        inChannels = c; anchorsPerLocation = a
        let std = Initializer.normal(std: 0.01)
        conv = SharedConv(Conv2d(store: s, name: "conv.0.0", inChannels: c, outChannels: c, kernel: 3, padding: 1, bias: true,
                                 weightInit: std, biasInit: .zeros))
        cls = SharedConv(Conv2d(store: s, name: "cls_logits", inChannels: c, outChannels: a, kernel: 1, bias: true,
                                weightInit: std, biasInit: .zeros))
        bbox = SharedConv(Conv2d(store: s, name: "bbox_pred", inChannels: c, outChannels: 4 * a, kernel: 1, bias: true,
                                 weightInit: std, biasInit: .zeros))
        relu = (0..<levels).map { _ in ReLU() }
    }

    /// - Parameter features: the pyramid maps, each (N, H_l, W_l, C).
    /// - Returns: per level, objectness logits (N, H_l, W_l, A) and box deltas (N, H_l, W_l, 4·A).
    public func forward(_ features: [Tensor], mode: Mode) throws -> (objectness: [Tensor], deltas: [Tensor]) {
        guard features.count <= relu.count else {
            throw EngineError.shapeMismatch(op: "RPNHead", detail: "\(features.count) maps for a head built for \(relu.count)")
        }
        let t = try zip(conv.forward(features, mode: mode), relu).map { try $1.forward($0, mode: mode) }
        hidden = mode == .train ? t : nil
        return (try cls.forward(t, mode: mode), try bbox.forward(t, mode: mode))
    }

    /// - Parameters:
    ///   - dObjectness: per level (N, H_l, W_l, A).
    ///   - dDeltas: per level (N, H_l, W_l, 4·A).
    /// - Returns: the gradient of each pyramid map.
    public func backward(dObjectness: [Tensor], dDeltas: [Tensor]) -> [Tensor] {
        precondition(hidden != nil, "RPNHead.backward without a .train forward")
        hidden = nil
        let dt = zip(cls.backward(dObjectness), bbox.backward(dDeltas)).map { a, b -> Tensor in accumulate(into: a, b); return a }
        return conv.backward(zip(dt, relu).map { $1.backward($0) })
    }
}

/// torchvision's RPN settings (`MaskRCNN` defaults, which the reference keeps).
public struct RPNSettings: Equatable, Sendable {
    /// Top-scoring anchors kept per level before NMS, per image: 2000 in training, 1000 in evaluation.
    public var preNMSTopN: (train: Int, eval: Int) = (2000, 1000)
    /// Proposals kept per image after NMS: 2000 / 1000.
    public var postNMSTopN: (train: Int, eval: Int) = (2000, 1000)
    public var nmsThreshold: Double = 0.7
    /// Boxes with a side below this (after clipping) are dropped: 1e-3.
    public var minSize: Float = 1e-3
    /// Proposals scoring below (after the sigmoid) are dropped: 0.
    public var scoreThreshold: Float = 0
    /// Anchor matching and sampling (used by the RPN loss): IoU ≥ 0.7 foreground, < 0.3 background,
    /// 256 anchors per image, half of them foreground at most.
    public var foregroundIoU: Float = 0.7, backgroundIoU: Float = 0.3
    public var batchSizePerImage = 256
    public var positiveFraction = 0.5
    /// The device whose `batched_nms` size rule is followed (the reference trained on CUDA).
    public var nmsDevice: BatchedNMSStrategy.Device = .cuda

    public init() {}

    public static func == (a: RPNSettings, b: RPNSettings) -> Bool {
        a.preNMSTopN == b.preNMSTopN && a.postNMSTopN == b.postNMSTopN && a.nmsThreshold == b.nmsThreshold
            && a.minSize == b.minSize && a.scoreThreshold == b.scoreThreshold && a.foregroundIoU == b.foregroundIoU
            && a.backgroundIoU == b.backgroundIoU && a.batchSizePerImage == b.batchSizePerImage
            && a.positiveFraction == b.positiveFraction && a.nmsDevice == b.nmsDevice
    }
}

/// One image's proposals: boxes (P, 4) and their objectness probabilities (P).
public struct Proposals: Equatable, Sendable {
    public var boxes: [Float]
    public var scores: [Float]
    public var count: Int { scores.count }
}

/// Indices of the `n` largest values of `values[range]` (absolute indices), largest first, equal
/// values in index order: torch's `topk(n, sorted=True)`, with ties made deterministic.
func topIndices(_ values: UnsafePointer<Float>, _ range: Range<Int>, _ n: Int) -> [Int] {
    let order = stableDescendingOrder(values + range.lowerBound, count: range.count)
    return order.prefix(n).map { $0 + range.lowerBound }
}

/// torchvision's `RegionProposalNetwork.filter_proposals` for one image: per level, the
/// `preNMSTopN` anchors with the highest objectness logits; their decoded boxes clipped to the
/// image; boxes with a side < `minSize` and probabilities < `scoreThreshold` dropped; NMS per
/// level (`batched_nms` with the level as group, IoU 0.7); the first `postNMSTopN` kept.
/// - Parameters:
///   - objectness: (Σ_l H_l·W_l·A) logits of the image, level after level.
///   - boxes: (Σ_l H_l·W_l·A, 4) decoded proposals, same order.
///   - perLevel: anchors of each level.
///   - imageHeight, imageWidth: the image's size before padding (boxes are clipped to it).
///   - mode: `.train` or `.eval` picks the top-n settings.
public func filterProposals(objectness: UnsafePointer<Float>, boxes: UnsafePointer<Float>, perLevel: [Int],
                            imageHeight: Int, imageWidth: Int, settings: RPNSettings, mode: Mode) -> Proposals {
    let preN = mode == .train ? settings.preNMSTopN.train : settings.preNMSTopN.eval
    let postN = mode == .train ? settings.postNMSTopN.train : settings.postNMSTopN.eval
    var candidates: [Int] = [], levels: [Int] = []
    var offset = 0
    for (l, n) in perLevel.enumerated() {
        let top = topIndices(objectness, offset..<(offset + n), min(preN, n))
        candidates += top
        levels += Array(repeating: l, count: top.count)
        offset += n
    }
    var b = [Float](repeating: 0, count: 4 * candidates.count)
    var s = [Float](repeating: 0, count: candidates.count)
    for (j, i) in candidates.enumerated() {
        for c in 0..<4 { b[4 * j + c] = boxes[4 * i + c] }
        s[j] = 1 / (1 + exp(-objectness[i]))
    }
    clipBoxes(&b, count: candidates.count, height: imageHeight, width: imageWidth)
    let kept = removeSmallBoxes(b, count: candidates.count, minSize: settings.minSize).filter { s[$0] >= settings.scoreThreshold }
    var kb: [Float] = [], ks: [Float] = [], kl: [Int] = []
    for j in kept { kb += b[(4 * j)..<(4 * j + 4)]; ks.append(s[j]); kl.append(levels[j]) }
    let strategy = BatchedNMSStrategy.torchvision(count: kept.count, device: settings.nmsDevice)
    let keep = batchedNMS(kb, ks, groups: kl, count: kept.count, iouThreshold: settings.nmsThreshold, strategy: strategy).prefix(postN)
    var out = Proposals(boxes: [], scores: [])
    for j in keep { out.boxes += kb[(4 * j)..<(4 * j + 4)]; out.scores.append(ks[j]) }
    return out
}
