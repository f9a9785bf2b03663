import Engine

/// torchvision's RegNetY: stem (`stem.0` 3×3 stride-2 conv, `stem.1` BN, ReLU), four stages
/// `trunk_output.blockI` of Y blocks `blockI-J` (stride 2 on each stage's first block), global
/// average pool and `fc`. Widths, depths and group widths are torchvision's BlockParams.
///
/// `stem=small` follows the reference's dataset_size "small": 3×3 stride-1 stem and stride 1 in
/// stage 1's first block. `width` scales the stem and stage widths; each stage's group width
/// becomes min(group width, width) and the width is rounded to a multiple of it.
enum RegNet {
    struct Config {
        var depths: [Int]
        var widths: [Int]
        var groupWidth: Int
        var stemWidth = 32
        /// Squeeze width = round(seRatio · block input width), Python's round half to even.
        var seRatio = 0.25
    }

    static func config(_ b: Backbone) -> Config? {
        switch b {
        case .regnet_y_400mf: return Config(depths: [1, 3, 6, 6], widths: [48, 104, 208, 440], groupWidth: 8)
        case .regnet_y_3_2gf: return Config(depths: [2, 5, 13, 1], widths: [72, 216, 576, 1512], groupWidth: 24)
        case .regnet_y_8gf: return Config(depths: [2, 4, 10, 1], widths: [224, 448, 896, 2016], groupWidth: 56)
        case .regnet_y_32gf: return Config(depths: [2, 5, 12, 1], widths: [232, 696, 1392, 3712], groupWidth: 232)
        default: return nil
        }
    }

    /// (width, group width) of each stage after the width multiplier.
    static func stageWidths(_ c: Config, width: Double) -> [(width: Int, group: Int)] {
        c.widths.map { w0 in
            if width == 1 { return (w0, c.groupWidth) }
            let w = scaledChannels(w0, width)
            let g = min(c.groupWidth, w)
            return (max(g, Int((Double(w) / Double(g)).rounded()) * g), g)
        }
    }

    /// Declares the backbone under the store's current prefix.
    static func build(_ s: ParameterStore, spec: ModelSpec, config c: Config, classes: Int, inChannels: Int) throws -> StagedBackbone {
        let small = spec.stem == .small
        let stemWidth = scaledChannels(c.stemWidth, spec.width)
        let stem: Sequential = s.scoped("stem") {
            Sequential([Conv2d(store: s, name: "0", inChannels: inChannels, outChannels: stemWidth, kernel: 3, stride: small ? 1 : 2, padding: 1),
                        BatchNorm2d(store: s, name: "1", channels: stemWidth), ReLU()])
        }
        var stages: [BackboneStage] = []
        var wIn = stemWidth
        guard Int((c.seRatio * Double(stemWidth)).rounded(.toNearestOrEven)) >= 1 else {
            throw SpecError(spec: spec.description, problem: "width \(spec.width) leaves a \(stemWidth)-channel stem, too narrow for the first block's SE (0.25 · width)")
        }
        s.scoped("trunk_output") {
            for (i, (w, g)) in stageWidths(c, width: spec.width).enumerated() {
                let stride = small && i == 0 ? 1 : 2
                let stageIn = wIn
                var blocks: [Layer] = []
                s.scoped("block\(i + 1)") {
                    for j in 0..<c.depths[i] {
                        let squeeze = Int((c.seRatio * Double(wIn)).rounded(.toNearestOrEven))
                        blocks.append(s.scoped("block\(i + 1)-\(j)") {
                            RegNetYBlock(s, inWidth: wIn, outWidth: w, stride: j == 0 ? stride : 1, groupWidth: g, squeeze: max(1, squeeze))
                        })
                        wIn = w
                    }
                }
                stages.append(BackboneStage(layer: Sequential(blocks), inChannels: stageIn, outChannels: w, stride: stride))
            }
        }
        let fc = Linear(store: s, name: "fc", inFeatures: wIn, outFeatures: classes)
        return StagedBackbone(stem: stem, stages: stages, classifier: fc, poolIsModule: true)
    }
}

/// torchvision's RegNet `ResBottleneckBlock` with bottleneck multiplier 1 and SE (the Y block):
///
///     f = c(se(b(a(x))))     a: 1×1 conv-BN-ReLU (`f.a.0/1`)   b: 3×3 group conv stride s-BN-ReLU (`f.b.0/1`)
///                            se: SE with squeeze S (`f.se.fc1/fc2`, biases)   c: 1×1 conv-BN (`f.c.0/1`)
///     y = ReLU(proj(x) + f)  proj: 1×1 conv stride s + BN (`proj.0/1`) when the width or size changes
final class RegNetYBlock: Layer {
    let a: Sequential, b: Sequential, se: SqueezeExcitation, c: Sequential
    let proj: Sequential?
    let relu = ReLU()

    /// - Parameters:
    ///   - groupWidth: channels per group of the 3×3 conv (groups = outWidth / groupWidth).
    ///   - squeeze: SE hidden width, round(0.25 · inWidth).
    init(_ s: ParameterStore, inWidth: Int, outWidth w: Int, stride: Int, groupWidth: Int, squeeze: Int) {
        (a, b, se, c) = s.scoped("f") {
            (s.scoped("a") { Sequential([Conv2d(store: s, name: "0", inChannels: inWidth, outChannels: w, kernel: 1),
                                         BatchNorm2d(store: s, name: "1", channels: w), ReLU()]) },
             s.scoped("b") { Sequential([Conv2d(store: s, name: "0", inChannels: w, outChannels: w, kernel: 3, stride: stride,
                                                padding: 1, groups: w / groupWidth),
                                         BatchNorm2d(store: s, name: "1", channels: w), ReLU()]) },
             SqueezeExcitation(s, name: "se", channels: w, squeeze: squeeze, bias: true),
             s.scoped("c") { Sequential([Conv2d(store: s, name: "0", inChannels: w, outChannels: w, kernel: 1),
                                         BatchNorm2d(store: s, name: "1", channels: w)]) })
        }
        proj = inWidth != w || stride != 1
            ? s.scoped("proj") { Sequential([Conv2d(store: s, name: "0", inChannels: inWidth, outChannels: w, kernel: 1, stride: stride),
                                             BatchNorm2d(store: s, name: "1", channels: w)]) }
            : nil
    }

    func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let f = try c.forward(se.forward(b.forward(a.forward(x, mode: mode), mode: mode), mode: mode), mode: mode)
        let shortcut = try proj?.forward(x, mode: mode) ?? x
        return try relu.forward(addForward(shortcut, f), mode: mode)
    }

    func backward(_ dy: Tensor) -> Tensor {
        let d = relu.backward(dy)
        let dx = a.backward(b.backward(se.backward(c.backward(d))))
        accumulate(into: dx, proj?.backward(d) ?? d)
        return dx
    }
}
