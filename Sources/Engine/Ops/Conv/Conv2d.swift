import CKernels
import Foundation

/// `y = x ∗ w + b`: 2-D convolution, NHWC in and out, OHWI weights, any k, s, p, groups.
///
/// 1×1 stride-1 unpadded convs are one GEMM per group on the input; everything else is
/// im2col on chunks of images, then `col (M, K) · Wᵀ` per group (transposed B on OHWI rows).
/// - Parameters:
///   - out: (N, Ho, Wo, O), overwritten.
///   - inp: (N, H, W, C).
///   - weight: (O, k, k, Cg).
///   - bias: (O) or nil.
///   - g: the geometry.
///   - tuning: the algorithm for 3×3 convs and the chunk size (a model passes its context's, resolved
///     for the stage: `ConvTuning.resolved(for:_:)`; `winograd-mixed` itself is refused).
///   - transformed: `weight` already in Winograd's domain for `.forward` (shared by the shards of
///     one layer call), or nil to transform it here when the geometry takes a Winograd path.
///   - epilogue: an inference-mode BatchNorm (+ residual, ReLU) applied to the output as it is
///     made: in the Winograd output transform, after each im2col chunk's GEMM, or after the 1×1
///     GEMM; its residual pointer indexes like `out`. The bytes of the separate ops.
public func conv2dForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                          _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ g: Conv2dGeometry,
                          tuning: ConvTuning, transformed: WinogradWeights? = nil,
                          epilogue: UnsafePointer<rkan_epilogue>? = nil) {
    precondition(g.isValid, "conv2dForward: invalid geometry \(g)")
    if let m = Winograd.tile(for: g, tuning.algorithm) {
        return Winograd.forward(out, inp, weight, bias, g, m: m, chunkFloats: tuning.chunkFloats, transformed: transformed,
                                epilogue: epilogue, gemm: tuning.winogradGEMM)
    }
    let (O, G, Og, Kg) = (g.outChannels, g.groups, g.groupOutChannels, g.groupPatch)
    /// out rows (m, O) = a (m, K) · Wᵀ, per group; `split` chooses `BLAS.sgemm` over one call.
    func gemm(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, _ c: UnsafeMutablePointer<Float>, split: Bool) {
        for gi in 0..<G {
            let (pa, pb, pc) = (a + gi * Kg, weight + gi * Og * Kg, c + gi * Og)
            if split {
                BLAS.sgemm(.none, .transposed, m: m, n: Og, k: Kg, a: pa, lda: lda, b: pb, ldb: Kg, beta: 0, c: pc, ldc: O)
            } else {
                BLAS.sgemmSerial(.none, .transposed, m: m, n: Og, k: Kg, a: pa, lda: lda, b: pb, ldb: Kg, beta: 0, c: pc, ldc: O)
            }
        }
    }
    /// Bias, then the epilogue, on output rows `rows` (when there is an epilogue; else the bias
    /// is added over all rows at the end).
    func finish(_ rows: Range<Int>) {
        guard let ep = epilogue?.pointee else { return }
        let o = out + rows.lowerBound * O
        if let bias { for row in 0..<rows.count { addInPlace(o + row * O, bias, O) } }
        rkan_bn_apply(o, o, rows.count, O, ep.mean, ep.scale, ep.shift, ep.residual.map { $0 + rows.lowerBound * O }, ep.relu)
    }
    if g.isDirectGEMM {
        gemm(inp, lda: g.inChannels, rows: g.rows, out, split: true)
        if epilogue != nil {
            Parallel.forEachChunk(count: g.rows, chunk: max(1, 16_384 / O)) { finish($0) }
        }
    } else {
        let per = ConvTuning.imagesPerChunk(g, chunkFloats: tuning.chunkFloats), pixels = g.outHeight * g.outWidth
        let chunks = (g.batch + per - 1) / per, colCount = per * pixels * g.patch
        if chunks >= ConvTuning.minParallelChunks {
            Parallel.forEachChunk(count: g.batch, chunk: per) { images in
                let col = BufferPool.shared.take(colCount)   // (per·Ho·Wo, K)
                defer { BufferPool.shared.give(col, colCount) }
                im2col(col, inp, g, images: images)
                gemm(col, lda: g.patch, rows: images.count * pixels, out + images.lowerBound * pixels * O, split: false)
                finish((images.lowerBound * pixels)..<(images.upperBound * pixels))
            }
        } else {
            let col = BufferPool.shared.take(colCount)   // (per·Ho·Wo, K)
            defer { BufferPool.shared.give(col, colCount) }
            var n0 = 0
            while n0 < g.batch {
                let n1 = min(g.batch, n0 + per)
                im2col(col, inp, g, images: n0..<n1)
                gemm(col, lda: g.patch, rows: (n1 - n0) * pixels, out + n0 * pixels * O, split: true)
                finish((n0 * pixels)..<(n1 * pixels))
                n0 = n1
            }
        }
    }
    if let bias, epilogue == nil { addBiasRows(out, bias, rows: g.rows, cols: O) }
}

