import Engine

/// torchvision's BasicBlock (ResNet-18/34): conv3×3-BN-ReLU-conv3×3-BN, plus identity or
/// downsample (conv1×1 stride s + BN), then ReLU.
final class BasicBlock: Layer {
    let conv1: Conv2d, bn1: BatchNorm2d, relu1 = ReLU()
    let conv2: Conv2d, bn2: BatchNorm2d, relu2 = ReLU()
    let downsample: Sequential?

    /// - Parameter convInit: the convs' init from their fan-in (nil: torchvision's kaiming-normal fan-out).
    init(_ s: ParameterStore, inPlanes: Int, planes: Int, stride: Int, downsample: Sequential?, convInit: ((Int) -> Initializer)? = nil) {
        conv1 = Conv2d(store: s, name: "conv1", inChannels: inPlanes, outChannels: planes, kernel: 3, stride: stride, padding: 1,
                       weightInit: convInit?(inPlanes * 9))
        bn1 = BatchNorm2d(store: s, name: "bn1", channels: planes)
        conv2 = Conv2d(store: s, name: "conv2", inChannels: planes, outChannels: planes, kernel: 3, stride: 1, padding: 1,
                       weightInit: convInit?(planes * 9))
        bn2 = BatchNorm2d(store: s, name: "bn2", channels: planes)
        self.downsample = downsample
    }

    // BN, residual add and ReLU run fused (`BatchNorm2d.forward(after:…)`; same bytes as the separate ops).
    func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let h = try bn1.forward(after: conv1, x, mode: mode, then: relu1)
        let identity = try downsample?.forward(x, mode: mode) ?? x
        return try bn2.forward(after: conv2, h, mode: mode, adding: identity, then: relu2)
    }

    func backward(_ dy: Tensor) -> Tensor {
        let d = relu2.backward(dy)
        let dx = conv1.backward(bn1.backward(conv2.backward(bn2.backward(d)), through: relu1))
        accumulate(into: dx, downsample?.backward(d) ?? d)
        return dx
    }
}

/// torchvision's Bottleneck (ResNet-50+, v1.5: stride on the 3×3): conv1×1-BN-ReLU,
/// conv3×3(stride, groups)-BN-ReLU, conv1×1-BN, optional attention (SE, ELA), plus identity or
/// downsample, then ReLU.
final class Bottleneck: Layer {
    static let expansion = 4
    let conv1: Conv2d, bn1: BatchNorm2d, relu1 = ReLU()
    let conv2: Conv2d, bn2: BatchNorm2d, relu2 = ReLU()
    let conv3: Conv2d, bn3: BatchNorm2d, relu3 = ReLU()
    let attention: Layer?
    let downsample: Sequential?

    /// - Parameters:
    ///   - width: channels of the 3×3 conv (planes·baseWidth/64·groups in torchvision).
    ///   - attention: applied to bn3's output before the residual add (SE-ResNet, ELA-ResNet).
    ///   - convInit: the convs' init from their fan-in (nil: torchvision's kaiming-normal fan-out).
    init(_ s: ParameterStore, inPlanes: Int, planes: Int, width: Int, groups: Int, stride: Int, downsample: Sequential?,
         attention: Layer? = nil, convInit: ((Int) -> Initializer)? = nil) {
        conv1 = Conv2d(store: s, name: "conv1", inChannels: inPlanes, outChannels: width, kernel: 1, weightInit: convInit?(inPlanes))
        bn1 = BatchNorm2d(store: s, name: "bn1", channels: width)
        conv2 = Conv2d(store: s, name: "conv2", inChannels: width, outChannels: width, kernel: 3, stride: stride, padding: 1, groups: groups,
                       weightInit: convInit?(width / groups * 9))
        bn2 = BatchNorm2d(store: s, name: "bn2", channels: width)
        conv3 = Conv2d(store: s, name: "conv3", inChannels: width, outChannels: planes * Bottleneck.expansion, kernel: 1,
                       weightInit: convInit?(width))
        bn3 = BatchNorm2d(store: s, name: "bn3", channels: planes * Bottleneck.expansion)
        self.attention = attention
        self.downsample = downsample
    }

    // BN + ReLU (and BN + residual add + ReLU without attention) run fused
    // (`BatchNorm2d.forward(after:…)`; same bytes as the separate ops).
    func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        var h = try bn1.forward(after: conv1, x, mode: mode, then: relu1)
        h = try bn2.forward(after: conv2, h, mode: mode, then: relu2)
        let identity = try downsample?.forward(x, mode: mode) ?? x
        guard let attention else { return try bn3.forward(after: conv3, h, mode: mode, adding: identity, then: relu3) }
        h = try attention.forward(bn3.forward(after: conv3, h, mode: mode, then: nil), mode: mode)
        return try relu3.forward(addForward(h, identity), mode: mode)
    }

    func backward(_ dy: Tensor) -> Tensor {
        let d = relu3.backward(dy)
        var g = attention?.backward(d) ?? d
        g = conv3.backward(bn3.backward(g))
        g = conv2.backward(bn2.backward(g, through: relu2))
        let dx = conv1.backward(bn1.backward(g, through: relu1))
        accumulate(into: dx, downsample?.backward(d) ?? d)
        return dx
    }
}
