import Engine

extension Model {
    /// MACs of one image at `size`×`size` (thop's convention; eval-mode forward at batch 1).
    /// - Throws: `EngineError` when the image is too small for the network.
    public func macs(size: Int) throws -> Int {
        let x = Tensor(zeros: [1, size, size, inChannels])
        return try context.macs.count { _ = try forward(x, mode: .eval) }
    }

    /// Parameters as thop counts them (the published counts' convention, Reports/published/README.md): only
    /// leaf modules with a thop rule. Not counted: the Chebyshev KAN's `polynomial_weight` /
    /// `scaler` (custom module; its `base_linear` is an nn.Linear and counts), the rbf
    /// KAN's `spline_linear` (a subclass of nn.Linear, which thop's exact-type lookup misses), the
    /// whole b_spline KANLinear, and ELA's GroupNorm (no rule).
    public var thopParameterCount: Int {
        store.parameters.filter { p in !Model.thopUncountedSuffixes.contains { p.name.hasSuffix($0) } }
            .reduce(0) { $0 + $1.count }
    }

    /// State-dict key endings of the parameters thop does not see.
    static let thopUncountedSuffixes = [
        ".polynomial_weight", ".scaler",
        ".spline_linear.weight",
        ".conv.base_weight", ".conv.spline_weight", ".conv.spline_scaler",
        ".ela.gn.weight", ".ela.gn.bias",
    ]
}
