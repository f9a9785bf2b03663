import Engine

/// The ResNet family: torchvision's ResNet-18…152, Wide ResNet and ResNeXt; the reference's
/// SE-ResNet (`se` after bn3) and ELA-ResNet (`ela` after bn3); the reference's ResNet-D
/// (`resnet101d`, 815a357:residual_networks/RKAN_ResNet_D.py RKANet_D: deep stem `stem.0/1/3/4/6`
/// then torchvision's `bn1`, average-pool shortcuts `downsample.1/.2` on the stride-2 blocks).
/// Options of docs/design.md: `stem=small` (3×3 stride-1 first conv and no max-pool; not for the deep
/// stem) and `width`.
///
/// Initialisation, as the reference's classes leave it: torchvision's (conv kaiming-normal fan-out,
/// BN (1, 0), the replaced `fc` PyTorch's default) for modules torchvision built; PyTorch's default
/// (kaiming_uniform a=√5: U(±1/√fan_in)) for modules the reference builds itself after
/// torchvision's init loop: RKANet_D's stem and average-pool shortcut convs, and the whole SE / ELA
/// blocks that RKAN_SENet (815a357) and RKAN_ELA (fe63108) swap in with `_replace_blocks` (their
/// `downsample` is torchvision's, reused, and keeps torchvision's init).
enum ResNet {
    struct Config {
        var blocks: [Int]
        var bottleneck: Bool
        var groups = 1
        var widthPerGroup = 64
        /// ResNet-D (the reference's RKANet_D): three 3×3 stem convs and avg-pool + 1×1 conv shortcuts.
        var deepStem = false
        var attention: BlockAttention = .none
    }

    enum BlockAttention { case none, se, ela }

    static func config(_ b: Backbone) -> Config? {
        switch b {
        case .resnet18: return Config(blocks: [2, 2, 2, 2], bottleneck: false)
        case .resnet34: return Config(blocks: [3, 4, 6, 3], bottleneck: false)
        case .resnet50: return Config(blocks: [3, 4, 6, 3], bottleneck: true)
        case .resnet101: return Config(blocks: [3, 4, 23, 3], bottleneck: true)
        case .resnet152: return Config(blocks: [3, 8, 36, 3], bottleneck: true)
        case .wide_resnet50_2: return Config(blocks: [3, 4, 6, 3], bottleneck: true, widthPerGroup: 128)
        case .wide_resnet101_2: return Config(blocks: [3, 4, 23, 3], bottleneck: true, widthPerGroup: 128)
        case .resnext50_32x4d: return Config(blocks: [3, 4, 6, 3], bottleneck: true, groups: 32, widthPerGroup: 4)
        case .resnext101_32x8d: return Config(blocks: [3, 4, 23, 3], bottleneck: true, groups: 32, widthPerGroup: 8)
        case .resnet101d: return Config(blocks: [3, 4, 23, 3], bottleneck: true, deepStem: true)
        case .seresnet50: return Config(blocks: [3, 4, 6, 3], bottleneck: true, attention: .se)
        case .seresnet101: return Config(blocks: [3, 4, 23, 3], bottleneck: true, attention: .se)
        case .ela_l_resnet50: return Config(blocks: [3, 4, 6, 3], bottleneck: true, attention: .ela)
        default: return nil
        }
    }

