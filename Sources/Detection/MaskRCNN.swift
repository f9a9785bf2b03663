import Engine
import Zoo

/// Mask R-CNN as the reference builds it (815a357:residual_networks/RKAN_RCNN.py with the
/// notebook's arguments, 22e50367:training.ipynb "Object Detection"): torchvision's `MaskRCNN`
/// around `BackboneWithFPN` (stages layer1–layer4, FPN 256 channels, `LastLevelMaxPool`), the
/// body a torchvision ResNet whose stages carry the RKAN residual of the classification model,
/// and an anchor generator with sizes (32…512) and ratios (0.5, 1, 2) on every level.
///
/// `trainingStep(images:targets:)` and `detect(images:)` run the whole detector (torchvision's
/// `GeneralizedRCNN` in train and eval mode); `RCNNHeads` holds everything after the body.
///
/// State-dict keys: torchvision's MaskRCNN names, with the body's stages wrapped as RKAN_RCNN
/// wraps them, and the RKAN blocks where RKAN_RCNN registers them:
///
///     backbone.body.conv1.weight, backbone.body.bn1.*, backbone.body.layerN.base_layer.B.*
///     backbone.fpn.inner_blocks.I.0.*, backbone.fpn.layer_blocks.I.0.*
///     rpn.head.conv.0.0.*, rpn.head.cls_logits.*, rpn.head.bbox_pred.*
///     roi_heads.box_head.fc6.*, roi_heads.box_head.fc7.*
///     roi_heads.box_predictor.cls_score.*, roi_heads.box_predictor.bbox_pred.*
///     roi_heads.mask_head.{0…3}.0.*, roi_heads.mask_predictor.conv5_mask.*, roi_heads.mask_predictor.mask_fcn_logits.*
///     rkan_components.conv_reduce.3.*, rkan_components.kan_conv1.3.convs.0.conv.*, …
///
/// RKAN_RCNN's own state dict holds the same tensors under more names (`model.` before the
/// torchvision part, and the aliases `backbone_with_fpn.*` and `stageN_kan.base_layer.*`);
/// `referenceAliases(of:)` lists them.
public final class MaskRCNN {
    public let backboneSpec: ModelSpec
    /// Object classes plus background (81 for COCO as the notebook counts them).
    public let classes: Int
    public let store: ParameterStore
    public let body: FeatureBackbone
    public let fpn: FeaturePyramidNetwork
    public let rpnHead: RPNHead
    public let boxHead: TwoMLPHead
    public let boxPredictor: FastRCNNPredictor
    public let maskHead: MaskHead
    public let anchorGenerator: AnchorGenerator
    public var rpnSettings = RPNSettings()
    public var boxSettings = BoxHeadSettings()
    /// Resize (640 / 1066), normalisation and padding of the input images.
    public var transform = RCNNTransform()

    /// Declares every tensor (allocated, not initialised).
    /// - Throws: `SpecError` for a backbone without a detection form.
    /// - Parameters:
    ///   - fpnChannels, representation, maskWidth: 256, 1024, 256 in the reference; smaller for smoke profiles.
    public init(backbone spec: ModelSpec, classes: Int, fpnChannels: Int = 256, representation: Int = 1024, maskWidth: Int = 256,
                context: EngineContext = EngineContext()) throws {
        guard classes >= 2 else {
            throw SpecError(spec: spec.description, problem: "a detector needs at least one object class besides the background, got classes = \(classes)")
        }
        let spec = spec.classifierSpec   // `maskrcnn(B)` and `B` build the same detector
        backboneSpec = spec; self.classes = classes
        let s = ParameterStore(context: context)
        let body = try FeatureBackbone(s, spec: spec, bodyScope: ["backbone", "body"], stageWrapper: "base_layer", rkanScope: ["rkan_components"])
        self.body = body
        fpn = s.scoped("backbone") { s.scoped("fpn") { FeaturePyramidNetwork(s, inChannels: body.stageChannels, outChannels: fpnChannels) } }
        let anchors = AnchorGenerator.reference()
        anchorGenerator = anchors
        rpnHead = s.scoped("rpn") { s.scoped("head") {
            RPNHead(s, inChannels: fpnChannels, anchorsPerLocation: anchors.anchorsPerLocation(0), levels: 5)
        } }
        (boxHead, boxPredictor, maskHead) = s.scoped("roi_heads") {
            (s.scoped("box_head") { TwoMLPHead(s, inChannels: fpnChannels, resolution: 7, representation: representation) },
             s.scoped("box_predictor") { FastRCNNPredictor(s, inFeatures: representation, classes: classes) },
             MaskHead(s, inChannels: fpnChannels, classes: classes, width: maskWidth))
        }
        s.finalize()
        store = s
    }

