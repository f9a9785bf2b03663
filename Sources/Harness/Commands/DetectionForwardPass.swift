import Detection
import Engine
import Foundation
import RunStore
import Zoo

/// `rkan-repro forward` for a detector spec (`maskrcnn(…)`): torchvision's `MaskRCNN` in eval mode
/// (detections and masks per image) or, with `grad`, one training step (the five losses, every
/// parameter gradient, the draws used). Files: `DetectionParityFile`.
public enum DetectionForwardPass {
    public struct Summary: Sendable {
        /// Detections per image (eval mode).
        public var detections: [Int]
        /// torchvision's loss names and values (`--grad`).
        public var losses: [(name: String, value: Float)]
        public var gradients: Int
        /// File keys the detector does not use that are not another name of a used tensor.
        public var ignoredKeys: [String]
        /// File keys that repeat a used tensor under one of RKAN_RCNN's other names.
        public var aliasKeys: Int
    }

    /// Most images in one input file (each is resized to 640 px on its shorter side).
    public static let maxImages = 64

    /// - Throws: `SpecError`, `RunStoreError` (unreadable or malformed files), `HarnessError`
    ///   (weights that do not fit, sizes out of range), `EngineError` (draws that do not fit the step).
    @discardableResult
    public static func run(spec: ModelSpec, classes: Int, weights: URL, input: URL, output: URL, grad: Bool, threads: Int = 1) throws -> Summary {
        try OutputGuard.check(output: output, option: "--output", inputs: [(weights, "--weights file"), (input, "--input file")])
        try SizeLimits.check(classes, "--classes", in: 2...SizeLimits.classes,
                             fix: "pass the number of classes the weights were trained for (81 for COCO as the reference counts them)")
        let x: DetectionParityInput
        do { x = try DetectionParityFile.readInput(input, requireTargets: grad) } catch RunStoreError.missingObject(let path, "/images") {
            throw HarnessError.badConfig(what: "--input \(path)", detail: "a detector's input has /images/0, /images/1, … (float32 (3, H, W) each, "
                + "pixels in [0, 1]) and for --grad /targets/i/{boxes,labels,masks}; this file has no /images (a classifier's /input?)")
        }
        try SizeLimits.check(x.images.count, "images in \(input.lastPathComponent)", in: 1...maxImages, fix: "split the images over several files")
        for (i, image) in x.images.enumerated() {
            try SizeLimits.check(max(image.shape[1], image.shape[2]), "side of /images/\(i) in \(input.lastPathComponent)", in: 1...SizeLimits.imageSide,
                                 fix: "downscale the image (the detector resizes it to 640 px on its shorter side anyway)")
        }
        if !grad, x.draws != nil {
            throw HarnessError.badConfig(what: "input \(input.path)", detail: "/draws are the random choices of a training step; pass --grad, or remove /draws for eval mode")
        }
        let model = try MaskRCNN(spec: spec, classes: classes, context: EngineContext.fromEnvironment(threads: threads))
        let loaded = try load(weights: weights, into: model)
        let images = x.images.map { Tensor(shape: [$0.shape[1], $0.shape[2], 3], values: hwc(fromCHW: $0)) }
        var out = DetectionParityOutput()
        if grad {
            let targets = x.targets!.map { t in
                DetectionTarget(boxes: t.boxes, labels: t.labels.map(Int.init), masks: Tensor(shape: t.masks.shape, values: t.masks.values.map(Float.init)))
            }
            let injected = x.draws.map { d in
                TrainingDraws(rpn: d.map { ($0.rpnPositive.map(Int.init), $0.rpnNegative.map(Int.init)) }, roi: d.map { $0.roi.map(Int.init) })
            }
            model.store.zeroGrad()
            let (losses, used) = try model.trainingStep(images: images, targets: targets, draws: injected)
            out.losses = [("loss_classifier", losses.classifier), ("loss_box_reg", losses.boxReg), ("loss_mask", losses.mask),
                          ("loss_objectness", losses.objectness), ("loss_rpn_box_reg", losses.rpnBoxReg)]
            out.grads = model.store.parameters.map { WeightEntry(key: $0.name, shape: $0.shape, values: .float32($0.torchGrad())) }
            out.draws = used.rpn.indices.map { i in
                DetectionParityDraw(rpnPositive: used.rpn[i].positive.map(Int64.init), rpnNegative: used.rpn[i].negative.map(Int64.init),
                                    roi: used.roi[i].map(Int64.init), roiBoxes: used.roiBoxes[i])
            }
        } else {
            for d in try model.detect(images: images) {
                out.detections.append(DetectionParityDetections(
                    boxes: d.detections.boxes, scores: d.detections.scores, labels: d.detections.labels.map(Int64.init),
                    masks: ShapedArray(shape: [d.detections.count, 1, d.height, d.width], values: d.masks)))
            }
        }
        try DetectionParityFile.writeOutput(out, to: output)
        return Summary(detections: out.detections.map(\.scores.count), losses: out.losses, gradients: out.grads.count,
                       ignoredKeys: loaded.ignored, aliasKeys: loaded.aliases)
    }

