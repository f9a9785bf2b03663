import CKernels
import Foundation

/// Winograd convolution F(m×m, 3×3), m = 2 or 4, on NHWC tensors.
///
/// A conv over m×m output tiles: each tile's α×α input window `d` (α = m + 2) becomes
/// `V = Bᵀ d B`, the weights `g` become `U = G g Gᵀ`, and for each of the α² positions ξ of the
/// transform domain the products over channels are one GEMM,
/// `M_ξ (tiles, O) = V_ξ (tiles, C) · U_ξ (C, O)`; the output tile is `Y = Aᵀ M A`. The input
/// gradient is the same algorithm on dY (padded by 2 − p) with the kernel flipped; the weight
/// gradient is `dU_ξ = dM_ξᵀ V_ξ` with `dM = A dY Aᵀ`, then `dg = Gᵀ dU G`. The tile and
/// weight transforms are C (CKernels, one build per vector width: `KernelBuild`).
///
/// Work is cut into chunks of whole images (`imagesPerChunk`, from the shape only) exactly like
/// the im2col path: ≥ 4 chunks run as parallel tasks, fewer run one after the other with the
/// transforms and the α² GEMMs parallel inside; the weight gradient sums chunk c into lane
/// c mod 4 and the lanes in order. With the own GEMM (`WinogradGEMM.own`, the default on AVX2 + FMA CPUs) the
/// forward and input gradient run over blocks of tiles instead (`convolveBlocked`). Results are
/// the same bytes for any thread count.
public enum Winograd {
    /// Outputs of at least this many pixels (16×16) take F(4×4) under `winograd-mixed` (outside the
    /// training-mode forward); smaller ones F(2×2) (see `ConvAlgorithm.winogradMixed`).
    public static let f4MinOutputPixels = 256

    /// 3×3, stride 1, ungrouped, padding ≤ 2, both channel counts multiples of 8 and ≥ 16
    /// (narrower convs, like a 3-channel stem, are faster as im2col with K = 27).
    public static func isEligible(_ g: Conv2dGeometry) -> Bool {
        g.kernel == 3 && g.stride == 1 && g.groups == 1 && g.padding <= 2
            && g.inChannels >= 16 && g.outChannels >= 16 && g.inChannels % 8 == 0 && g.outChannels % 8 == 0
            && g.outHeight >= 1 && g.outWidth >= 1
    }

    /// The output tile size m when `conv2dForward`/`conv2dBackward` take a Winograd path for `g`.
    static func tile(for g: Conv2dGeometry, _ algorithm: ConvAlgorithm) -> Int? {
        guard let m = algorithm.tile, isEligible(g) else { return nil }
        return m
    }

    /// Tiling of one Winograd convolution: input (N, H, W, inC) padded by `pad`, output
    /// (N, H + 2·pad − 2, W + 2·pad − 2, outC), output tiles m×m.
    struct Shape {
        let batch, height, width, inC, outC, pad, m: Int
        /// Floats of a chunk's V and M buffers (`ConvTuning.chunkFloats`).
        let chunkFloats: Int
        var alpha: Int { m + 2 }
        /// α²: GEMMs (and planes of the transform domain) per chunk.
        var planes: Int { alpha * alpha }
        var outH: Int { height + 2 * pad - 2 }
        var outW: Int { width + 2 * pad - 2 }
        var tilesH: Int { (outH + m - 1) / m }
        var tilesW: Int { (outW + m - 1) / m }
        var tilesPerImage: Int { tilesH * tilesW }
        /// Images per chunk: the V and M buffers of a chunk hold about `chunkFloats`.
        var imagesPerChunk: Int {
            max(1, min(batch, chunkFloats / (planes * tilesPerImage * max(inC, outC))))
        }
        var chunks: Int { (batch + imagesPerChunk - 1) / imagesPerChunk }
    }

    /// Tiles per parallel task of a transform.
    static let tileChunk = 32

