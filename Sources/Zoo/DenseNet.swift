import Engine

/// torchvision's DenseNet-121/161/169/201 (keys `features.conv0/norm0`,
/// `features.denseblockK.denselayerJ.{norm1,conv1,norm2,conv2}`, `features.transitionK.{norm,conv}`,
/// `features.norm5`, `classifier`), as the reference's RKAN_DenseNet runs it; the notebook builds the
/// DenseNet baselines with the same class (mechanisms=None; 22e50367:training.ipynb `model_configs`).
/// The stages RKAN wraps (the reference's post-transition placement): stage K = denseblockK +
/// transitionK for K < 4 (stride 2), and stage 4 = denseblock4 + norm5 with NO ReLU: the reference
/// applies `features.norm5`, adds the residual and pools (fe63108:residual_networks/RKAN_DenseNet.py
/// `forward`), where torchvision's DenseNet.forward has `F.relu` after the features; the reference
/// wins (docs/design.md). The global pool is functional, so thop does not count it.
///
/// `stem=small` follows the reference's dataset_size "small": `conv0` 3×3 stride 1, no `pool0`.
/// `width` scales the growth rate and the initial features (bn_size stays 4).
enum DenseNet {
    struct Config {
        var growth: Int
        var blocks: [Int]
        var initFeatures: Int
        var bnSize = 4
    }

    static func config(_ b: Backbone) -> Config? {
        switch b {
        case .densenet121: return Config(growth: 32, blocks: [6, 12, 24, 16], initFeatures: 64)
        case .densenet161: return Config(growth: 48, blocks: [6, 12, 36, 24], initFeatures: 96)
        case .densenet169: return Config(growth: 32, blocks: [6, 12, 32, 32], initFeatures: 64)
        case .densenet201: return Config(growth: 32, blocks: [6, 12, 48, 32], initFeatures: 64)
        default: return nil
        }
    }

    /// Declares the backbone under the store's current prefix.
    static func build(_ s: ParameterStore, spec: ModelSpec, config c: Config, classes: Int, inChannels: Int) throws -> StagedBackbone {
        let growth = scaledChannels(c.growth, spec.width), initial = scaledChannels(c.initFeatures, spec.width)
        // torchvision initialises DenseNet convs with kaiming_normal_ (fan-in, ReLU gain).
        func conv(_ name: String, _ cin: Int, _ cout: Int, kernel: Int, stride: Int = 1, padding: Int = 0) -> Conv2d {
            Conv2d(store: s, name: name, inChannels: cin, outChannels: cout, kernel: kernel, stride: stride, padding: padding,
                   weightInit: .normal(std: Float((2.0 / Double(cin * kernel * kernel)).squareRoot())))
        }
        var stem: [Layer] = []
        var stages: [BackboneStage] = []
        var features = initial
        s.scoped("features") {
            stem.append(spec.stem == .small ? conv("conv0", inChannels, initial, kernel: 3, padding: 1)
                                            : conv("conv0", inChannels, initial, kernel: 7, stride: 2, padding: 3))
            stem += [BatchNorm2d(store: s, name: "norm0", channels: initial), ReLU()]
            if spec.stem == .standard { stem.append(MaxPool2d(kernel: 3, stride: 2, padding: 1)) }
            for (i, n) in c.blocks.enumerated() {
                let stageIn = features
                let block: DenseBlock = s.scoped("denseblock\(i + 1)") {
                    DenseBlock(layers: (0..<n).map { j in
                        s.scoped("denselayer\(j + 1)") {
                            let cin = stageIn + j * growth, mid = c.bnSize * growth
                            return Sequential([BatchNorm2d(store: s, name: "norm1", channels: cin), ReLU(),
                                               conv("conv1", cin, mid, kernel: 1),
                                               BatchNorm2d(store: s, name: "norm2", channels: mid), ReLU(),
                                               conv("conv2", mid, growth, kernel: 3, padding: 1)])
                        }
                    })
                }
                features = stageIn + n * growth
                if i < c.blocks.count - 1 {
                    let out = features / 2
                    let transition: Sequential = s.scoped("transition\(i + 1)") {
                        Sequential([BatchNorm2d(store: s, name: "norm", channels: features), ReLU(),
                                    conv("conv", features, out, kernel: 1), AvgPool2d(kernel: 2, stride: 2, macs: s.context.macs)])
                    }
                    stages.append(BackboneStage(layer: Sequential([block, transition]), inChannels: stageIn, outChannels: out, stride: 2))
                    features = out
                } else {
                    let norm5 = BatchNorm2d(store: s, name: "norm5", channels: features)
                    stages.append(BackboneStage(layer: Sequential([block, norm5]), inChannels: stageIn, outChannels: features, stride: 1))
                }
            }
        }
        let classifier = Linear(store: s, name: "classifier", inFeatures: features, outFeatures: classes)
        return StagedBackbone(stem: Sequential(stem), stages: stages, classifier: classifier, poolIsModule: false)
    }
}

/// A dense block: layer j sees the concatenation of the block input and the j earlier layers'
/// outputs (channel order: input first); the block returns the concatenation of all of them.
final class DenseBlock: Layer {
    let layers: [Layer]
    /// Channel widths of the pieces (input, then each layer's output), from the last `.train` forward.
    private var widths: [Int]?

    init(layers: [Layer]) { self.layers = layers }

    /// - Parameter x: (N, H, W, C).
    /// - Returns: (N, H, W, C + L·growth).
    func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        var pieces = [x]
        for layer in layers {
            let inp = pieces.count == 1 ? x : try concatChannels(pieces)
            pieces.append(try layer.forward(inp, mode: mode))
        }
        widths = mode == .train ? pieces.map { $0.shape[3] } : nil
        return try concatChannels(pieces)
    }

    /// Walks the layers in reverse; each layer's input gradient is split over the pieces it read.
    func backward(_ dy: Tensor) -> Tensor {
        guard let widths else { preconditionFailure("DenseBlock.backward without a .train forward") }
        self.widths = nil
        var grads = splitChannels(dy, sizes: widths)
        for j in layers.indices.reversed() {
            let dInp = layers[j].backward(grads[j + 1])
            let parts = j == 0 ? [dInp] : splitChannels(dInp, sizes: Array(widths[0...j]))
            for (k, p) in parts.enumerated() { accumulate(into: grads[k], p) }
        }
        return grads[0]
    }
}
