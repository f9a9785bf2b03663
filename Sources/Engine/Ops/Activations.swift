import CKernels
import Foundation

// Elementwise activations: ReLU, SiLU, Sigmoid, Tanh, on tensors of any shape.
// Each op is a pair of pointer kernels (`xxxForward(out, inp, count)` /
// `xxxBackward(dinp, dout, cached, count)`) and a `Layer` that caches what backward needs.
// Backward kernels WRITE dinp (activations have no parameters). Loops run over
// `Parallel.elementChunk` chunks, so results do not depend on the thread count.

/// `out = max(inp, 0)`.
/// - Parameters:
///   - out: (count) output.
///   - inp: (count) input.
/// `rkan_relu` (CKernels, AVX2 where the CPU has it; NaN stays NaN as in PyTorch, −0 gives +0).
public func reluForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ count: Int) {
    Parallel.forEachChunk(count: count, chunk: Parallel.elementChunk(count)) { r in
        rkan_relu(out + r.lowerBound, inp + r.lowerBound, r.count)
    }
}

/// `dinp = dout · [out > 0]` (PyTorch's rule: the gradient at exactly 0 is 0).
/// - Parameters:
///   - dinp: (count) gradient of the input, written.
///   - dout: (count) gradient of the output.
///   - out: (count) the forward output (out > 0 ⇔ inp > 0).
public func reluBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                         _ out: UnsafePointer<Float>, _ count: Int) {
    // `rkan_relu_backward` (CKernels) loads both operands and blends: written as a conditional
    // in Swift it compiled to a branch per element, which mispredicts on ReLU's random signs.
    Parallel.forEachChunk(count: count, chunk: Parallel.elementChunk(count)) { r in
        rkan_relu_backward(dinp + r.lowerBound, dout + r.lowerBound, out + r.lowerBound, r.count)
    }
}

/// `out = inp · σ(inp)` with σ(x) = 1 / (1 + e^−x).
public func siluForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ count: Int) {
    Parallel.forEachChunk(count: count, chunk: Parallel.elementChunk(count)) { r in
        for i in r { let v = inp[i]; out[i] = v / (1 + Foundation.exp(-v)) }
    }
}

/// `dinp = dout · σ(x) · (1 + x · (1 − σ(x)))`.
/// - Parameter inp: (count) the forward input.
public func siluBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                         _ inp: UnsafePointer<Float>, _ count: Int) {
    Parallel.forEachChunk(count: count, chunk: Parallel.elementChunk(count)) { r in
        for i in r {
            let v = inp[i]
            let s = 1 / (1 + Foundation.exp(-v))
            dinp[i] = dout[i] * (s * (1 + v * (1 - s)))
        }
    }
}

/// `out = σ(inp)`.
public func sigmoidForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ count: Int) {
    Parallel.forEachChunk(count: count, chunk: Parallel.elementChunk(count)) { r in
        for i in r { out[i] = 1 / (1 + Foundation.exp(-inp[i])) }
    }
}

/// `dinp = dout · y · (1 − y)`.
/// - Parameter out: (count) the forward output y.
public func sigmoidBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                            _ out: UnsafePointer<Float>, _ count: Int) {
    Parallel.forEachChunk(count: count, chunk: Parallel.elementChunk(count)) { r in
        for i in r { let y = out[i]; dinp[i] = dout[i] * (y * (1 - y)) }
    }
}

/// `out = tanh(inp)`.
public func tanhForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ count: Int) {
    Parallel.forEachChunk(count: count, chunk: Parallel.elementChunk(count)) { r in
        for i in r { out[i] = Foundation.tanh(inp[i]) }
    }
}

/// `dinp = dout · (1 − y²)`.
/// - Parameter out: (count) the forward output y.
public func tanhBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                         _ out: UnsafePointer<Float>, _ count: Int) {
    Parallel.forEachChunk(count: count, chunk: Parallel.elementChunk(count)) { r in
        for i in r { let y = out[i]; dinp[i] = dout[i] * (1 - y * y) }
    }
}

/// Checks that `dy` matches the cached tensor a backward needs, and returns that tensor.
@inline(__always)
private func cachedForBackward(_ cache: Tensor?, _ dy: Tensor, _ op: String) -> Tensor {
    guard let c = cache else { preconditionFailure("\(op).backward called without a .train forward") }
    precondition(dy.shape == c.shape, "\(op).backward: dy \(shapeString(dy.shape)) but forward output was \(shapeString(c.shape))")
    return c
}

/// `max(x, 0)`, any shape. Caches its output for backward.
public final class ReLU: Layer {
    private var output: Tensor?      // y, same shape as x
    public init() {}

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let y = Tensor(uninitialized: x.shape)
        reluForward(y.data, x.data, x.count)
        output = mode == .train ? y : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let y = takeOutput(matching: dy)
        let dx = Tensor(uninitialized: dy.shape)
        reluBackward(dx.data, dy.data, y.data, dy.count)
        return dx
    }

    /// Caches `y` as this layer's forward output, for an op that applied ReLU in its own pass
    /// (`BatchNorm2d.forward(_:mode:adding:then:)`).
    func keep(output y: Tensor, mode: Mode) { output = mode == .train ? y : nil }

    /// The cached forward output, checked against `dy`, released from the cache.
    func takeOutput(matching dy: Tensor) -> Tensor {
        let y = cachedForBackward(output, dy, "ReLU")
        output = nil
        return y
    }
}

/// `x · σ(x)` (a.k.a. swish), any shape. Caches its input for backward.
public final class SiLU: Layer {
    private var input: Tensor?       // x
    public init() {}

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let y = Tensor(uninitialized: x.shape)
        siluForward(y.data, x.data, x.count)
        input = mode == .train ? x : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let x = cachedForBackward(input, dy, "SiLU")
        let dx = Tensor(uninitialized: dy.shape)
        siluBackward(dx.data, dy.data, x.data, dy.count)
        input = nil
        return dx
    }
}

/// `1 / (1 + e^−x)`, any shape. Caches its output for backward.
public final class Sigmoid: Layer {
    private var output: Tensor?      // y
    public init() {}

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let y = Tensor(uninitialized: x.shape)
        sigmoidForward(y.data, x.data, x.count)
        output = mode == .train ? y : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let y = cachedForBackward(output, dy, "Sigmoid")
        let dx = Tensor(uninitialized: dy.shape)
        sigmoidBackward(dx.data, dy.data, y.data, dy.count)
        output = nil
        return dx
    }
}

/// `tanh(x)`, any shape. Caches its output for backward.
public final class Tanh: Layer {
    private var output: Tensor?      // y
    public init() {}

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let y = Tensor(uninitialized: x.shape)
        tanhForward(y.data, x.data, x.count)
        output = mode == .train ? y : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let y = cachedForBackward(output, dy, "Tanh")
        let dx = Tensor(uninitialized: dy.shape)
        tanhBackward(dx.data, dy.data, y.data, dy.count)
        output = nil
        return dx
    }
}
