/// The window of output (oh, ow) clipped to the image, and PyTorch's divisor for it.
@inline(__always)
func avgWindow(_ g: Pool2dGeometry, _ oh: Int, _ ow: Int, countIncludePad: Bool)
    -> (ih0: Int, ih1: Int, iw0: Int, iw1: Int, divisor: Float) {
    var ih0 = oh * g.stride - g.padding, iw0 = ow * g.stride - g.padding
    var ih1 = min(ih0 + g.kernel, g.height + g.padding), iw1 = min(iw0 + g.kernel, g.width + g.padding)
    let padded = (ih1 - ih0) * (iw1 - iw0)
    ih0 = max(ih0, 0); iw0 = max(iw0, 0); ih1 = min(ih1, g.height); iw1 = min(iw1, g.width)
    let inside = max(0, ih1 - ih0) * max(0, iw1 - iw0)
    return (ih0, ih1, iw0, iw1, Float(countIncludePad ? padded : inside))
}

/// Average pooling (PyTorch `avg_pool2d`): the divisor counts padding taps inside `H + p` when
/// `countIncludePad`, else only the taps inside the image; empty windows give 0. Parallel over images.
/// - Parameters:
///   - out: (N, Ho, Wo, C), overwritten.
///   - inp: (N, H, W, C).
public func avgPool2dForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                             _ g: Pool2dGeometry, countIncludePad: Bool) {
    let (H, W, C, Ho, Wo) = (g.height, g.width, g.channels, g.outHeight, g.outWidth)
    Parallel.forEach(g.batch) { n in
        let image = inp + n * H * W * C
        for oh in 0..<Ho { for ow in 0..<Wo {
            let w = avgWindow(g, oh, ow, countIncludePad: countIncludePad)
            let o = out + ((n * Ho + oh) * Wo + ow) * C
            o.update(repeating: 0, count: C)
            if w.ih0 >= w.ih1 || w.iw0 >= w.iw1 { continue }
            for ih in w.ih0..<w.ih1 { for iw in w.iw0..<w.iw1 { addInPlace(o, image + (ih * W + iw) * C, C) } }
            for c in 0..<C { o[c] /= w.divisor }
        } }
    }
}

/// Gradient of `avgPool2dForward`.
/// - Parameters:
///   - dinp: (N, H, W, C), overwritten.
///   - dout: (N, Ho, Wo, C).
public func avgPool2dBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                              _ g: Pool2dGeometry, countIncludePad: Bool) {
    let (H, W, C, Ho, Wo) = (g.height, g.width, g.channels, g.outHeight, g.outWidth)
    Parallel.forEach(g.batch) { n in
        let dimage = dinp + n * H * W * C
        dimage.update(repeating: 0, count: H * W * C)
        for oh in 0..<Ho { for ow in 0..<Wo {
            let w = avgWindow(g, oh, ow, countIncludePad: countIncludePad)
            if w.ih0 >= w.ih1 || w.iw0 >= w.iw1 { continue }
            let dy = dout + ((n * Ho + oh) * Wo + ow) * C
            for ih in w.ih0..<w.ih1 { for iw in w.iw0..<w.iw1 {
                let d = dimage + (ih * W + iw) * C
                for c in 0..<C { d[c] += dy[c] / w.divisor }
            } }
        } }
    }
}

/// Average pooling layer (PyTorch `nn.AvgPool2d`). ResNet-D's shortcut uses
/// `AvgPool2d(kernel: 2, stride: 2, ceilMode: true, countIncludePad: false)`.
public final class AvgPool2d: Layer {
    public let kernel, stride, padding: Int
    public let ceilMode, countIncludePad: Bool
    private var cached: Pool2dGeometry?
    /// Where forward passes count their MACs (a model passes its context's; nil counts nothing).
    private let macs: MACCounter?

    public init(kernel: Int, stride: Int, padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true,
                macs: MACCounter? = nil) {
        precondition(kernel > 0 && stride > 0 && padding >= 0, "AvgPool2d: kernel \(kernel), stride \(stride), padding \(padding)")
        self.macs = macs
        self.kernel = kernel; self.stride = stride; self.padding = padding
        self.ceilMode = ceilMode; self.countIncludePad = countIncludePad
    }

    /// - Parameter x: (N, H, W, C).
    /// - Returns: (N, Ho, Wo, C).
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let g = try Pool2dGeometry.checked(op: "AvgPool2d", shape: x.shape, kernel: kernel, stride: stride,
                                           padding: padding, ceilMode: ceilMode)
        let y = Tensor(uninitialized: g.outputShape)
        avgPool2dForward(y.data, x.data, g, countIncludePad: countIncludePad)
        macs?.add(y.count)
        cached = mode == .train ? g : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let g = cached else { preconditionFailure("AvgPool2d.backward without a .train forward") }
        precondition(dy.shape == g.outputShape, "AvgPool2d.backward: dy \(shapeString(dy.shape)), expected \(shapeString(g.outputShape))")
        cached = nil
        let dx = Tensor(uninitialized: g.inputShape)
        avgPool2dBackward(dx.data, dy.data, g, countIncludePad: countIncludePad)
        return dx
    }
}

/// Global average pooling: (N, H, W, C) → (N, C), the mean over pixels (`adaptive_avg_pool2d(1)`
/// followed by flatten).
public final class GlobalAvgPool: Layer {
    private var cachedShape: [Int]?
    /// Where forward passes count their MACs (a model passes its context's; nil counts nothing).
    private let macs: MACCounter?

    public init(macs: MACCounter? = nil) { self.macs = macs }

    /// - Throws: `EngineError.shapeMismatch` unless the input is rank 4 with at least one pixel.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.rank == 4, x.shape[1] * x.shape[2] > 0 else {
            throw EngineError.shapeMismatch(op: "GlobalAvgPool", detail: "expected a non-empty rank-4 NHWC input, got \(shapeString(x.shape))")
        }
        let (N, pixels, C) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
        let y = Tensor(uninitialized: [N, C])
        macs?.add((pixels + 1) * N * C)
        Parallel.forEach(N) { n in
            let o = y.data + n * C
            o.update(repeating: 0, count: C)
            for q in 0..<pixels { addInPlace(o, x.data + (n * pixels + q) * C, C) }
            let scale = 1 / Float(pixels)
            for c in 0..<C { o[c] *= scale }
        }
        cachedShape = mode == .train ? x.shape : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let shape = cachedShape else { preconditionFailure("GlobalAvgPool.backward without a .train forward") }
        let (N, pixels, C) = (shape[0], shape[1] * shape[2], shape[3])
        precondition(dy.shape == [N, C], "GlobalAvgPool.backward: dy \(shapeString(dy.shape)), expected \(shapeString([N, C]))")
        cachedShape = nil
        let dx = Tensor(uninitialized: shape)
        let scale = 1 / Float(pixels)
        Parallel.forEach(N) { n in
            let d = dx.data + n * pixels * C, g = dy.data + n * C
            for c in 0..<C { d[c] = g[c] * scale }
            for q in 1..<max(pixels, 1) { (d + q * C).update(from: d, count: C) }
        }
        return dx
    }
}
