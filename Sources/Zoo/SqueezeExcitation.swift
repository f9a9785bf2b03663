import Engine

/// Squeeze-and-excitation: `y = x · σ(fc2(ReLU(fc1(avgpool(x)))))` with 1×1 convs `<name>.fc1`
/// (C → S) and `<name>.fc2` (S → C). torchvision's `SqueezeExcitation` in RegNet (with bias) and
/// the reference SE-ResNet's module (reduction 16, without bias; the published 28.07M of SENet-50
/// needs the convs bias-free). thop counts the pool ((H·W+1)·C), fc1 and fc2.
final class SqueezeExcitation: Layer {
    let pool: GlobalAvgPool
    let fc1: Conv2d, relu = ReLU()
    let fc2: Conv2d, gate = Sigmoid()
    private var cache: (x: Tensor, scale: Tensor)?

    /// - Parameters:
    ///   - channels: C, of the input and output.
    ///   - squeeze: S, the hidden width.
    ///   - bias: whether fc1 and fc2 have biases.
    ///   - convInit: the convs' init from their fan-in (nil: torchvision's kaiming-normal fan-out, as
    ///     RegNet's init loop sets it; the reference SE-ResNet's blocks use PyTorch's default).
    init(_ s: ParameterStore, name: String, channels: Int, squeeze: Int, bias: Bool, convInit: ((Int) -> Initializer)? = nil) {
        precondition(channels > 0 && squeeze > 0, "SqueezeExcitation \(name): channels \(channels), squeeze \(squeeze)")
        pool = GlobalAvgPool(macs: s.context.macs)
        (fc1, fc2) = s.scoped(name) {
            (Conv2d(store: s, name: "fc1", inChannels: channels, outChannels: squeeze, kernel: 1, bias: bias, weightInit: convInit?(channels)),
             Conv2d(store: s, name: "fc2", inChannels: squeeze, outChannels: channels, kernel: 1, bias: bias, weightInit: convInit?(squeeze)))
        }
    }

    /// - Parameter x: (N, H, W, C).
    /// - Returns: (N, H, W, C).
    func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.rank == 4 else {
            throw EngineError.shapeMismatch(op: "SqueezeExcitation", detail: "expected (N, H, W, C), got \(shapeString(x.shape))")
        }
        let (n, c) = (x.shape[0], x.shape[3])
        let p = try pool.forward(x, mode: mode).reshaped([n, 1, 1, c])             // (N, 1, 1, C)
        let z = try fc2.forward(relu.forward(fc1.forward(p, mode: mode), mode: mode), mode: mode)
        let scale = try gate.forward(z, mode: mode)                                 // (N, 1, 1, C)
        cache = mode == .train ? (x, scale) : nil
        return try channelMulForward(x, scale)
    }

    func backward(_ dy: Tensor) -> Tensor {
        guard let (x, scale) = cache else { preconditionFailure("SqueezeExcitation.backward without a .train forward") }
        cache = nil
        let (dx, ds) = channelMulBackward(dy: dy, x: x, s: scale)
        let dp = fc1.backward(relu.backward(fc2.backward(gate.backward(ds))))      // (N, 1, 1, C)
        accumulate(into: dx, pool.backward(dp.reshaped([x.shape[0], x.shape[3]])))
        return dx
    }
}
