import Engine

/// One stage of a backbone as an RKAN block sees it: the layer, the channels it maps and its stride.
struct BackboneStage {
    let layer: Layer
    /// Channels of the stage's input (the RKAN block's conv_reduce input).
    let inChannels: Int
    /// Channels of the stage's output (the RKAN block's kan_expand_bn width).
    let outChannels: Int
    /// Spatial stride of the stage (the RKAN block's kan_conv1 stride).
    let stride: Int
}

/// A backbone cut at its four stage boundaries: stem → stages → global average pool → classifier.
struct StagedBackbone {
    var stem: Layer
    var stages: [BackboneStage]
    /// The classifier; nil for a backbone built for dense prediction (`FeatureBackbone`).
    var classifier: Linear?
    /// Whether thop sees the global pool: an `nn.AdaptiveAvgPool2d` module (ResNet, RegNet) is
    /// counted, DenseNet's functional `F.adaptive_avg_pool2d` is not.
    var poolIsModule: Bool
}

/// The network every family builds: stem, four stages with optional RKAN blocks around them
/// (docs/design.md "Model specs"), global average pool and the classifier.
///
///     h = stem(x)
///     for each stage i: x_i = h; h = stage_i(x_i); if RKAN on i: h = rkan_i.combine(h, x_i)
///     logits = fc(pool(h))
final class StagedNetwork: Layer {
    let stem: Layer
    let stages: [Layer]
    let rkan: [RKANBlock?]
    let pool: GlobalAvgPool
    /// The model's MAC counter (the pool's MACs are taken back when thop does not see it).
    let macs: MACCounter
    let poolIsModule: Bool
    let fc: Linear

    init(_ backbone: StagedBackbone, rkan: [RKANBlock?], context: EngineContext) {
        precondition(rkan.count == backbone.stages.count, "StagedNetwork: one RKAN slot per stage")
        macs = context.macs
        pool = GlobalAvgPool(macs: context.macs)
        stem = backbone.stem
        stages = backbone.stages.map(\.layer)
        guard let classifier = backbone.classifier else { preconditionFailure("StagedNetwork: a backbone without its classifier") }
        fc = classifier
        poolIsModule = backbone.poolIsModule
        self.rkan = rkan
    }

    /// - Parameter x: (N, H, W, C_in).
    /// - Returns: logits (N, classes).
    func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        var h = try stem.forward(x, mode: mode)
        for (i, stage) in stages.enumerated() {
            let identity = h
            h = try stage.forward(h, mode: mode)
            if let r = rkan[i] { h = try r.combine(stageOutput: h, stageInput: identity, mode: mode) }
        }
        let before = macs.macs
        let pooled = try pool.forward(h, mode: mode)
        if !poolIsModule && macs.isCounting { macs.macs = before }
        return try fc.forward(pooled, mode: mode)
    }

    func backward(_ dy: Tensor) -> Tensor {
        var d = pool.backward(fc.backward(dy))
        for i in stages.indices.reversed() {
            if let r = rkan[i] {
                let (dStage, dInput) = r.backward(d)
                d = stages[i].backward(dStage)
                accumulate(into: d, dInput)
            } else {
                d = stages[i].backward(d)
            }
        }
        return stem.backward(d)
    }

    /// Constant buffers (KAN grids) and their values, written by `Model.initialize`.
    var constants: [(Parameter, [Float])] { rkan.compactMap { $0 }.flatMap(\.constants) }
    var splineFits: [BSplineKANConv2d] { rkan.compactMap { $0 }.flatMap(\.splineFits) }
}

/// The backbone families of the zoo and their builders.
enum BackboneFamily {
    case resnet(ResNet.Config)
    case regnet(RegNet.Config)
    case densenet(DenseNet.Config)

    init(_ b: Backbone) {
        if let c = ResNet.config(b) { self = .resnet(c) }
        else if let c = RegNet.config(b) { self = .regnet(c) }
        else if let c = DenseNet.config(b) { self = .densenet(c) }
        else { preconditionFailure("backbone \(b.rawValue) has no family") }
    }

