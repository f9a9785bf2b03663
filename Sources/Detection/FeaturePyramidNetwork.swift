import Engine

/// torchvision's `FeaturePyramidNetwork` with `LastLevelMaxPool`, as `BackboneWithFPN` builds it
/// for Mask R-CNN: per backbone stage a 1×1 lateral conv (`inner_blocks.i.0`) and a 3×3 output
/// conv (`layer_blocks.i.0`), both `out` channels with bias; a top-down pathway that resizes each
/// coarser merged map to the next finer one (nearest) and adds it; and a fifth map, "pool",
/// `max_pool2d(P5, 1, 2, 0)`.
///
///     L3 = inner3(C5);        P5 = layer3(L3)
///     Li = inner_i(C_{i+2}) + nearest(L_{i+1} → size of C_{i+2});   P_{i+2} = layer_i(Li)
///     pool = maxpool(P5, kernel 1, stride 2)
///
/// Initialisation as torchvision's: every conv weight `kaiming_uniform_(a=1)` = U(±√(3/fan_in)),
/// bias 0. Keys (under the caller's prefix, e.g. `backbone.fpn`): `inner_blocks.{i}.0.weight/bias`,
/// `layer_blocks.{i}.0.weight/bias` (torchvision ≥ 0.13 wraps each conv in `Conv2dNormActivation`).
public final class FeaturePyramidNetwork {
    public let inChannels: [Int]
    public let outChannels: Int
    let inner: [Conv2d]
    let layer: [Conv2d]
    let pool = MaxPool2d(kernel: 1, stride: 2, padding: 0)
    /// Shapes of the merged maps L_i, kept by a train forward for the top-down backward.
    private var mergedShapes: [[Int]]?

    /// Declares the convs under the store's current prefix.
    /// - Parameters:
    ///   - inChannels: channels of each backbone stage, finest first (ResNet-50: 256, 512, 1024, 2048).
    ///   - outChannels: 256 in Mask R-CNN.
    public init(_ s: ParameterStore, inChannels: [Int], outChannels: Int = 256) {
        precondition(!inChannels.isEmpty && inChannels.allSatisfy { $0 > 0 } && outChannels > 0, "FPN: channels \(inChannels) → \(outChannels)")
        self.inChannels = inChannels; self.outChannels = outChannels
        func kaimingA1(_ fanIn: Int) -> Initializer { .uniform(bound: Float((3.0 / Double(fanIn)).squareRoot())) }
        func conv(_ name: String, _ cin: Int, kernel: Int) -> Conv2d {
            let c = Conv2d(store: s, name: name, inChannels: cin, outChannels: outChannels, kernel: kernel, padding: kernel / 2,
                           bias: true, weightInit: kaimingA1(cin * kernel * kernel), biasInit: .zeros)
            return c
        }
        inner = s.scoped("inner_blocks") { inChannels.enumerated().map { i, c in conv("\(i).0", c, kernel: 1) } }
        layer = s.scoped("layer_blocks") { inChannels.indices.map { i in conv("\(i).0", outChannels, kernel: 3) } }
    }

    /// - Parameter features: the backbone stages' outputs, finest first, each (N, H_i, W_i, C_i).
    /// - Returns: the pyramid P2…P5 and "pool", finest first, each (N, ·, ·, out).
    /// - Throws: `EngineError` when a stage's shape does not fit its conv.
    public func forward(_ features: [Tensor], mode: Mode) throws -> [Tensor] {
        guard features.count == inChannels.count else {
            throw EngineError.shapeMismatch(op: "FeaturePyramidNetwork", detail: "\(features.count) feature maps for \(inChannels.count) levels")
        }
        let last = features.count - 1
        var merged = try inner[last].forward(features[last], mode: mode)
        var outputs = [try layer[last].forward(merged, mode: mode)]
        var shapes = [merged.shape]
        for i in stride(from: last - 1, through: 0, by: -1) {
            let lateral = try inner[i].forward(features[i], mode: mode)
            let topDown = try nearestUpsample(merged, outHeight: lateral.shape[1], outWidth: lateral.shape[2])
            merged = try addForward(lateral, topDown)
            shapes.insert(merged.shape, at: 0)
            outputs.insert(try layer[i].forward(merged, mode: mode), at: 0)
        }
        outputs.append(try pool.forward(outputs[last], mode: mode))
        mergedShapes = mode == .train ? shapes : nil
        return outputs
    }

    /// Backward of `forward`.
    /// - Parameter d: gradients of the outputs (P2…P5, pool); nil where an output got none.
    /// - Returns: gradients of the backbone features, finest first.
    public func backward(_ d: [Tensor?]) -> [Tensor] {
        guard let shapes = mergedShapes else { preconditionFailure("FeaturePyramidNetwork.backward without a .train forward") }
        precondition(d.count == inChannels.count + 1, "FPN.backward: \(d.count) gradients for \(inChannels.count + 1) outputs")
        mergedShapes = nil
        let last = inChannels.count - 1
        // dP_i (each P_i has L_i's shape); the pool's gradient flows into P5.
        var dP = shapes.indices.map { i in d[i] ?? Tensor(zeros: shapes[i]) }
        if let dPool = d[last + 1] {
            let g = pool.backward(dPool)
            if d[last] != nil { accumulate(into: g, dP[last]) }
            dP[last] = g
        }
        var dFeatures: [Tensor] = []
        var dFiner: Tensor? = nil   // dL_{i−1}: reaches L_i through the nearest resize
        for i in 0...last {
            let dMerged = layer[i].backward(dP[i])
            if let f = dFiner {
                let up = Tensor(uninitialized: shapes[i])
                nearestUpsampleBackward(up.data, f.data, batch: shapes[i][0], height: shapes[i][1], width: shapes[i][2],
                                        channels: outChannels, outHeight: f.shape[1], outWidth: f.shape[2])
                accumulate(into: dMerged, up)
            }
            dFeatures.append(inner[i].backward(dMerged))
            dFiner = dMerged
        }
        return dFeatures
    }
}