    /// The float stride between consecutive planes ξ of a buffer in the transform domain whose
    /// planes hold `floats` floats: the least stride ≥ `floats` that is one 64-byte line past a
    /// multiple of 4 KiB.
    ///
    /// Every transform reads or writes all α² planes of a tile together. Planes a multiple of
    /// 4 KiB apart (the usual case: tiles × channels is often a power of two) put those α²
    /// addresses in one set of the 8-way L1 (and, 64 KiB apart, of the L2), so the lines of 16 or
    /// 36 planes evict each other before the next channel block uses them. One line of offset per
    /// plane spreads them over α² sets. A layout choice only: the arithmetic, and so the bytes,
    /// are the same for any stride.
    static func planeStride(_ floats: Int) -> Int {
        floats + ((16 - floats % 1024) + 1024) % 1024
    }

    // MARK: Entry points

    /// `out = conv(inp, weight) + bias` with tiles m×m (see `conv2dForward`).
    /// `transformed`, when given, is U of `weight` for the forward (`WinogradWeights`).
    static func forward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                        _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ g: Conv2dGeometry, m: Int,
                        chunkFloats: Int, transformed: WinogradWeights? = nil,
                        epilogue: UnsafePointer<rkan_epilogue>? = nil, gemm: WinogradGEMM,
                        block: Int = blockTiles) {
        if g.batch == 0 { return }
        let (O, C) = (g.outChannels, g.inChannels)
        let s = Shape(batch: g.batch, height: g.height, width: g.width, inC: C, outC: O, pad: g.padding, m: m,
                      chunkFloats: chunkFloats)
        withWeights(weight, transformed, m: m, .forward, outChannels: O, inChannels: C, gemm: gemm) { u, packed in
            convolve(out, inp, u, packed: packed, transposedWeights: true, s, bias: bias, epilogue: epilogue, block: block)
        }
    }

    /// Runs `body` with U of `weight` for `pass` and, for `gemm` `.own`, U packed: `transformed`'s
    /// when given, else made here.
    static func withWeights(_ weight: UnsafePointer<Float>, _ transformed: WinogradWeights?, m: Int,
                            _ pass: WinogradWeights.Pass, outChannels O: Int, inChannels C: Int, gemm: WinogradGEMM,
                            _ body: (UnsafePointer<Float>, UnsafePointer<Float>?) -> Void) {
        if let transformed {
            transformed.check(m: m, pass: pass, floats: (m + 2) * (m + 2) * planeStride(O * C), gemm: gemm)
            return body(transformed.values, transformed.packed)
        }
        let made = WinogradWeights(weight, outChannels: O, inChannels: C, m: m, pass: pass, gemm: gemm)
        defer { made.release() }
        body(made.values, made.packed)
    }

    /// Packs each of `planes` planes of U, (O × C) row-major and `planeStride(O · C)` apart, for
    /// `rkan_wino_gemm`: as Bᵀ (n = O, k = C) for the forward (`transposedWeights`), as B (k = O,
    /// n = C) for the input gradient.
    static func packPlanes(_ packed: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, planes: Int,
                           outChannels O: Int, inChannels C: Int, transposedWeights: Bool) {
        let plane = planeStride(O * C)
        // Forward: n = O output channels, k = C; input gradient: n = C, k = O.
        let (n, k) = transposedWeights ? (O, C) : (C, O)
        Parallel.forEachChunk(count: planes, chunk: 1) { xs in
            for xi in xs {
                rkan_wino_gemm_pack(packed + xi * plane, u + xi * plane, C, n, k,
                                    transposedWeights ? 1 : 0)
            }
        }
    }

    /// Input and weight gradients with tiles m×m (see `conv2dBackward`; the bias gradient is the
    /// caller's).
    /// `transformed`, when given, is U of `weight` for the input gradient (`WinogradWeights`).
    static func backward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                         _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
                         _ weight: UnsafePointer<Float>, _ g: Conv2dGeometry, m: Int, chunkFloats: Int,
                         transformed: WinogradWeights? = nil, accumulate: Bool = true, gemm: WinogradGEMM,
                         block: Int = blockTiles) {
        if g.batch == 0 { return }   // no tiles: dW gets nothing (dU would stay unwritten)
        let (O, C) = (g.outChannels, g.inChannels)
        if let dinp {
            // dX = conv(dY padded by 2 − p, flipped kernel): (N, Ho, Wo, O) → (N, H, W, C).
            let s = Shape(batch: g.batch, height: g.outHeight, width: g.outWidth, inC: O, outC: C, pad: 2 - g.padding, m: m,
                          chunkFloats: chunkFloats)
            withWeights(weight, transformed, m: m, .inputGradient, outChannels: O, inChannels: C, gemm: gemm) { u, packed in
                convolve(dinp, dout, u, packed: packed, transposedWeights: false, s, bias: nil, block: block)
            }
        }
        if let dweight {
            let s = Shape(batch: g.batch, height: g.height, width: g.width, inC: C, outC: O, pad: g.padding, m: m,
                          chunkFloats: chunkFloats)
            weightGradient(dweight, inp, dout, s, accumulate: accumulate)
        }
    }

    // MARK: Convolution core

    /// `out = conv(inp, w) (+ bias)` with transformed weights `u` (α², Co, Ci) of the forward
    /// conv's (O, C): `transposedWeights` computes that conv (s.inC = C, s.outC = O, B = U_ξᵀ);
    /// otherwise its input gradient (s.inC = O, s.outC = C, B = U_ξ of the flipped kernel).
    /// `epilogue` (forward only): BatchNorm, residual and ReLU applied as the output tiles are written.
    /// `packed` (U's planes packed by `packPlanes`, for `WinogradGEMM.own`): the products run in
    /// `rkan_wino_gemm` on it, over blocks of `block` tiles (`convolveBlocked`); nil: in OpenBLAS.
    static func convolve(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                         _ u: UnsafePointer<Float>, packed: UnsafePointer<Float>?, transposedWeights: Bool, _ s: Shape,
                         bias: UnsafePointer<Float>?, epilogue: UnsafePointer<rkan_epilogue>? = nil,
                         block: Int = blockTiles) {
        let zeros = BufferPool.shared.take(s.inC)
        zeros.update(repeating: 0, count: s.inC)
        defer { BufferPool.shared.give(zeros, s.inC) }
        if let packed, convolveBlocked(out, inp, packed, s, block: block, zeros: zeros, bias: bias, epilogue: epilogue) {
            return
        }
        let per = s.imagesPerChunk, tpi = s.tilesPerImage, planes = s.planes
        let vPlane = planeStride(per * tpi * s.inC), mPlane = planeStride(per * tpi * s.outC)
        let uPlane = planeStride(s.inC * s.outC)
        let vCount = planes * vPlane, mCount = planes * mPlane

        /// One chunk of images: transform, α² GEMMs, inverse transform.
        func chunk(_ images: Range<Int>, _ v: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>) {
            let t = images.count * tpi
            Parallel.forEachChunk(count: t, chunk: tileChunk) { r in
                transformInput(v, plane: vPlane, inp, s, firstImage: images.lowerBound, r, zeros: zeros)
            }
            Parallel.forEachChunk(count: planes, chunk: 1) { xs in
                for xi in xs {
                    let a = v + xi * vPlane, c = m + xi * mPlane, b = u + xi * uPlane
                    if let packed {
                        rkan_wino_gemm(c, s.outC, a, s.inC, packed + xi * uPlane, t, s.outC, s.inC)
                    } else if transposedWeights {
                        BLAS.sgemmSerial(.none, .transposed, m: t, n: s.outC, k: s.inC, a: a, lda: s.inC,
                                         b: b, ldb: s.inC, beta: 0, c: c, ldc: s.outC)
                    } else {
                        BLAS.sgemmSerial(.none, .none, m: t, n: s.outC, k: s.inC, a: a, lda: s.inC,
                                         b: b, ldb: s.outC, beta: 0, c: c, ldc: s.outC)
                    }
                }
            }
            Parallel.forEachChunk(count: t, chunk: tileChunk) { r in
                transformOutput(out, m, plane: mPlane, s, firstImage: images.lowerBound, r, bias: bias, epilogue: epilogue)
            }
        }

        if s.chunks >= ConvTuning.minParallelChunks {
            Parallel.forEachChunk(count: s.batch, chunk: per) { images in
                let v = BufferPool.shared.take(vCount), m = BufferPool.shared.take(mCount)
                defer { BufferPool.shared.give(v, vCount); BufferPool.shared.give(m, mCount) }
                chunk(images, v, m)
            }
        } else {
            let v = BufferPool.shared.take(vCount), m = BufferPool.shared.take(mCount)
            defer { BufferPool.shared.give(v, vCount); BufferPool.shared.give(m, mCount) }
            var n0 = 0
            while n0 < s.batch {
                let n1 = min(s.batch, n0 + per)
                chunk(n0..<n1, v, m)
                n0 = n1
            }
        }
    }

    /// Tiles per block of `convolveBlocked`: a multiple of the own GEMM's 6-row register block.
    /// 24–48 ran fastest of 24–192 (ResNet-18 inference on the 2-core Zen 3, `rkan-repro bench`
    /// alternated): the block's V and M stay in L2 while its products run.
    static let blockTiles = 48

    /// `convolve` with the own GEMM (`packed`): blocks of `block` tiles of the whole batch, each
    /// transformed, multiplied and transformed back by one task while its V and M are in cache.
    /// Each output element is one FMA chain over the input channels, so the blocking never changes
    /// a byte. False (nothing done) when the batch has fewer than 4 blocks: then the chunked path
    /// keeps both threads busier. `zeros`: `s.inC` zero floats, read for taps outside the image.
    static func convolveBlocked(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                                _ packed: UnsafePointer<Float>, _ s: Shape, block: Int, zeros: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>?, epilogue: UnsafePointer<rkan_epilogue>?) -> Bool {
        let tiles = s.batch * s.tilesPerImage, planes = s.planes
        if tiles < 4 * block { return false }
        let vPlane = planeStride(block * s.inC), mPlane = planeStride(block * s.outC)
        let uPlane = planeStride(s.inC * s.outC)
        let vCount = planes * vPlane, mCount = planes * mPlane
        Parallel.forEachChunk(count: tiles, chunk: block) { r in
            let v = BufferPool.shared.take(vCount), m = BufferPool.shared.take(mCount)
            defer { BufferPool.shared.give(v, vCount); BufferPool.shared.give(m, mCount) }
            // The kernels index tile t of the batch at t · channels within a plane: shift the
            // buffers' origin so that the block's first tile lands at their start.
            let vt = v - r.lowerBound * s.inC, mt = m - r.lowerBound * s.outC
            transformInput(vt, plane: vPlane, inp, s, firstImage: 0, r, zeros: zeros)
            for xi in 0..<planes {
                rkan_wino_gemm(m + xi * mPlane, s.outC, v + xi * vPlane, s.inC, packed + xi * uPlane, r.count, s.outC, s.inC)
            }
            transformOutput(out, mt, plane: mPlane, s, firstImage: 0, r, bias: bias, epilogue: epilogue)
        }
        return true
    }

    /// dW (O, 3, 3, C) += Gᵀ (Σ_chunks dM_ξᵀ V_ξ) G for input `inp` (s.inC = C) and upstream
    /// gradient `dout` (s.outC = O); `accumulate` false writes dW = … instead.
    static func weightGradient(_ dweight: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                               _ dout: UnsafePointer<Float>, _ s: Shape, accumulate: Bool) {
        let per = s.imagesPerChunk, tpi = s.tilesPerImage, chunks = s.chunks, planes = s.planes
        let vPlane = planeStride(per * tpi * s.inC), mPlane = planeStride(per * tpi * s.outC)
        let vCount = planes * vPlane, mCount = planes * mPlane
        let planeFloats = s.outC * s.inC, planeCount = planeStride(planeFloats), uCount = planes * planeCount
        let zeros = BufferPool.shared.take(s.inC)
        zeros.update(repeating: 0, count: s.inC)
        defer { BufferPool.shared.give(zeros, s.inC) }
        let lanes = chunks >= ConvTuning.minParallelChunks ? ConvTuning.minParallelChunks : 1
        let du = BufferPool.shared.take(lanes * uCount)   // (lanes, α², O, C)
        defer { BufferPool.shared.give(du, lanes * uCount) }

        /// dU (α², O, C) = beta·dU + Σ over the chunk's tiles.
        func chunk(_ images: Range<Int>, _ v: UnsafeMutablePointer<Float>, _ dm: UnsafeMutablePointer<Float>,
                   _ dU: UnsafeMutablePointer<Float>, beta: Float) {
            let t = images.count * tpi
            Parallel.forEachChunk(count: t, chunk: tileChunk) { r in
                transformInput(v, plane: vPlane, inp, s, firstImage: images.lowerBound, r, zeros: zeros)
                transformOutputGradient(dm, plane: mPlane, dout, s, firstImage: images.lowerBound, r)
            }
            Parallel.forEachChunk(count: planes, chunk: 1) { xs in
                for xi in xs {
                    BLAS.sgemmSerial(.transposed, .none, m: s.outC, n: s.inC, k: t, a: dm + xi * mPlane, lda: s.outC,
                                     b: v + xi * vPlane, ldb: s.inC, beta: beta, c: dU + xi * planeCount, ldc: s.inC)
                }
            }
        }

        if lanes > 1 {
            Parallel.forEachChunk(count: lanes, chunk: 1) { laneRange in
                let v = BufferPool.shared.take(vCount), dm = BufferPool.shared.take(mCount)
                defer { BufferPool.shared.give(v, vCount); BufferPool.shared.give(dm, mCount) }
                for lane in laneRange {
                    var c = lane
                    while c < chunks {
                        chunk(c * per..<min(s.batch, (c + 1) * per), v, dm, du + lane * uCount, beta: c == lane ? 0 : 1)
                        c += lanes
                    }
                }
            }
            // Plane by plane: the padding between planes is never written.
            Parallel.forEachChunk(count: planes, chunk: 1) { xs in
                for xi in xs {
                    let q = du + xi * planeCount
                    for lane in 1..<lanes {
                        let p = q + lane * uCount
                        for k in 0..<planeFloats { q[k] += p[k] }
                    }
                }
            }
        } else {
            let v = BufferPool.shared.take(vCount), dm = BufferPool.shared.take(mCount)
            defer { BufferPool.shared.give(v, vCount); BufferPool.shared.give(dm, mCount) }
            for c in 0..<chunks {
                chunk(c * per..<min(s.batch, (c + 1) * per), v, dm, du, beta: c == 0 ? 0 : 1)
            }
        }
        transformWeightGradient(dweight, du, outChannels: s.outC, inChannels: s.inC, plane: planeCount, m: s.m,
                                accumulate: accumulate)
    }

    // MARK: Tile transforms (CKernels)

    /// The C kernels' view of a chunk: the transformed tensor is (N, height, width, channels), the
    /// planes of the transform domain `plane` floats apart.
    static func geometry(_ s: Shape, height: Int, width: Int, channels: Int, firstImage: Int, plane: Int) -> rkan_wino_geometry {
        rkan_wino_geometry(height: height, width: width, channels: channels, pad: s.pad, tiles_w: s.tilesW,
                           tiles_per_image: s.tilesPerImage, first_image: firstImage, plane: plane)
    }

    /// V[ξ][t][C] = (Bᵀ d B)_ξ for tiles `range` of the chunk (planes ξ `plane` floats apart;
    /// out-of-image taps read `zeros`). `rkan_wino_input`/`rkan_wino4_input` in CKernels.
    static func transformInput(_ v: UnsafeMutablePointer<Float>, plane: Int, _ inp: UnsafePointer<Float>,
                               _ s: Shape, firstImage: Int, _ range: Range<Int>, zeros: UnsafePointer<Float>) {
        var g = geometry(s, height: s.height, width: s.width, channels: s.inC, firstImage: firstImage, plane: plane)
        if s.m == 4 {
            rkan_wino4_input(v, inp, zeros, &g, range.lowerBound, range.upperBound)
        } else {
            rkan_wino_input(v, inp, zeros, &g, range.lowerBound, range.upperBound)
        }
    }

    /// out tile = Aᵀ M A (+ bias), then the epilogue, for tiles `range`; outputs past the image edge are dropped.
    static func transformOutput(_ out: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, plane: Int,
                                _ s: Shape, firstImage: Int, _ range: Range<Int>, bias: UnsafePointer<Float>?,
                                epilogue: UnsafePointer<rkan_epilogue>? = nil) {
        var g = geometry(s, height: s.outH, width: s.outW, channels: s.outC, firstImage: firstImage, plane: plane)
        if s.m == 4 {
            rkan_wino4_output(out, m, bias, epilogue, &g, range.lowerBound, range.upperBound)
        } else {
            rkan_wino_output(out, m, bias, epilogue, &g, range.lowerBound, range.upperBound)
        }
    }

    /// dM[ξ][t][O] = (A dY Aᵀ)_ξ for tiles `range` (dY positions past the edge are zeros).
    static func transformOutputGradient(_ dm: UnsafeMutablePointer<Float>, plane: Int, _ dout: UnsafePointer<Float>,
                                        _ s: Shape, firstImage: Int, _ range: Range<Int>) {
        var g = geometry(s, height: s.outH, width: s.outW, channels: s.outC, firstImage: firstImage, plane: plane)
        if s.m == 4 {
            rkan_wino4_output_grad(dm, dout, &g, range.lowerBound, range.upperBound)
        } else {
            rkan_wino_output_grad(dm, dout, &g, range.lowerBound, range.upperBound)
        }
    }

    // MARK: Weight transforms (CKernels `rkan_wino_weights`, `rkan_wino_weight_grad`)
    //
    // G (α × 3) for F(2×2): rows (1, 0, 0), ½(1, 1, 1), ½(1, −1, 1), (0, 0, 1); for F(4×4) with
    // points 0, 1, −1, ½, −2, ∞: (1, 0, 0), ⅓(1, 1, 1), ⅓(−1, 1, −1), −1/15(16, 8, 4),
    // 1/15(1, −2, 4), (0, 0, 1). Both transforms apply G to 8 channels at a time in a fixed order.

    /// U[ξ][o][c] = (G g Gᵀ)_ξ for the OHWI weight (O, 3, 3, C), or for its kernel flipped in
    /// both spatial axes (the input gradient's conv); planes ξ `planeStride(O · C)` apart.
    static func transformWeights(_ u: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>,
                                 outChannels O: Int, inChannels C: Int, m: Int, flipped: Bool) {
        // `rkan_wino_weights` (CKernels, AVX2 where the CPU has it): the arithmetic of `gx`.
        let plane = planeStride(O * C)
        Parallel.forEachChunk(count: O, chunk: max(1, 4096 / C)) { os in
            rkan_wino_weights(u, w, O, C, plane, Int32(m), flipped ? 1 : 0, os.lowerBound, os.upperBound)
        }
    }

    /// dW (O, 3, 3, C) += (Gᵀ dU G) from dU[ξ][o][c] (planes `plane` floats apart); `accumulate` false stores Gᵀ dU G instead
    /// (the bytes of adding it to zeros: no transform yields −0 from inputs without −0, and GEMM
    /// sums never are −0).
    static func transformWeightGradient(_ dw: UnsafeMutablePointer<Float>, _ du: UnsafePointer<Float>,
                                        outChannels O: Int, inChannels C: Int, plane: Int, m: Int, accumulate: Bool) {
        // `rkan_wino_weight_grad` (CKernels, AVX2 where the CPU has it): the arithmetic of `gtx`.
        Parallel.forEachChunk(count: O, chunk: max(1, 4096 / C)) { os in
            rkan_wino_weight_grad(dw, du, O, C, plane, Int32(m), accumulate ? 1 : 0, os.lowerBound, os.upperBound)
        }
    }
}
