/// A float32 tensor in row-major order.
///
/// Layout convention of the engine: activations are **NHWC** `(N, H, W, C)` so that a 1×1
/// convolution is one GEMM over `N·H·W` rows; features are `(N, F)`; conv weights are stored
/// **OHWI** `(O, kh, kw, I/groups)` inside the engine and converted to PyTorch's OIHW only at the
/// HDF5 boundary (see `ParameterLayout`). Storage comes from `BufferPool` and returns to it on
/// deinit.
public final class Tensor {
    public let shape: [Int]
    public let count: Int
    public let data: UnsafeMutablePointer<Float>

    /// A tensor with undefined contents (every element must be written before it is read).
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.data = BufferPool.shared.take(count)
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int]) {
        self.init(uninitialized: shape)
        data.update(repeating: 0, count: count)
    }

    /// A tensor holding `values` (count must match the shape).
    public convenience init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "Tensor(shape: \(shapeString(shape))) given \(values.count) values")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { BufferPool.shared.give(data, count) }

    /// Number of dimensions.
    @inlinable public var rank: Int { shape.count }
    /// The elements as a Swift array (copy; for tests and I/O, not hot loops).
    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }
    /// Buffer view of the storage.
    @inlinable public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }

    /// A copy with the same shape.
    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// The same elements under another shape of equal element count (copies).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "reshape \(shapeString(shape)) → \(shapeString(newShape))")
        let t = Tensor(uninitialized: newShape)
        t.data.update(from: data, count: count)
        return t
    }

    /// Fills with a constant.
    public func fill(_ v: Float) { data.update(repeating: v, count: count) }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor\(shapeString(shape))" }
}