/// Gradients of `conv2dForward`.
///
/// dW += dYᵀ · col and dcol = dY · W per group (col recomputed from the input chunk by chunk,
/// dcol written over it), then col2im; 1×1 stride-1 unpadded convs use the input and dX directly.
/// With ≥ `minParallelChunks` chunks, chunk c belongs to lane c mod 4; lanes run in parallel,
/// each accumulating its dW into its own buffer (lane 0 into `dweight`), and lanes 1–3 are added
/// to `dweight` in lane order: the same bytes for any thread count.
/// - Parameters:
///   - dinp: (N, H, W, C), overwritten; nil skips the input gradient.
///   - dweight: (O, k, k, Cg), accumulated; nil skips it.
///   - dbias: (O), accumulated; nil skips it.
///   - dout: (N, Ho, Wo, O) upstream gradient.
///   - inp: (N, H, W, C) the forward input.
///   - weight: (O, k, k, Cg).
///   - g: the geometry.
///   - tuning: as in the forward.
///   - transformed: as in the forward, for `.inputGradient`.
///   - accumulate: whether `dweight` and `dbias` are added to (default) or overwritten (a fresh
///     per-shard gradient row: no need to zero it first; the bytes are those of adding to zeros).
public func conv2dBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                           _ dbias: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>,
                           _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ g: Conv2dGeometry,
                           tuning: ConvTuning, transformed: WinogradWeights? = nil, accumulate: Bool = true) {
    precondition(g.isValid, "conv2dBackward: invalid geometry \(g)")
    let (O, G, Og, Kg) = (g.outChannels, g.groups, g.groupOutChannels, g.groupPatch)
    if !accumulate {
        dbias?.update(repeating: 0, count: O)
        if g.batch == 0 { dweight?.update(repeating: 0, count: O * Kg) }   // no pass below writes it
    }
    if let dbias { addColumnSums(dbias, dout, rows: g.rows, cols: O) }
    if let m = Winograd.tile(for: g, tuning.algorithm) {
        return Winograd.backward(dinp, dweight, dout, inp, weight, g, m: m, chunkFloats: tuning.chunkFloats,
                                 transformed: transformed, accumulate: accumulate, gemm: tuning.winogradGEMM)
    }
    /// beta of the first GEMM into `dweight` (later ones add to it).
    let firstBeta: Float = accumulate ? 1 : 0
    /// dW (O, Kg) = beta·dW + dYᵀ (O, m) · a (m, Kg), per group.
    func gemmWeight(_ dy: UnsafePointer<Float>, _ a: UnsafePointer<Float>, lda: Int, rows m: Int,
                    _ dw: UnsafeMutablePointer<Float>, beta: Float, split: Bool) {
        for gi in 0..<G {
            let (pa, pb, pc) = (dy + gi * Og, a + gi * Kg, dw + gi * Og * Kg)
            if split {
                BLAS.sgemm(.transposed, .none, m: Og, n: Kg, k: m, a: pa, lda: O, b: pb, ldb: lda, beta: beta, c: pc, ldc: Kg)
            } else {
                BLAS.sgemmSerial(.transposed, .none, m: Og, n: Kg, k: m, a: pa, lda: O, b: pb, ldb: lda, beta: beta, c: pc, ldc: Kg)
            }
        }
    }
    /// c (m, K) = dY (m, O) · W (O, Kg), per group.
    func gemmInput(_ dy: UnsafePointer<Float>, rows m: Int, _ c: UnsafeMutablePointer<Float>, ldc: Int, split: Bool) {
        for gi in 0..<G {
            let (pa, pb, pc) = (dy + gi * Og, weight + gi * Og * Kg, c + gi * Kg)
            if split {
                BLAS.sgemm(.none, .none, m: m, n: Kg, k: Og, a: pa, lda: O, b: pb, ldb: Kg, beta: 0, c: pc, ldc: ldc)
            } else {
                BLAS.sgemmSerial(.none, .none, m: m, n: Kg, k: Og, a: pa, lda: O, b: pb, ldb: Kg, beta: 0, c: pc, ldc: ldc)
            }
        }
    }
    if g.isDirectGEMM {
        if let dweight { gemmWeight(dout, inp, lda: g.inChannels, rows: g.rows, dweight, beta: firstBeta, split: true) }
        if let dinp { gemmInput(dout, rows: g.rows, dinp, ldc: g.inChannels, split: true) }
        return
    }
    if dweight == nil && dinp == nil { return }
    let per = ConvTuning.imagesPerChunk(g, chunkFloats: tuning.chunkFloats), pixels = g.outHeight * g.outWidth
    let chunks = (g.batch + per - 1) / per, colCount = per * pixels * g.patch
    if chunks >= ConvTuning.minParallelChunks {
        let lanes = ConvTuning.minParallelChunks, wCount = O * Kg
        let partials = dweight == nil ? nil : BufferPool.shared.take((lanes - 1) * wCount)   // (lanes−1, O, Kg)
        defer { if let partials { BufferPool.shared.give(partials, (lanes - 1) * wCount) } }
        Parallel.forEachChunk(count: lanes, chunk: 1) { laneRange in
            let col = BufferPool.shared.take(colCount)   // (per·Ho·Wo, K): col, then dcol
            defer { BufferPool.shared.give(col, colCount) }
            for lane in laneRange {
                var c = lane
                while c < chunks {
                    let (n0, n1) = (c * per, min(g.batch, (c + 1) * per))
                    let m = (n1 - n0) * pixels, dy = dout + n0 * pixels * O
                    if let dweight {
                        im2col(col, inp, g, images: n0..<n1)
                        let target = lane == 0 ? dweight : partials! + (lane - 1) * wCount
                        let beta: Float = c >= lanes ? 1 : lane == 0 ? firstBeta : 0
                        gemmWeight(dy, col, lda: g.patch, rows: m, target, beta: beta, split: false)
                    }
                    if let dinp {
                        gemmInput(dy, rows: m, col, ldc: g.patch, split: false)
                        col2im(dinp, col, g, images: n0..<n1)
                    }
                    c += lanes
                }
            }
        }
        if let dweight, let partials {
            Parallel.forEachChunk(count: wCount, chunk: Parallel.elementChunk(wCount)) { r in
                for lane in 1..<min(lanes, chunks) {
                    let p = partials + (lane - 1) * wCount
                    for i in r { dweight[i] += p[i] }
                }
            }
        }
        return
    }
    let col = BufferPool.shared.take(colCount)   // (per·Ho·Wo, K): col, then dcol
    defer { BufferPool.shared.give(col, colCount) }
    var n0 = 0
    while n0 < g.batch {
        let n1 = min(g.batch, n0 + per), m = (n1 - n0) * pixels
        let dy = dout + n0 * pixels * O
        if let dweight {
            im2col(col, inp, g, images: n0..<n1)
            gemmWeight(dy, col, lda: g.patch, rows: m, dweight, beta: n0 == 0 ? firstBeta : 1, split: true)
        }
        if let dinp {
            gemmInput(dy, rows: m, col, ldc: g.patch, split: true)
            col2im(dinp, col, g, images: n0..<n1)
        }
        n0 = n1
    }
}

