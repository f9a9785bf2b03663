/// How a parameter's elements are ordered inside the engine relative to PyTorch's order.
public enum ParameterLayout: Sendable {
    /// Same order as PyTorch.
    case plain
    /// Conv weight stored OHWI `(O, kh, kw, I)`; PyTorch's is OIHW `(O, I, kh, kw)`.
    case convOHWI
}

/// What a named tensor of the state dict is for.
public enum ParameterRole: Sendable {
    /// Trained by the optimizer; has a gradient.
    case trainable
    /// A running statistic (BatchNorm `running_mean`/`running_var`): saved, not trained.
    case buffer
}

/// How a tensor is initialised (torchvision's conventions).
public enum Initializer: Sendable, Equatable {
    case zeros, ones
    case constant(Float)
    /// `kaiming_normal_(mode="fan_out", nonlinearity="relu")`: N(0, 2/fan_out).
    case kaimingNormalFanOut(fanOut: Int)
    /// U(-bound, bound): PyTorch's default Linear/Conv init uses bound = 1/sqrt(fan_in).
    case uniform(bound: Float)
    /// N(0, std²).
    case normal(std: Float)
    /// `trunc_normal_(mean=0, std, a=low, b=high)`: N(0, std²) restricted to [low, high], drawn as
    /// torch draws it (a uniform between the normal CDF at the bounds, then the inverse CDF).
    case truncatedNormal(std: Float, low: Float, high: Float)
}

/// One named tensor of the model's state dict, a view into the store's flat buffers.
public final class Parameter {
    /// PyTorch `state_dict()` key, e.g. `layer1.0.conv1.weight`.
    public let name: String
    /// Shape as PyTorch has it (e.g. OIHW for conv weights).
    public let shape: [Int]
    public let layout: ParameterLayout
    public let role: ParameterRole
    public let initializer: Initializer
    /// Position in creation order: keys the initialisation stream.
    public let index: Int
    /// Whether its layer folds its gradient over batch shards (`BatchSharding.perShard`), which a
    /// data-parallel run needs of every trainable tensor (set by the layer at init).
    public var foldsOverShards = false
    public let count: Int
    /// Offset into the store's flat buffer for this role.
    public internal(set) var offset: Int = 0
    /// Values (bound by `ParameterStore.finalize()`).
    public internal(set) var value: UnsafeMutablePointer<Float>!
    /// Gradient, accumulated by backward (nil for buffers).
    public internal(set) var grad: UnsafeMutablePointer<Float>!

    init(name: String, shape: [Int], layout: ParameterLayout, role: ParameterRole, initializer: Initializer, index: Int) {
        self.name = name; self.shape = shape; self.layout = layout; self.role = role
        self.initializer = initializer; self.index = index; self.count = shape.reduce(1, *)
    }

    /// Engine-order shape (OHWI for conv weights).
    public var engineShape: [Int] {
        layout == .convOHWI ? [shape[0], shape[2], shape[3], shape[1]] : shape
    }

    /// Values in PyTorch's element order.
    public func torchValues() -> [Float] {
        let v = UnsafeBufferPointer(start: value, count: count)
        return layout == .convOHWI ? Parameter.ohwiToOihw(Array(v), shape) : Array(v)
    }

    /// Gradient in PyTorch's element order.
    public func torchGrad() -> [Float] {
        let g = UnsafeBufferPointer(start: grad, count: count)
        return layout == .convOHWI ? Parameter.ohwiToOihw(Array(g), shape) : Array(g)
    }

    /// Sets values from PyTorch's element order.
    public func setTorchValues(_ src: [Float]) {
        precondition(src.count == count, "\(name): \(src.count) values for shape \(shapeString(shape))")
        let v = layout == .convOHWI ? Parameter.oihwToOhwi(src, shape) : src
        v.withUnsafeBufferPointer { value.update(from: $0.baseAddress!, count: count) }
    }

    static func ohwiToOihw(_ x: [Float], _ s: [Int]) -> [Float] {
        let (o, i, h, w) = (s[0], s[1], s[2], s[3])
        var y = [Float](repeating: 0, count: x.count)
        for a in 0..<o { for b in 0..<i { for c in 0..<h { for d in 0..<w {
            y[((a * i + b) * h + c) * w + d] = x[((a * h + c) * w + d) * i + b]
        } } } }
        return y
    }

    static func oihwToOhwi(_ x: [Float], _ s: [Int]) -> [Float] {
        let (o, i, h, w) = (s[0], s[1], s[2], s[3])
        var y = [Float](repeating: 0, count: x.count)
        for a in 0..<o { for b in 0..<i { for c in 0..<h { for d in 0..<w {
            y[((a * h + c) * w + d) * i + b] = x[((a * i + b) * h + c) * w + d]
        } } } }
        return y
    }
}

/// An integer state-dict entry (BatchNorm's `num_batches_tracked`, int64 in PyTorch).
public final class Counter {
    public let name: String
    public var value: Int64 = 0
    init(name: String) { self.name = name }
}
