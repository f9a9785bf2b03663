import Engine

/// A classification backbone cut for dense prediction (a detector's `backbone.body`): the stem
/// and the four stages, each with its RKAN block when the spec has one, returning every stage's
/// output; no pool, no classifier.
///
/// The reference's RKAN_RCNN (815a357:residual_networks/RKAN_RCNN.py) wraps each torchvision
/// stage in a module whose `base_layer` is the stage, and adds the RKAN residual of its
/// `rkan_components` (an `RKANet`) to the stage output; the keys follow it: the body's blocks
/// under `<body>.layerN.<stageWrapper>.…`, the RKAN blocks under `<rkanScope>.conv_reduce.3.…`.
/// Only the ResNet family (ResNet, SE-ResNet) has a detection form in the reference.
public final class FeatureBackbone {
    public let spec: ModelSpec
    /// Channels of each stage's output (ResNet-50: 256, 512, 1024, 2048).
    public let stageChannels: [Int]
    let stem: Layer
    let stages: [Layer]
    let rkan: [RKANBlock?]
    /// Constant buffers (KAN grids) with their values, and b-spline convs to fit after the draws.
    let constants: [(Parameter, [Float])]
    let splineFits: [BSplineKANConv2d]

    /// Declares the body in `s` under `bodyScope` and the RKAN blocks under `rkanScope`.
    /// - Parameters:
    ///   - bodyScope: key prefix of the stem and stages, e.g. ["backbone", "body"].
    ///   - stageWrapper: key between `layerN` and the block index ("base_layer" as RKAN_RCNN), or nil.
    ///   - rkanScope: key prefix of the RKAN blocks, e.g. ["rkan_components"].
    /// - Throws: `SpecError` for a backbone outside the ResNet family or options that do not fit it.
    public init(_ s: ParameterStore, spec: ModelSpec, inChannels: Int = 3, bodyScope: [String], stageWrapper: String?,
                rkanScope: [String]) throws {
        self.spec = spec
        let family = BackboneFamily(spec.backbone)
        guard case .resnet(let config) = family, !config.deepStem else {
            throw SpecError(spec: spec.description, problem: "a detection backbone must be of the ResNet family (e.g. resnet50, seresnet50): the reference's RKAN_RCNN builds no other")
        }
        func scoped<T>(_ path: [String], _ body: () throws -> T) rethrows -> T {
            guard let first = path.first else { return try body() }
            return try s.scoped(first) { try scoped(Array(path.dropFirst()), body) }
        }
        let backbone = try scoped(bodyScope) {
            try ResNet.build(s, spec: spec, config: config, classes: nil, inChannels: inChannels, stageWrapper: stageWrapper)
        }
        stem = backbone.stem
        stages = backbone.stages.map(\.layer)
        stageChannels = backbone.stages.map(\.outChannels)
        rkan = try scoped(rkanScope) { try RKANBlock.blocks(s, spec: spec, family: family, stages: backbone.stages) }
        constants = rkan.compactMap { $0 }.flatMap(\.constants)
        splineFits = rkan.compactMap { $0 }.flatMap(\.splineFits)
    }

    /// Writes the constant buffers and fits the b-spline rows (call after `ParameterStore.initialize`).
    public func initializeConstants() {
        for (p, v) in constants { p.setTorchValues(v) }
        for k in splineFits { k.fitSplineNoise() }
    }

    /// - Parameter x: (N, H, W, C_in).
    /// - Returns: the four stage outputs, finest first (strides 4, 8, 16, 32).
    public func forward(_ x: Tensor, mode: Mode) throws -> [Tensor] {
        var h = try stem.forward(x, mode: mode)
        var outputs: [Tensor] = []
        for (i, stage) in stages.enumerated() {
            let identity = h
            h = try stage.forward(h, mode: mode)
            if let r = rkan[i] { h = try r.combine(stageOutput: h, stageInput: identity, mode: mode) }
            outputs.append(h)
        }
        return outputs
    }

    /// - Parameter d: the gradient of each stage output (every stage output feeds the FPN).
    /// - Returns: the gradient of the input.
    public func backward(_ d: [Tensor]) -> Tensor {
        precondition(d.count == stages.count, "FeatureBackbone.backward: \(d.count) gradients for \(stages.count) stages")
        var g: Tensor? = nil   // gradient reaching stage i's output from stage i + 1
        for i in stages.indices.reversed() {
            var dOut = d[i]
            if let g { dOut = dOut.copy(); accumulate(into: dOut, g) }
            if let r = rkan[i] {
                let (dStage, dInput) = r.backward(dOut)
                let dx = stages[i].backward(dStage)
                accumulate(into: dx, dInput)
                g = dx
            } else {
                g = stages[i].backward(dOut)
            }
        }
        return stem.backward(g!)
    }
}
