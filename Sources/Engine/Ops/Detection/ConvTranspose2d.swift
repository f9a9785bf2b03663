/// Transposed convolution whose kernel equals its stride and has no padding (the mask head's
/// `ConvTranspose2d(256, 256, 2, 2, 0)`): each input pixel writes its own k×k output block, so
/// the op is one GEMM and a scatter, with no overlap to sum.
///
///     y[n, k·h + i, k·w + j, o] = b[o] + Σ_c x[n, h, w, c] · W[c, o, i, j]
///
/// Weights are PyTorch's (C_in, C_out, k, k), stored (C_in, k, k, C_out) in the engine (the
/// `.convOHWI` permutation of the first axis's trailing dimensions), so that the GEMM's B is
/// the stored matrix (C_in, k·k·C_out).
public struct ConvTranspose2dGeometry: Equatable, Sendable {
    public let batch, height, width, inChannels, outChannels, kernel: Int
    public init(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int, kernel: Int) {
        self.batch = batch; self.height = height; self.width = width
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = kernel
    }
    public var outHeight: Int { height * kernel }
    public var outWidth: Int { width * kernel }
    public var inputShape: [Int] { [batch, height, width, inChannels] }
    public var outputShape: [Int] { [batch, outHeight, outWidth, outChannels] }
    /// Rows of the GEMM: input pixels.
    var rows: Int { batch * height * width }
    /// Columns of the GEMM: one output block.
    var block: Int { kernel * kernel * outChannels }
}

/// Copies between the GEMM's rows (pixel, i, j, o) and the NHWC output: `toOutput` scatters
/// rows into `y`, otherwise gathers `y` into rows.
func convTransposeShuffle(_ rows: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvTranspose2dGeometry, toOutput: Bool) {
    let (k, O, W, Wo) = (g.kernel, g.outChannels, g.width, g.outWidth)
    Parallel.forEachChunk(count: g.batch * g.height, chunk: 8) { r in
        for nh in r {
            let (n, h) = (nh / g.height, nh % g.height)
            for w in 0..<W {
                let row = rows + (nh * W + w) * g.block
                for i in 0..<k {
                    let out = y + ((n * g.outHeight + h * k + i) * Wo + w * k) * O
                    let src = row + i * k * O
                    if toOutput { out.update(from: src, count: k * O) } else { src.update(from: out, count: k * O) }
                }
            }
        }
    }
}

/// - Parameters:
///   - out: (N, H·k, W·k, O), overwritten.
///   - inp: (N, H, W, C).
///   - weight: (C, k, k, O).
///   - bias: (O) or nil.
public func convTranspose2dForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                                   _ bias: UnsafePointer<Float>?, _ g: ConvTranspose2dGeometry) {
    let rows = BufferPool.shared.take(g.rows * g.block)   // (N·H·W, k·k·O)
    defer { BufferPool.shared.give(rows, g.rows * g.block) }
    BLAS.sgemm(.none, .none, m: g.rows, n: g.block, k: g.inChannels, a: inp, lda: g.inChannels,
               b: weight, ldb: g.block, beta: 0, c: rows, ldc: g.block)
    convTransposeShuffle(rows, out, g, toOutput: true)
    if let bias { addBiasRows(out, bias, rows: g.batch * g.outHeight * g.outWidth, cols: g.outChannels) }
}

/// Gradients of `convTranspose2dForward`: with dY gathered into rows (N·H·W, k·k·O),
/// dX = dY·Wᵀ, dW += Xᵀ·dY, db += Σ dY.
/// - Parameters:
///   - dinp: (N, H, W, C), overwritten; nil skips it.
///   - dweight: (C, k, k, O), accumulated; nil skips it.
///   - dbias: (O), accumulated; nil skips it.
///   - dout: (N, H·k, W·k, O).
///   - inp: (N, H, W, C) the forward input.
///   - weight: (C, k, k, O).
public func convTranspose2dBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                                    _ dbias: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>,
                                    _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ g: ConvTranspose2dGeometry) {
    if let dbias { addColumnSums(dbias, dout, rows: g.batch * g.outHeight * g.outWidth, cols: g.outChannels) }
    let rows = BufferPool.shared.take(g.rows * g.block)
    defer { BufferPool.shared.give(rows, g.rows * g.block) }
    convTransposeShuffle(rows, UnsafeMutablePointer(mutating: dout), g, toOutput: false)
    if let dweight {
        BLAS.sgemm(.transposed, .none, m: g.inChannels, n: g.block, k: g.rows, a: inp, lda: g.inChannels,
                   b: rows, ldb: g.block, beta: 1, c: dweight, ldc: g.block)
    }
    if let dinp {
        BLAS.sgemm(.none, .transposed, m: g.rows, n: g.inChannels, k: g.block, a: rows, lda: g.block,
                   b: weight, ldb: g.block, beta: 0, c: dinp, ldc: g.inChannels)
    }
}

/// PyTorch `nn.ConvTranspose2d(C, O, k, stride=k)` (no padding, groups 1), NHWC activations.
public final class ConvTranspose2d: Layer {
    public let inChannels, outChannels, kernel: Int
    /// (C, O, k, k) in PyTorch order, stored (C, k, k, O).
    public let weight: Parameter
    public let bias: Parameter?
    private var cache: (input: Tensor, geometry: ConvTranspose2dGeometry)?

    /// Declares `<name>.weight` and `<name>.bias`.
    /// - Parameters:
    ///   - weightInit: e.g. torchvision's mask predictor, kaiming normal fan-out (C·k·k).
    ///   - biasInit: e.g. `.zeros`.
    public init(store: ParameterStore, name: String, inChannels: Int, outChannels: Int, kernel: Int,
                bias: Bool = true, weightInit: Initializer, biasInit: Initializer = .zeros) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0, "ConvTranspose2d \(name): sizes must be positive (in \(inChannels), out \(outChannels), k \(kernel))")
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = kernel
        (weight, self.bias) = store.scoped(name) {
            (store.weight("weight", shape: [inChannels, outChannels, kernel, kernel], layout: .convOHWI, initializer: weightInit),
             bias ? store.weight("bias", shape: [outChannels], initializer: biasInit) : nil)
        }
    }

    /// - Parameter x: (N, H, W, inChannels).
    /// - Returns: (N, H·k, W·k, outChannels).
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.rank == 4, x.shape[3] == inChannels else {
            throw EngineError.shapeMismatch(op: "ConvTranspose2d", detail: "expected input (N, H, W, \(inChannels)), got \(shapeString(x.shape))")
        }
        let g = ConvTranspose2dGeometry(batch: x.shape[0], height: x.shape[1], width: x.shape[2],
                                        inChannels: inChannels, outChannels: outChannels, kernel: kernel)
        let y = Tensor(uninitialized: g.outputShape)
        convTranspose2dForward(y.data, x.data, weight.value, bias?.value, g)
        cache = mode == .train ? (x, g) : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let (x, g) = cache else { preconditionFailure("ConvTranspose2d.backward without a .train forward") }
        precondition(dy.shape == g.outputShape, "ConvTranspose2d.backward: dy \(shapeString(dy.shape)), expected \(shapeString(g.outputShape))")
        cache = nil
        let dx = Tensor(uninitialized: x.shape)
        convTranspose2dBackward(dx.data, weight.grad, bias?.grad, dy.data, x.data, weight.value, g)
        return dx
    }
}