    /// The detector of a model spec: the backbone's `width` scales the heads too (FPN 256,
    /// box head 1024 and mask head 256 channels, each rounded to the nearest integer and at least 8).
    /// - Throws: `SpecError` for a backbone without a detection form or fewer than 2 classes.
    public convenience init(spec: ModelSpec, classes: Int, context: EngineContext = EngineContext()) throws {
        func scaled(_ c: Int) -> Int { max(8, Int((Double(c) * spec.width).rounded())) }
        try self.init(backbone: spec, classes: classes, fpnChannels: scaled(256), representation: scaled(1024), maskWidth: scaled(256),
                      context: context)
    }

    /// Draws every tensor (torchvision's inits) and writes the KAN constants.
    public func initialize(seed: UInt64) {
        store.initialize(seed: seed)
        body.initializeConstants()
    }

    /// The FPN maps of a padded batch.
    /// - Parameter images: (N, H, W, 3), H and W multiples of 32.
    /// - Returns: P2…P5 and pool, each (N, ·, ·, fpnChannels).
    public func pyramid(_ images: Tensor, mode: Mode) throws -> [Tensor] {
        try store.context.run { try fpn.forward(body.forward(images, mode: mode), mode: mode) }
    }

    /// The modules after the body, for `RCNNHeads.detect` (settings from `rpnSettings`).
    public var heads: RCNNHeads {
        let h = RCNNHeads(fpn: fpn, rpnHead: rpnHead, boxHead: boxHead, boxPredictor: boxPredictor, maskHead: maskHead,
                          anchorGenerator: anchorGenerator, classes: classes)
        h.rpnSettings = rpnSettings
        h.boxSettings = boxSettings
        return h
    }

    /// One training step from images: transform (images and targets), body, `RCNNHeads.trainingStep`,
    /// and the body's backward; every parameter gradient is added into the store.
    /// - Parameters:
    ///   - images: each (H_i, W_i, 3), as the data pipeline gives them.
    ///   - targets: per image, in its original pixels.
    /// - Returns: the five losses and the draws used.
    public func trainingStep(images: [Tensor], targets: [DetectionTarget], draws: TrainingDraws? = nil, seed: UInt64 = 0, step: Int = 0,
                             weights: DetectionLosses = DetectionLosses(classifier: 1, boxReg: 1, mask: 1, objectness: 1, rpnBoxReg: 1))
        throws -> (losses: DetectionLosses, draws: TrainingDraws) {
        let (batch, sizes) = try transform.batch(images)
        let resized = try zip(targets, zip(images, sizes)).map { t, pair in
            try transform.resize(t, from: (pair.0.shape[0], pair.0.shape[1]), to: pair.1)
        }
        return try store.context.run {
            let features = try body.forward(batch, mode: .train)
            let out = try heads.trainingStep(features: features, paddedSize: (batch.shape[1], batch.shape[2]), imageSizes: sizes,
                                             targets: resized, draws: draws, seed: seed, step: step, weights: weights)
            _ = body.backward(out.dFeatures)
            return (out.losses, out.draws)
        }
    }

    /// Detections and masks of images, in their original pixels (eval mode).
    /// - Parameter images: each (H_i, W_i, 3).
    public func detect(images: [Tensor]) throws -> [ImageDetections] {
        let (batch, sizes) = try transform.batch(images)
        return try store.context.run {
            try heads.detect(features: body.forward(batch, mode: .eval), paddedSize: (batch.shape[1], batch.shape[2]), imageSizes: sizes,
                             originalSizes: images.map { (height: $0.shape[0], width: $0.shape[1]) })
        }
    }

    /// The names under which RKAN_RCNN's `state_dict()` holds the tensor that this model calls
    /// `key`: the torchvision part (`backbone.*`, `rpn.*`, `roi_heads.*`) under `model.`, again
    /// under `backbone_with_fpn.*` for the backbone, and once more as `stageN_kan.base_layer.*` for
    /// the stages; `rkan_components.*` as is.
    public static func referenceAliases(of key: String) -> [String] {
        if key.hasPrefix("rkan_components.") { return [key] }
        var names = ["model." + key]
        if key.hasPrefix("backbone.") { names.append("backbone_with_fpn." + key.dropFirst("backbone.".count)) }
        for n in 1...4 where key.hasPrefix("backbone.body.layer\(n).base_layer.") {
            names.append("stage\(n)_kan." + key.dropFirst("backbone.body.layer\(n).".count))
        }
        return names
    }
}