    /// (H, W, 3) values of a (3, H, W) image.
    static func hwc(fromCHW x: ShapedArray<Float>) -> [Float] {
        let (h, w) = (x.shape[1], x.shape[2])
        var out = [Float](repeating: 0, count: 3 * h * w)
        for c in 0..<3 { for p in 0..<(h * w) { out[3 * p + c] = x.values[c * h * w + p] } }
        return out
    }

    /// Where a key of RKAN_RCNN's `state_dict()` may hold one of this detector's tensors, in the
    /// order they are tried: the key itself, then `model.` + key (the torchvision part), the
    /// backbone under `backbone_with_fpn.`, each stage as `stageN_kan.`, and the body as
    /// `rkan_components.resnet.` (where the newer RKAN_RCNN builds its body).
    static func canonicalKey(ofReferenceKey k: String) -> [String] {
        var names: [String] = []
        if k.hasPrefix("model.") { names.append(String(k.dropFirst("model.".count))) }
        if k.hasPrefix("backbone_with_fpn.") { names.append("backbone." + k.dropFirst("backbone_with_fpn.".count)) }
        for n in 1...4 where k.hasPrefix("stage\(n)_kan.") { names.append("backbone.body.layer\(n)." + k.dropFirst("stage\(n)_kan.".count)) }
        if k.hasPrefix("rkan_components.resnet.") { names.append("backbone.body." + k.dropFirst("rkan_components.resnet.".count)) }
        return names
    }

    /// Sets every tensor and counter of `model` from the file's `/weights`: rkan-repro's keys
    /// (`MaskRCNN`'s doc), or RKAN_RCNN's own `state_dict()` (the same tensors under `model.…`,
    /// `backbone_with_fpn.…`, `stageN_kan.…`; `rkan_components.*` as is). A tensor found under
    /// its own key wins over an alias, and an alias earlier in `canonicalKey`'s order over a later
    /// one, so the unused ResNet that the stored RKAN_RCNN keeps as `rkan_components.resnet` is
    /// never read when the file has the body under another name.
    /// - Returns: the file's keys not used (aliases of used tensors counted apart).
    /// - Throws: `HarnessError.badConfig` naming each missing or mis-shaped key.
    static func load(weights url: URL, into model: MaskRCNN) throws -> (ignored: [String], aliases: Int) {
        let entries = try RunFile.readWeights(url)
        let wanted = Set(model.store.mismatch(with: [], unexpected: .ignore).missing)
        var byKey: [String: WeightEntry] = [:], rank: [String: Int] = [:]
        var aliasOf: Set<String> = []
        for e in entries {
            if wanted.contains(e.key) { byKey[e.key] = e; rank[e.key] = -1; continue }
            for (r, k) in canonicalKey(ofReferenceKey: e.key).enumerated() where wanted.contains(k) {
                aliasOf.insert(e.key)
                if rank[k].map({ r < $0 }) ?? true {
                    var renamed = e
                    renamed.key = k
                    byKey[k] = renamed; rank[k] = r
                }
                break
            }
        }
        let chosen = Array(byKey.values)
        let m = model.store.mismatch(with: chosen, unexpected: .ignore)
        guard m.isEmpty else {
            throw HarnessError.badConfig(what: "weights \(url.path)", detail: "they do not fit detector \(model.backboneSpec) with \(model.classes) classes: \(m). "
                + "Export the state_dict of the same detector (rkan-repro's keys or RKAN_RCNN's own), and pass --classes as it was built (81 for COCO)")
        }
        try model.store.load(chosen, from: url.path, unexpected: .ignore)
        let usedNames = Set(chosen.map(\.key))
        let unused = entries.map(\.key).filter { !usedNames.contains($0) }
        // An alias is "used" when one of its names was read; others of the same tensor are repeats.
        let ignored = unused.filter { !aliasOf.contains($0) }.sorted()
        return (ignored, unused.count - ignored.count)
    }
}