/// 2-D convolution layer (PyTorch `nn.Conv2d` without dilation), NHWC activations.
public final class Conv2d: Layer {
    public let inChannels, outChannels, kernel, stride, padding, groups: Int
    /// (O, I/groups, k, k) in PyTorch order, stored OHWI.
    public let weight: Parameter
    /// (O), when the layer has a bias.
    public let bias: Parameter?
    /// The engine settings (conv tuning, MAC counter) of the store the layer was built in.
    public let context: EngineContext
    private var cache: (input: Tensor, geometry: Conv2dGeometry)?

    /// - Parameters:
    ///   - store: declares `<name>.weight` (and `<name>.bias`).
    ///   - weightInit: defaults to torchvision's ResNet init, kaiming normal with fan-out O·k·k.
    ///   - biasInit: defaults to PyTorch's, U(±1/√fan_in) (detection heads start their biases at 0).
    public init(store: ParameterStore, name: String, inChannels: Int, outChannels: Int, kernel: Int,
                stride: Int = 1, padding: Int = 0, groups: Int = 1, bias: Bool = false, weightInit: Initializer? = nil,
                biasInit: Initializer? = nil) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0 && groups > 0,
                     "Conv2d \(name): sizes must be positive (in \(inChannels), out \(outChannels), k \(kernel), s \(stride), p \(padding), groups \(groups))")
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernel = kernel
        self.stride = stride; self.padding = padding; self.groups = groups
        context = store.context
        let fanIn = (inChannels / groups) * kernel * kernel
        let wInit = weightInit ?? .kaimingNormalFanOut(fanOut: outChannels * kernel * kernel)
        (weight, self.bias) = store.scoped(name) {
            let w = store.weight("weight", shape: [outChannels, inChannels / groups, kernel, kernel],
                                 layout: .convOHWI, initializer: wInit)
            let b = bias ? store.weight("bias", shape: [outChannels],
                                        initializer: biasInit ?? .uniform(bound: 1 / Float(fanIn).squareRoot())) : nil
            return (w, b)
        }
        for p in [weight] + (self.bias.map { [$0] } ?? []) { p.foldsOverShards = true }
    }

    /// The geometry for input shape `shape`, or an `EngineError` naming the shapes.
    public func geometry(for shape: [Int]) throws -> Conv2dGeometry {
        let what = "input \(shapeString(shape)) (NHWC), weight \(shapeString(weight.shape)), stride \(stride), padding \(padding), groups \(groups)"
        guard shape.count == 4 else { throw EngineError.shapeMismatch(op: "Conv2d", detail: "expected a rank-4 input; \(what)") }
        guard inChannels % groups == 0, outChannels % groups == 0 else {
            throw EngineError.invalidArgument(op: "Conv2d", detail: "channels \(inChannels) → \(outChannels) not divisible by groups; \(what)")
        }
        guard shape[3] == inChannels else {
            throw EngineError.shapeMismatch(op: "Conv2d", detail: "expected \(inChannels) input channels, got \(shape[3]); \(what)")
        }
        guard shape[1] + 2 * padding >= kernel, shape[2] + 2 * padding >= kernel else {
            throw EngineError.shapeMismatch(op: "Conv2d", detail: "padded input smaller than kernel \(kernel); \(what)")
        }
        return Conv2dGeometry(batch: shape[0], height: shape[1], width: shape[2], inChannels: inChannels,
                              outChannels: outChannels, kernel: kernel, stride: stride, padding: padding, groups: groups)
    }

    /// - Parameter x: (N, H, W, inChannels).
    /// - Returns: (N, Ho, Wo, outChannels).
    /// The kernel runs once per batch shard (`BatchSharding`), so an image's bytes do not depend
    /// on how many images one call holds (GEMM splits and chunking depend on the batch).
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try forward(x, mode: mode, then: nil)
    }

    /// The conv with an inference-mode BatchNorm (+ residual, ReLU) applied to its output as it
    /// is made (`BatchNorm2d.epilogue(adding:relu:)`): the bytes of running the BN layer (and
    /// `addForward`, ReLU) on the output, without the extra passes over it.
    /// - Throws: as `forward(_:mode:)`; `.shapeMismatch` (op "add") when the residual's shape is not
    ///   the output's; `.invalidArgument` for an epilogue in train mode or of another channel count.
    public func forward(_ x: Tensor, mode: Mode, then epilogue: ConvEpilogue?) throws -> Tensor {
        let g = try geometry(for: x.shape)
        if let epilogue {
            guard mode == .eval, epilogue.channels == outChannels else {
                throw EngineError.invalidArgument(op: "Conv2d", detail: "an epilogue needs eval mode and \(outChannels) channels, got \(mode) and \(epilogue.channels)")
            }
            if let r = epilogue.residual, r.shape != g.outputShape {
                throw EngineError.shapeMismatch(op: "add", detail: "a \(shapeString(g.outputShape)) vs b \(shapeString(r.shape))")
            }
            epilogue.countMACs(elements: g.outputShape.reduce(1, *))
        }
        let y = Tensor(uninitialized: g.outputShape)
        let (inPer, outPer) = (g.height * g.width * g.inChannels, g.outHeight * g.outWidth * g.outChannels)
        let tuning = context.conv.resolved(for: mode == .train ? .trainingForward : .inferenceForward, g)
        let u = g.batch == 0 ? nil : WinogradWeights(weight.value, g, tuning, pass: .forward)
        defer { u?.release() }
        context.sharding.forEachShard(batch: g.batch, .concurrent) { r in
            func run(_ ep: UnsafePointer<rkan_epilogue>?) {
                conv2dForward(y.data + r.lowerBound * outPer, x.data + r.lowerBound * inPer, weight.value, bias?.value,
                              g.with(batch: r.count), tuning: tuning, transformed: u, epilogue: ep)
            }
            guard let e = epilogue else { return run(nil) }
            // The shard's view: the residual starts at the shard's first image, like the output.
            var ep = rkan_epilogue(mean: e.mean, scale: e.scale, shift: e.shift,
                                   residual: e.residual.map { UnsafePointer($0.data + r.lowerBound * outPer) }, relu: e.relu ? 1 : 0)
            withUnsafePointer(to: &ep) { run($0) }
        }
        context.macs.add(g.macs)
        cache = mode == .train ? (x, g) : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let (x, g) = cache else { preconditionFailure("Conv2d.backward without a .train forward") }
        precondition(dy.shape == g.outputShape, "Conv2d.backward: dy \(shapeString(dy.shape)), expected \(shapeString(g.outputShape))")
        cache = nil
        let dx = Tensor(uninitialized: x.shape)
        // dW and db per shard into zeroed rows, folded over all shards (and ranks) in tree order.
        let (wCount, bCount) = (weight.count, bias?.count ?? 0)
        let (inPer, outPer) = (g.height * g.width * g.inChannels, g.outHeight * g.outWidth * g.outChannels)
        let tuning = context.conv.resolved(for: .backward, g)
        let u = g.batch == 0 ? nil : WinogradWeights(weight.value, g, tuning, pass: .inputGradient)
        defer { u?.release() }
        let total: ShardTotal<Float> = context.sharding.perShard(batch: g.batch, count: wCount + bCount, .concurrent,
                                                                 zeroed: false) { _, r, row in
            if r.isEmpty { return }
            conv2dBackward(dx.data + r.lowerBound * inPer, row, bias == nil ? nil : row + wCount, dy.data + r.lowerBound * outPer,
                           x.data + r.lowerBound * inPer, weight.value, g.with(batch: r.count), tuning: tuning,
                           transformed: u, accumulate: false)
        }
        defer { total.release() }
        addInPlace(weight.grad, total.values, wCount)
        if let b = bias { addInPlace(b.grad, total.values + wCount, bCount) }
        return dx
    }
}

