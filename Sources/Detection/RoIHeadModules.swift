import Engine

/// Region features (K, P, P, C) NHWC flattened in PyTorch's order, (K, C·P·P), as torchvision's
/// `TwoMLPHead` sees `x.flatten(start_dim=1)` of (K, C, P, P); and the inverse for the gradient.
func flattenCHW(_ x: Tensor) -> Tensor {
    let (k, p, q, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let y = Tensor(uninitialized: [k, c * p * q])
    Parallel.forEach(k) { r in
        let src = x.data + r * p * q * c, dst = y.data + r * c * p * q
        for s in 0..<(p * q) { for ch in 0..<c { dst[ch * p * q + s] = src[s * c + ch] } }
    }
    return y
}

/// Gradient of `flattenCHW`: (K, C·P·P) back to (K, P, P, C).
func unflattenCHW(_ dy: Tensor, like shape: [Int]) -> Tensor {
    let (k, p, q, c) = (shape[0], shape[1], shape[2], shape[3])
    let dx = Tensor(uninitialized: shape)
    Parallel.forEach(k) { r in
        let src = dy.data + r * c * p * q, dst = dx.data + r * p * q * c
        for s in 0..<(p * q) { for ch in 0..<c { dst[s * c + ch] = src[ch * p * q + s] } }
    }
    return dx
}

/// torchvision's `TwoMLPHead` (`roi_heads.box_head`): flatten, fc6 + ReLU, fc7 + ReLU, 1024 wide;
/// `nn.Linear`'s default init.
public final class TwoMLPHead {
    let fc6: Linear, fc7: Linear
    let relu6 = ReLU(), relu7 = ReLU()
    private var inputShape: [Int]?

    public init(_ s: ParameterStore, inChannels: Int, resolution: Int, representation: Int = 1024) {
        fc6 = Linear(store: s, name: "fc6", inFeatures: inChannels * resolution * resolution, outFeatures: representation)
        fc7 = Linear(store: s, name: "fc7", inFeatures: representation, outFeatures: representation)
    }

    /// - Parameter x: (K, P, P, C) pooled regions.
    /// - Returns: (K, representation).
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        inputShape = mode == .train ? x.shape : nil
        return try relu7.forward(fc7.forward(relu6.forward(fc6.forward(flattenCHW(x), mode: mode), mode: mode), mode: mode), mode: mode)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let shape = inputShape else { preconditionFailure("TwoMLPHead.backward without a .train forward") }
        inputShape = nil
        return unflattenCHW(fc6.backward(relu6.backward(fc7.backward(relu7.backward(dy)))), like: shape)
    }
}

/// torchvision's `FastRCNNPredictor` (`roi_heads.box_predictor`): class logits `cls_score` and
/// per-class box deltas `bbox_pred` (4 per class), both `nn.Linear` with the default init.
public final class FastRCNNPredictor {
    let cls: Linear, bbox: Linear

    public init(_ s: ParameterStore, inFeatures: Int, classes: Int) {
        cls = Linear(store: s, name: "cls_score", inFeatures: inFeatures, outFeatures: classes)
        bbox = Linear(store: s, name: "bbox_pred", inFeatures: inFeatures, outFeatures: 4 * classes)
    }

    /// - Parameter x: (K, F).
    /// - Returns: logits (K, classes) and deltas (K, 4·classes).
    public func forward(_ x: Tensor, mode: Mode) throws -> (logits: Tensor, deltas: Tensor) {
        (try cls.forward(x, mode: mode), try bbox.forward(x, mode: mode))
    }

    public func backward(dLogits: Tensor, dDeltas: Tensor) -> Tensor {
        let d = cls.backward(dLogits)
        accumulate(into: d, bbox.backward(dDeltas))
        return d
    }
}

/// torchvision's `MaskRCNNHeads` (`roi_heads.mask_head.{0…3}.0`): four 3×3 convs of 256 with
/// ReLU, kaiming normal (fan-out) weights and zero biases; then `MaskRCNNPredictor`
/// (`roi_heads.mask_predictor`): `conv5_mask` (ConvTranspose 2×2 stride 2) + ReLU and the 1×1
/// `mask_fcn_logits`, weights kaiming normal (fan-out), biases 0.
public final class MaskHead {
    let convs: Sequential
    let up: ConvTranspose2d, upReLU = ReLU()
    let logits: Conv2d

    /// Declares `mask_head.*` and `mask_predictor.*` under the store's current prefix (`roi_heads`).
    public init(_ s: ParameterStore, inChannels: Int, classes: Int, layers: Int = 4, width: Int = 256) {
        var layerList: [Layer] = []
        s.scoped("mask_head") {
            var c = inChannels
            for i in 0..<layers {
                layerList.append(Conv2d(store: s, name: "\(i).0", inChannels: c, outChannels: width, kernel: 3, padding: 1, bias: true,
                                        weightInit: .kaimingNormalFanOut(fanOut: width * 9), biasInit: .zeros))
                layerList.append(ReLU())
                c = width
            }
        }
        convs = Sequential(layerList)
        (up, logits) = s.scoped("mask_predictor") {
            (ConvTranspose2d(store: s, name: "conv5_mask", inChannels: width, outChannels: width, kernel: 2,
                             weightInit: .kaimingNormalFanOut(fanOut: width * 4), biasInit: .zeros),
             Conv2d(store: s, name: "mask_fcn_logits", inChannels: width, outChannels: classes, kernel: 1, bias: true,
                    weightInit: .kaimingNormalFanOut(fanOut: classes), biasInit: .zeros))
        }
    }

    /// - Parameter x: (K, 14, 14, C) pooled regions.
    /// - Returns: mask logits (K, 28, 28, classes).
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try logits.forward(upReLU.forward(up.forward(convs.forward(x, mode: mode), mode: mode), mode: mode), mode: mode)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        convs.backward(up.backward(upReLU.backward(logits.backward(dy))))
    }
}
