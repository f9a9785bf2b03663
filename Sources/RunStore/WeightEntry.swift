/// The values of one state-dict tensor: float32 (weights, running statistics, momentum) or
/// int64 (BatchNorm `num_batches_tracked`).
public enum TensorValues: Sendable, CustomStringConvertible {
    case float32([Float])
    case int64([Int64])

    /// Number of elements.
    public var count: Int {
        switch self {
        case let .float32(v): return v.count
        case let .int64(v): return v.count
        }
    }

    /// The values when they are float32.
    public var floats: [Float]? { if case let .float32(v) = self { return v }; return nil }
    /// The values when they are int64.
    public var int64s: [Int64]? { if case let .int64(v) = self { return v }; return nil }

    public var description: String {
        switch self {
        case let .float32(v): return "float32 × \(v.count)"
        case let .int64(v): return "int64 × \(v.count)"
        }
    }
}

extension TensorValues: Equatable {
    /// Equal when the bytes are equal (so NaN == NaN with the same payload, 0 != -0): a
    /// diverged run's weights still compare equal to themselves after a round trip.
    public static func == (lhs: TensorValues, rhs: TensorValues) -> Bool {
        switch (lhs, rhs) {
        case let (.float32(a), .float32(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
        case let (.int64(a), .int64(b)): return a == b
        default: return false
        }
    }
}

/// One named tensor as PyTorch's `state_dict()` has it: key, shape and row-major values.
public struct WeightEntry: Equatable, Sendable {
    /// State-dict key, e.g. `layer1.0.bn1.running_var` (no `/`).
    public var key: String
    /// PyTorch shape (OIHW for conv weights); `[]` for a scalar such as `num_batches_tracked`.
    public var shape: [Int]
    public var values: TensorValues

    /// - Parameters:
    ///   - key: state-dict key.
    ///   - shape: PyTorch shape.
    ///   - values: `shape.reduce(1, *)` values in PyTorch's element order.
    public init(key: String, shape: [Int], values: TensorValues) {
        precondition(shape.reduce(1, *) == values.count,
                     "WeightEntry \(key): \(values.count) values for shape \(shape)")
        self.key = key; self.shape = shape; self.values = values
    }

    /// A float32 entry.
    public init(key: String, shape: [Int], floats: [Float]) {
        self.init(key: key, shape: shape, values: .float32(floats))
    }

    /// An int64 entry.
    public init(key: String, shape: [Int], int64s: [Int64]) {
        self.init(key: key, shape: shape, values: .int64(int64s))
    }
}
