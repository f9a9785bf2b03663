import Engine

/// A `Conv2d`'s parameters applied to every map of a pyramid in one call (the RPN head runs the
/// same convs on P2…pool). A `Conv2d` layer caches one input; this keeps one per map, and its
/// backward adds the weight gradients map by map, in map order (a fixed order: same bytes for
/// any thread count).
final class SharedConv {
    let conv: Conv2d
    private var cache: [(Tensor, Conv2dGeometry)]?

    init(_ conv: Conv2d) { self.conv = conv }

    /// - Parameter xs: one (N, H_l, W_l, C_in) map per level.
    /// - Returns: one (N, H_l', W_l', C_out) map per level.
    func forward(_ xs: [Tensor], mode: Mode) throws -> [Tensor] {
        var cache: [(Tensor, Conv2dGeometry)] = []
        let ys = try xs.map { x -> Tensor in
            let g = try conv.geometry(for: x.shape)
            let y = Tensor(uninitialized: g.outputShape)
            if g.batch > 0 {
                conv2dForward(y.data, x.data, conv.weight.value, conv.bias?.value, g,
                              tuning: conv.context.conv.resolved(for: mode == .train ? .trainingForward : .inferenceForward, g))
            }
            conv.context.macs.add(g.macs)
            cache.append((x, g))
            return y
        }
        self.cache = mode == .train ? cache : nil
        return ys
    }

    /// - Parameter dys: the gradient of each level's output.
    /// - Returns: the gradient of each level's input; the parameters' gradients are added.
    func backward(_ dys: [Tensor]) -> [Tensor] {
        guard let cache else { preconditionFailure("SharedConv.backward without a .train forward") }
        precondition(dys.count == cache.count, "SharedConv.backward: \(dys.count) gradients for \(cache.count) maps")
        self.cache = nil
        return zip(cache, dys).map { c, dy in
            let (x, g) = c
            precondition(dy.shape == g.outputShape, "SharedConv.backward: dy \(shapeString(dy.shape)), expected \(shapeString(g.outputShape))")
            let dx = Tensor(zeros: x.shape)
            if g.batch > 0 {
                conv2dBackward(dx.data, conv.weight.grad, conv.bias?.grad, dy.data, x.data, conv.weight.value, g,
                               tuning: conv.context.conv.resolved(for: .backward, g))
            }
            return dx
        }
    }
}
