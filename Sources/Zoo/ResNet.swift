import Engine

/// torchvision's ResNet family (ResNet-18…152, Wide ResNet, ResNeXt) with the options of
/// DESIGN.md (`stem=small`: 3×3 stride-1 first conv and no max-pool; `width`: channel multiplier)
/// and optional RKAN blocks on chosen stages. Parameter keys are torchvision's, under `resnet.`
/// when the model carries RKAN blocks (the reference RKAN_ResNet's attribute name).
final class ResNet: Layer {
    struct Config {
        var blocks: [Int]
        var bottleneck: Bool
        var groups = 1
        var widthPerGroup = 64
    }

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
        default: return nil
        }
    }

    let stem: Sequential
    let stages: [Sequential]
    let rkan: [RKANBlock?]
    let pool = GlobalAvgPool()
    let fc: Linear

    init(_ s: ParameterStore, spec: ModelSpec, config c: Config, classes: Int, inChannels: Int) throws {
        let scale = { (ch: Int) in max(1, Int((Double(ch) * spec.width).rounded())) }
        let inplanes0 = scale(64)
        let planes = [64, 128, 256, 512].map(scale)
        let expansion = c.bottleneck ? Bottleneck.expansion : 1
        let prefix = spec.rkan == nil ? nil : "resnet"

        func inBackbone<T>(_ body: () throws -> T) rethrows -> T {
            if let prefix { return try s.scoped(prefix, body) }
            return try body()
        }

        var stemLayers: [Layer] = []
        var stagesBuilt: [Sequential] = []
        var stageIn: [Int] = []
        var stageOut: [Int] = []
        var fcBuilt: Linear!
        try inBackbone {
            switch spec.stem {
            case .standard:
                stemLayers.append(Conv2d(store: s, name: "conv1", inChannels: inChannels, outChannels: inplanes0, kernel: 7, stride: 2, padding: 3))
            case .small:
                stemLayers.append(Conv2d(store: s, name: "conv1", inChannels: inChannels, outChannels: inplanes0, kernel: 3, stride: 1, padding: 1))
            }
            stemLayers.append(BatchNorm2d(store: s, name: "bn1", channels: inplanes0))
            stemLayers.append(ReLU())
            if spec.stem == .standard { stemLayers.append(MaxPool2d(kernel: 3, stride: 2, padding: 1)) }

            var inplanes = inplanes0
            for (i, n) in c.blocks.enumerated() {
                let stride = i == 0 ? 1 : 2
                stageIn.append(inplanes)
                var blocks: [Layer] = []
                try s.scoped("layer\(i + 1)") {
                    for b in 0..<n {
                        let st = b == 0 ? stride : 1
                        try s.scoped("\(b)") {
                            var down: Sequential? = nil
                            if b == 0 && (st != 1 || inplanes != planes[i] * expansion) {
                                down = s.scoped("downsample") {
                                    Sequential([
                                        Conv2d(store: s, name: "0", inChannels: inplanes, outChannels: planes[i] * expansion, kernel: 1, stride: st),
                                        BatchNorm2d(store: s, name: "1", channels: planes[i] * expansion),
                                    ])
                                }
                            }
                            if c.bottleneck {
                                let w = Int(Double(planes[i]) * Double(c.widthPerGroup) / 64.0) * c.groups
                                guard w % c.groups == 0, w > 0 else {
                                    throw SpecError(spec: spec.description, problem: "width \(spec.width) leaves \(w) channels for \(c.groups) groups")
                                }
                                blocks.append(Bottleneck(s, inPlanes: inplanes, planes: planes[i], width: w, groups: c.groups, stride: st, downsample: down))
                            } else {
                                blocks.append(BasicBlock(s, inPlanes: inplanes, planes: planes[i], stride: st, downsample: down))
                            }
                            inplanes = planes[i] * expansion
                        }
                    }
                }
                stageOut.append(inplanes)
                stagesBuilt.append(Sequential(blocks))
            }
            fcBuilt = Linear(store: s, name: "fc", inFeatures: inplanes, outFeatures: classes)
        }
        stem = Sequential(stemLayers)
        stages = stagesBuilt
        fc = fcBuilt
        var blocks: [RKANBlock?] = Array(repeating: nil, count: 4)
        if let r = spec.rkan {
            let last = r.stages.max() ?? 4
            for st in r.stages {
                let i = st - 1
                blocks[i] = try RKANBlock(s, index: i, inChannels: stageIn[i], outChannels: stageOut[i],
                                          stride: i == 0 ? 1 : 2, options: r, lastStage: st == last, spec: spec)
            }
        }
        rkan = blocks
    }

    func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        var h = try stem.forward(x, mode: mode)
        for (i, stage) in stages.enumerated() {
            let identity = h
            h = try stage.forward(h, mode: mode)
            if let r = rkan[i] { h = try r.combine(stageOutput: h, stageInput: identity, mode: mode) }
        }
        return try fc.forward(pool.forward(h, mode: mode), mode: mode)
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
}
