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

/// Layers applied one after another.
public final class Sequential: Layer {
    public let layers: [Layer]
    public init(_ layers: [Layer]) { self.layers = layers }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        var h = x
        for l in layers { h = try l.forward(h, mode: mode) }
        return h
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var g = dy
        for l in layers.reversed() { g = l.backward(g) }
        return g
    }
}