    /// The reference RKAN class's attribute holding the backbone, nil where its modules sit at top
    /// level (RKANet_D). fe63108:residual_networks/: RKAN_ResNet.py, RKAN_ELA.py and (815a357)
    /// RKAN_SENet.py `self.resnet`; RKAN_ResNeXt.py `self.resnext`; RKAN_WideResNet.py `self.wideresnet`;
    /// RKAN_RegNet.py `self.regnet`; RKAN_DenseNet.py `self.densenet`; 815a357:RKAN_ResNet_D.py none.
    var rkanPrefix: String? {
        switch self {
        case .resnet(let c):
            if c.deepStem { return nil }
            if c.groups > 1 { return "resnext" }
            return c.widthPerGroup != 64 ? "wideresnet" : "resnet"
        case .regnet: return "regnet"
        case .densenet: return "densenet"
        }
    }

    /// Whether the reference class's `se_blocks` convs have biases: `nn.Conv2d(..., 1)` in
    /// fe63108:residual_networks/RKAN_ResNeXt.py and RKAN_WideResNet.py, `bias = False` in
    /// RKAN_ResNet.py, RKAN_ELA.py, RKAN_RegNet.py, RKAN_DenseNet.py (fe63108) and RKAN_SENet.py,
    /// RKAN_ResNet_D.py (815a357).
    var seBlockBias: Bool {
        if case .resnet(let c) = self, !c.deepStem, c.attention == .none, c.groups > 1 || c.widthPerGroup != 64 { return true }
        return false
    }

    /// The rbf / b_spline grid sizes of (kan_conv1, kan_conv2): the reference classes pass
    /// `grid_size = (3, 2)` (fe63108:residual_networks/RKAN_ResNet.py, RKAN_ELA.py, RKAN_ResNeXt.py,
    /// RKAN_WideResNet.py, RKAN_RegNet.py, RKAN_DenseNet.py; notebook 22e50367 sets it), while
    /// RKAN_SENet.py and RKAN_ResNet_D.py (815a357) pass none, so both convs take
    /// KAN_Convolutional_Layer's default `grid_size = 3` (a160c7b:KAN_Conv/KANConv.py).
    var kanGridSizes: (Int, Int) {
        if case .resnet(let c) = self, c.deepStem || c.attention == .se { return (3, 3) }
        return (3, 2)
    }

    /// Whether the reference class has `gate_convs` (mech=gating): RKANet, RKANet_D, RKAN_SENet and
    /// RKAN_ELA do; RKANeXt, RKAN_WideResNet, RKAN_RegNet and RKAN_DenseNet raise "Invalid mechanism".
    var hasGating: Bool {
        if case .resnet(let c) = self { return c.groups == 1 && c.widthPerGroup == 64 }
        return false
    }

    /// Declares the backbone's parameters in `s` (under the current prefix) and returns its parts.
    /// - Throws: `SpecError` for options the backbone does not support.
    func build(_ s: ParameterStore, spec: ModelSpec, classes: Int, inChannels: Int) throws -> StagedBackbone {
        switch self {
        case .resnet(let c): return try ResNet.build(s, spec: spec, config: c, classes: classes, inChannels: inChannels)
        case .regnet(let c): return try RegNet.build(s, spec: spec, config: c, classes: classes, inChannels: inChannels)
        case .densenet(let c): return try DenseNet.build(s, spec: spec, config: c, classes: classes, inChannels: inChannels)
        }
    }
}

/// PyTorch's default init of a conv or linear weight, `kaiming_uniform_(a=√5)`: U(±1/√fan_in)
/// (fan_in = in/groups · k · k). The reference's own modules start this way (docs/design.md).
func pytorchDefaultInit(_ fanIn: Int) -> Initializer { .uniform(bound: Float(1 / Double(fanIn).squareRoot())) }

/// `max(1, round(c · width))`, halves away from zero (the twin's `scaled`).
func scaledChannels(_ c: Int, _ width: Double) -> Int { max(1, Int((Double(c) * width).rounded())) }

/// Backbones that accept `stem=small` (all but the deep-stem ResNet-D).
let stemSmallBackbones = Backbone.allCases.filter { $0 != .resnet101d }.map(\.rawValue)