    /// Declares the backbone under the store's current prefix.
    /// - Parameters:
    ///   - classes: outputs of the classifier `fc`; nil builds no classifier (a detector's body).
    ///   - stageWrapper: a key inserted between `layerN` and the block index, as the reference's
    ///     RKAN_RCNN wraps each stage (`layer1.base_layer.0.conv1.weight`); nil for none.
    /// - Throws: `SpecError` for `stem=small` on the deep stem, or a width that leaves a group or
    ///   an attention module without channels.
    static func build(_ s: ParameterStore, spec: ModelSpec, config c: Config, classes: Int?, inChannels: Int,
                      stageWrapper: String? = nil) throws -> StagedBackbone {
        let scale = { (ch: Int) in scaledChannels(ch, spec.width) }
        let inplanes0 = scale(64)
        let planes = [64, 128, 256, 512].map(scale)
        let expansion = c.bottleneck ? Bottleneck.expansion : 1
        if c.deepStem && spec.stem == .small {
            throw SpecError(spec: spec.description, problem: "stem=small is not available for \(spec.backbone.rawValue) (deep stem); backbones with stem=small: \(stemSmallBackbones.joined(separator: ", "))")
        }

        var stem: [Layer] = []
        if c.deepStem {
            let w = scale(32)
            s.scoped("stem") {
                stem += [Conv2d(store: s, name: "0", inChannels: inChannels, outChannels: w, kernel: 3, stride: 2, padding: 1,
                                weightInit: pytorchDefaultInit(inChannels * 9)),
                         BatchNorm2d(store: s, name: "1", channels: w), ReLU(),
                         Conv2d(store: s, name: "3", inChannels: w, outChannels: w, kernel: 3, padding: 1, weightInit: pytorchDefaultInit(w * 9)),
                         BatchNorm2d(store: s, name: "4", channels: w), ReLU(),
                         Conv2d(store: s, name: "6", inChannels: w, outChannels: inplanes0, kernel: 3, padding: 1,
                                weightInit: pytorchDefaultInit(w * 9))]
            }
        } else if spec.stem == .small {
            stem.append(Conv2d(store: s, name: "conv1", inChannels: inChannels, outChannels: inplanes0, kernel: 3, stride: 1, padding: 1))
        } else {
            stem.append(Conv2d(store: s, name: "conv1", inChannels: inChannels, outChannels: inplanes0, kernel: 7, stride: 2, padding: 3))
        }
        stem += [BatchNorm2d(store: s, name: "bn1", channels: inplanes0), ReLU()]
        if spec.stem == .standard { stem.append(MaxPool2d(kernel: 3, stride: 2, padding: 1)) }

        var stages: [BackboneStage] = []
        var inplanes = inplanes0
        for (i, n) in c.blocks.enumerated() {
            let stride = i == 0 ? 1 : 2, out = planes[i] * expansion
            let stageIn = inplanes
            var blocks: [Layer] = []
            func inWrapper(_ body: () throws -> Void) rethrows {
                if let stageWrapper { try s.scoped(stageWrapper, body) } else { try body() }
            }
            try s.scoped("layer\(i + 1)") { try inWrapper {
                for b in 0..<n {
                    let st = b == 0 ? stride : 1
                    try s.scoped("\(b)") {
                        let down = b == 0 && (st != 1 || inplanes != out)
                            ? downsample(s, inPlanes: inplanes, outPlanes: out, stride: st, avgDown: c.deepStem) : nil
                        let attention = try attentionLayer(s, c.attention, channels: out, spec: spec)
                        // SE / ELA blocks are built after torchvision's init: PyTorch's default init.
                        let convInit: ((Int) -> Initializer)? = c.attention == .none ? nil : pytorchDefaultInit
                        if c.bottleneck {
                            let w = Int(Double(planes[i]) * Double(c.widthPerGroup) / 64.0) * c.groups
                            guard w > 0 else {
                                throw SpecError(spec: spec.description, problem: "width \(spec.width) leaves no channels for the \(c.groups) groups of stage \(i + 1)")
                            }
                            blocks.append(Bottleneck(s, inPlanes: inplanes, planes: planes[i], width: w, groups: c.groups,
                                                     stride: st, downsample: down, attention: attention, convInit: convInit))
                        } else {
                            blocks.append(BasicBlock(s, inPlanes: inplanes, planes: planes[i], stride: st, downsample: down, convInit: convInit))
                        }
                        inplanes = out
                    }
                }
            } }
            stages.append(BackboneStage(layer: Sequential(blocks), inChannels: stageIn, outChannels: out, stride: stride))
        }
        let fc = classes.map { Linear(store: s, name: "fc", inFeatures: inplanes, outFeatures: $0) }
        return StagedBackbone(stem: Sequential(stem), stages: stages, classifier: fc, poolIsModule: true)
    }

    /// torchvision's `downsample.0/1` (1×1 conv stride s + BN), or for ResNet-D's stride-2 blocks
    /// `AvgPool2d(2, 2)` (ceil_mode False, padding 0), a new 1×1 conv `downsample.1` (PyTorch's
    /// default init) and torchvision's BN as `downsample.2` (815a357:residual_networks/RKAN_ResNet_D.py
    /// `_make_resnetd_layer`, which replaces only shortcuts whose conv has stride 2: layer1's stays).
    static func downsample(_ s: ParameterStore, inPlanes: Int, outPlanes: Int, stride: Int, avgDown: Bool) -> Sequential {
        s.scoped("downsample") {
            if !avgDown || stride == 1 {
                return Sequential([Conv2d(store: s, name: "0", inChannels: inPlanes, outChannels: outPlanes, kernel: 1, stride: stride),
                                   BatchNorm2d(store: s, name: "1", channels: outPlanes)])
            }
            return Sequential([AvgPool2d(kernel: 2, stride: stride, ceilMode: false, countIncludePad: true, macs: s.context.macs),
                               Conv2d(store: s, name: "1", inChannels: inPlanes, outChannels: outPlanes, kernel: 1,
                                      weightInit: pytorchDefaultInit(inPlanes)),
                               BatchNorm2d(store: s, name: "2", channels: outPlanes)])
        }
    }

    /// The block's attention module on its `channels` outputs (nil for plain blocks).
    static func attentionLayer(_ s: ParameterStore, _ a: BlockAttention, channels c: Int, spec: ModelSpec) throws -> Layer? {
        switch a {
        case .none: return nil
        case .se:
            guard c >= 16 else {
                throw SpecError(spec: spec.description, problem: "width \(spec.width) gives \(c) channels, too few for SE (reduction 16)")
            }
            return SqueezeExcitation(s, name: "se", channels: c, squeeze: c / 16, bias: false, convInit: pytorchDefaultInit)
        case .ela:
            guard c >= 16, c % 16 == 0, c % (c / 8) == 0 else {
                throw SpecError(spec: spec.description, problem: "width \(spec.width) gives \(c) channels; ELA needs a multiple of 16 (GroupNorm(16), conv groups C/8)")
            }
            return EfficientLocalAttention(s, name: "ela", channels: c)
        }
    }
}
