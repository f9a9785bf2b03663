/// Geometry of a 2-D pooling window on NHWC activations (PyTorch semantics, no dilation).
public struct Pool2dGeometry: Equatable, Sendable {
    public let batch, height, width, channels, kernel, stride, padding: Int
    /// PyTorch's `ceil_mode`: round the output size up (the last window must start inside).
    public let ceilMode: Bool

    public init(batch: Int, height: Int, width: Int, channels: Int, kernel: Int, stride: Int,
                padding: Int = 0, ceilMode: Bool = false) {
        self.batch = batch; self.height = height; self.width = width; self.channels = channels
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.ceilMode = ceilMode
    }

    /// PyTorch's `pooling_output_shape` (dilation 1).
    func pooled(_ n: Int) -> Int {
        var o = (n + 2 * padding - kernel + (ceilMode ? stride - 1 : 0)) / stride + 1
        if ceilMode && (o - 1) * stride >= n + padding { o -= 1 }
        return o
    }
    public var outHeight: Int { pooled(height) }
    public var outWidth: Int { pooled(width) }
    public var inputShape: [Int] { [batch, height, width, channels] }
    public var outputShape: [Int] { [batch, outHeight, outWidth, channels] }

    /// Checks an NHWC shape against a pooling window; returns the geometry.
    static func checked(op: String, shape: [Int], kernel: Int, stride: Int, padding: Int, ceilMode: Bool) throws -> Pool2dGeometry {
        let what = "input \(shapeString(shape)) (NHWC), kernel \(kernel), stride \(stride), padding \(padding)"
        guard shape.count == 4 else { throw EngineError.shapeMismatch(op: op, detail: "expected a rank-4 input; \(what)") }
        guard padding * 2 <= kernel else {
            throw EngineError.invalidArgument(op: op, detail: "padding must be at most half the kernel; \(what)")
        }
        guard shape[1] + 2 * padding >= kernel, shape[2] + 2 * padding >= kernel else {
            throw EngineError.shapeMismatch(op: op, detail: "padded input smaller than kernel \(kernel); \(what)")
        }
        return Pool2dGeometry(batch: shape[0], height: shape[1], width: shape[2], channels: shape[3],
                              kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
    }
}

/// Max pooling with −∞ padding. Ties go to the first position in (ih, iw) order and NaN wins,
/// as PyTorch's CPU kernel does. Parallel over images.
/// - Parameters:
///   - out: (N, Ho, Wo, C), overwritten.
///   - indices: (N, Ho, Wo, C), overwritten with the argmax's `ih·W + iw` within its image.
///   - inp: (N, H, W, C).
public func maxPool2dForward(_ out: UnsafeMutablePointer<Float>, _ indices: UnsafeMutablePointer<Int32>,
                             _ inp: UnsafePointer<Float>, _ g: Pool2dGeometry) {
    let (H, W, C, k, s, p, Ho, Wo) = (g.height, g.width, g.channels, g.kernel, g.stride, g.padding, g.outHeight, g.outWidth)
    Parallel.forEach(g.batch) { n in
        let image = inp + n * H * W * C
        for oh in 0..<Ho {
            let ih0 = max(oh * s - p, 0), ih1 = min(oh * s - p + k, H)
            for ow in 0..<Wo {
                let iw0 = max(ow * s - p, 0), iw1 = min(ow * s - p + k, W)
                let o = ((n * Ho + oh) * Wo + ow) * C
                let m = out + o, idx = indices + o
                m.update(repeating: -.infinity, count: C)
                idx.update(repeating: Int32(ih0 * W + iw0), count: C)
                for ih in ih0..<ih1 { for iw in iw0..<iw1 {
                    let src = image + (ih * W + iw) * C, pos = Int32(ih * W + iw)
                    // 8 channels at a time: the same selection as the scalar tail (a value wins when
                    // larger or NaN, ties keep the first), so the same bytes, without a branch per value.
                    var c = 0
                    let p8 = SIMD8<Int32>(repeating: pos)
                    while c + 8 <= C {
                        let v = UnsafeRawPointer(src + c).loadUnaligned(as: SIMD8<Float>.self)
                        var best = UnsafeRawPointer(m + c).loadUnaligned(as: SIMD8<Float>.self)
                        var at = UnsafeRawPointer(idx + c).loadUnaligned(as: SIMD8<Int32>.self)
                        let wins = (v .> best) .| (v .!= v)
                        best.replace(with: v, where: wins)
                        at.replace(with: p8, where: wins)
                        UnsafeMutableRawPointer(m + c).storeBytes(of: best, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(idx + c).storeBytes(of: at, as: SIMD8<Int32>.self)
                        c += 8
                    }
                    while c < C {
                        let v = src[c]
                        if v > m[c] || v.isNaN { m[c] = v; idx[c] = pos }
                        c += 1
                    }
                } }
            }
        }
    }
}

/// Gradient of `maxPool2dForward`: each output's gradient goes to its argmax.
/// - Parameters:
///   - dinp: (N, H, W, C), overwritten.
///   - dout: (N, Ho, Wo, C).
///   - indices: (N, Ho, Wo, C) from the forward pass.
public func maxPool2dBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                              _ indices: UnsafePointer<Int32>, _ g: Pool2dGeometry) {
    let (H, W, C) = (g.height, g.width, g.channels)
    let pixels = g.outHeight * g.outWidth
    Parallel.forEach(g.batch) { n in
        let dimage = dinp + n * H * W * C
        dimage.update(repeating: 0, count: H * W * C)
        let dy = dout + n * pixels * C, idx = indices + n * pixels * C
        for q in 0..<pixels { for c in 0..<C {
            dimage[Int(idx[q * C + c]) * C + c] += dy[q * C + c]
        } }
    }
}

/// Max pooling layer (PyTorch `nn.MaxPool2d`, no dilation, floor mode).
public final class MaxPool2d: Layer {
    public let kernel, stride, padding: Int
    private var indices: UnsafeMutablePointer<Int32>?   // (N, Ho, Wo, C), reused across batches
    private var indexCapacity = 0
    private var cached: Pool2dGeometry?

    public init(kernel: Int, stride: Int, padding: Int) {
        precondition(kernel > 0 && stride > 0 && padding >= 0, "MaxPool2d: kernel \(kernel), stride \(stride), padding \(padding)")
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    deinit { indices?.deallocate() }

    /// - Parameter x: (N, H, W, C).
    /// - Returns: (N, Ho, Wo, C).
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let g = try Pool2dGeometry.checked(op: "MaxPool2d", shape: x.shape, kernel: kernel, stride: stride,
                                           padding: padding, ceilMode: false)
        let y = Tensor(uninitialized: g.outputShape)
        if indexCapacity < y.count {
            indices?.deallocate()
            indices = .allocate(capacity: y.count)
            indexCapacity = y.count
        }
        maxPool2dForward(y.data, indices!, x.data, g)
        cached = mode == .train ? g : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let g = cached else { preconditionFailure("MaxPool2d.backward without a .train forward") }
        precondition(dy.shape == g.outputShape, "MaxPool2d.backward: dy \(shapeString(dy.shape)), expected \(shapeString(g.outputShape))")
        cached = nil
        let dx = Tensor(uninitialized: g.inputShape)
        maxPool2dBackward(dx.data, dy.data, indices!, g)
        return dx
    }
}
