/// Whether a layer runs in training mode (batch statistics, caches for backward) or
/// evaluation mode (running statistics, nothing cached).
public enum Mode: Sendable { case train, eval }

/// A differentiable layer. `forward` in `.train` mode stores exactly what `backward` needs;
/// `backward` takes dL/dy, **adds** parameter gradients into the store's grad buffers and
/// returns dL/dx. A model's backward is its forward in reverse.
public protocol Layer: AnyObject {
    /// - Throws: `EngineError` when the input's shape does not fit the layer.
    func forward(_ x: Tensor, mode: Mode) throws -> Tensor
    /// Valid only after a `.train` forward; frees the cache it used.
    func backward(_ dy: Tensor) -> Tensor
}

/// Layers applied one after another. A `BatchNorm2d` followed by a `ReLU` runs as one fused
/// pass (`BatchNorm2d.forward(_:mode:adding:then:)`, and `backward(_:through:)` back); a
/// `Conv2d` before them goes through `BatchNorm2d.forward(after:_:mode:adding:then:)` (in eval
/// mode, the conv's epilogue). Either way, the bytes of the layers run one by one.
public final class Sequential: Layer {
    public let layers: [Layer]
    public init(_ layers: [Layer]) { self.layers = layers }

    /// Whether layers i and i+1 run as one fused BatchNorm + ReLU pass.
    private func fused(_ i: Int) -> (BatchNorm2d, ReLU)? {
        guard i + 1 < layers.count, let bn = layers[i] as? BatchNorm2d, let relu = layers[i + 1] as? ReLU else { return nil }
        return (bn, relu)
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        var h = x
        var i = 0
        while i < layers.count {
            if i + 1 < layers.count, let conv = layers[i] as? Conv2d, let bn = layers[i + 1] as? BatchNorm2d {
                let relu = i + 2 < layers.count ? layers[i + 2] as? ReLU : nil
                h = try bn.forward(after: conv, h, mode: mode, then: relu)
                i += relu == nil ? 2 : 3
            } else if let (bn, relu) = fused(i) {
                h = try bn.forward(h, mode: mode, adding: nil, then: relu)
                i += 2
            } else {
                h = try layers[i].forward(h, mode: mode)
                i += 1
            }
        }
        return h
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var g = dy
        var i = layers.count - 1
        while i >= 0 {
            if i >= 1, let (bn, relu) = fused(i - 1) {
                g = bn.backward(g, through: relu)
                i -= 2
            } else {
                g = layers[i].backward(g)
                i -= 1
            }
        }
        return g
    }
}
