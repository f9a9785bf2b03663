import CKernels
import Foundation

/// Which algorithm `conv2dForward`/`conv2dBackward` use for eligible 3×3 convolutions.
///
/// `.winograd` (default) runs F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional
/// Neural Networks", 2016) for every conv that `Winograd.isEligible` accepts, in all three passes
/// (forward, input gradient, weight gradient): 16 multiplies per 2×2 output tile and channel pair
/// instead of 36, i.e. 2.25× fewer GEMM flops. `.im2col` forces the im2col + GEMM path everywhere
/// (set `RKAN_CONV_ALGO=im2col`). Both are deterministic; they round differently, so a run's bytes
/// depend on the choice (run files record it as `engine.conv_algorithm`).
public enum ConvAlgorithm: String, Sendable {
    case winograd, im2col

    /// The process-wide choice; `RKAN_CONV_ALGO` (winograd | im2col) sets the default.
    nonisolated(unsafe) public static var current: ConvAlgorithm =
        ConvAlgorithm(rawValue: ProcessInfo.processInfo.environment["RKAN_CONV_ALGO"] ?? "") ?? .winograd
}

/// F(2×2, 3×3) Winograd convolution on NHWC tensors.
///
/// A conv over 2×2 output tiles: each tile's 4×4 input window `d` becomes `V = Bᵀ d B`, the
/// weights `g` become `U = G g Gᵀ`, and for each of the 16 positions ξ of the 4×4 transform
/// domain the products over channels are one GEMM, `M_ξ (tiles, O) = V_ξ (tiles, C) · U_ξ (C, O)`;
/// the output tile is `Y = Aᵀ M A`. The input gradient is the same algorithm on dY with the
/// weights flipped (a permutation of the ξ planes, no second transform); the weight gradient is
/// `dU_ξ = dM_ξᵀ V_ξ` with `dM = A dY Aᵀ`, then `dg = Gᵀ dU G`.
///
/// Work is cut into chunks of whole images (`imagesPerChunk`, from the shape only) exactly like
/// the im2col path: ≥ 4 chunks run as parallel tasks, fewer run one after the other with the
/// transforms and the 16 GEMMs parallel inside; the weight gradient sums chunk c into lane
/// c mod 4 and the lanes in order. Results are the same bytes for any thread count.
public enum Winograd {
    /// 3×3, stride 1, ungrouped, padding ≤ 2, both channel counts multiples of 8 and ≥ 16
    /// (narrower convs, like a 3-channel stem, are faster as im2col with K = 27).
    public static func isEligible(_ g: Conv2dGeometry) -> Bool {
        g.kernel == 3 && g.stride == 1 && g.groups == 1 && g.padding <= 2
            && g.inChannels >= 16 && g.outChannels >= 16 && g.inChannels % 8 == 0 && g.outChannels % 8 == 0
            && g.outHeight >= 1 && g.outWidth >= 1
    }

    /// Whether the tile transforms (CKernels) run their AVX2 build; setting false forces the SSE2
    /// build (for tests: both give the same bytes).
    public static var avx2Transforms: Bool {
        get { rkan_kernels_avx2() != 0 }
        set { rkan_kernels_allow_avx2(newValue ? 1 : 0) }
    }

    /// Whether `conv2dForward`/`conv2dBackward` take the Winograd path for `g`.
    static func applies(_ g: Conv2dGeometry) -> Bool { ConvAlgorithm.current == .winograd && isEligible(g) }

    /// Tiling of one Winograd convolution: input (N, H, W, inC) padded by `pad`, output
    /// (N, H + 2·pad − 2, W + 2·pad − 2, outC).
    struct Shape {
        let batch, height, width, inC, outC, pad: Int
        var outH: Int { height + 2 * pad - 2 }
        var outW: Int { width + 2 * pad - 2 }
        var tilesH: Int { (outH + 1) / 2 }
        var tilesW: Int { (outW + 1) / 2 }
        var tilesPerImage: Int { tilesH * tilesW }
        /// Images per chunk: the V and M buffers of a chunk hold about `Conv2dTuning.chunkFloats`.
        var imagesPerChunk: Int {
            max(1, min(batch, Conv2dTuning.chunkFloats / (16 * tilesPerImage * max(inC, outC))))
        }
        var chunks: Int { (batch + imagesPerChunk - 1) / imagesPerChunk }
    }

    /// Tiles per parallel task of a transform.
    static let tileChunk = 32

    // MARK: Entry points

    /// `out = conv(inp, weight) + bias` for an eligible geometry (see `conv2dForward`).
    static func forward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                        _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ g: Conv2dGeometry) {
        let (O, C) = (g.outChannels, g.inChannels)
        let u = BufferPool.shared.take(16 * O * C)
        defer { BufferPool.shared.give(u, 16 * O * C) }
        transformWeights(u, weight, outChannels: O, inChannels: C)
        let s = Shape(batch: g.batch, height: g.height, width: g.width, inC: C, outC: O, pad: g.padding)
        convolve(out, inp, u, flipped: false, s, bias: bias)
    }

    /// Input and weight gradients for an eligible geometry (see `conv2dBackward`; the bias
    /// gradient is the caller's).
    static func backward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                         _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
                         _ weight: UnsafePointer<Float>, _ g: Conv2dGeometry) {
        let (O, C) = (g.outChannels, g.inChannels)
        if let dinp {
            let u = BufferPool.shared.take(16 * O * C)
            defer { BufferPool.shared.give(u, 16 * O * C) }
            transformWeights(u, weight, outChannels: O, inChannels: C)
            // dX = conv(dY padded by 2 − p, flipped weights): (N, Ho, Wo, O) → (N, H, W, C).
            let s = Shape(batch: g.batch, height: g.outHeight, width: g.outWidth, inC: O, outC: C, pad: 2 - g.padding)
            convolve(dinp, dout, u, flipped: true, s, bias: nil)
        }
        if let dweight {
            let s = Shape(batch: g.batch, height: g.height, width: g.width, inC: C, outC: O, pad: g.padding)
            weightGradient(dweight, inp, dout, s)
        }
    }

    // MARK: Convolution core

    /// `out = conv(inp, w) (+ bias)` with transformed weights `u` (16, Co, Ci) of the forward
    /// conv: `flipped == false` computes that conv (s.inC = Ci, s.outC = Co); `flipped == true`
    /// computes its input gradient (s.inC = Co, s.outC = Ci), reading plane π(ξ) untransposed.
    static func convolve(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                         _ u: UnsafePointer<Float>, flipped: Bool, _ s: Shape, bias: UnsafePointer<Float>?) {
        let per = s.imagesPerChunk, tpi = s.tilesPerImage
        let vCount = 16 * per * tpi * s.inC, mCount = 16 * per * tpi * s.outC
        let zeros = BufferPool.shared.take(s.inC)
        zeros.update(repeating: 0, count: s.inC)
        defer { BufferPool.shared.give(zeros, s.inC) }

        /// One chunk of images; `inner` says whether its loops may run in parallel.
        func chunk(_ images: Range<Int>, _ v: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>) {
            let t = images.count * tpi
            Parallel.forEachChunk(count: t, chunk: tileChunk) { r in
                transformInput(v, tiles: t, inp, s, firstImage: images.lowerBound, r, zeros: zeros)
            }
            Parallel.forEachChunk(count: 16, chunk: 1) { xs in
                for xi in xs {
                    let a = v + xi * t * s.inC, c = m + xi * t * s.outC
                    if flipped {
                        BLAS.sgemmSerial(.none, .none, m: t, n: s.outC, k: s.inC, a: a, lda: s.inC,
                                         b: u + permuted(xi) * s.inC * s.outC, ldb: s.outC, beta: 0, c: c, ldc: s.outC)
                    } else {
                        BLAS.sgemmSerial(.none, .transposed, m: t, n: s.outC, k: s.inC, a: a, lda: s.inC,
                                         b: u + xi * s.inC * s.outC, ldb: s.inC, beta: 0, c: c, ldc: s.outC)
                    }
                }
            }
            Parallel.forEachChunk(count: t, chunk: tileChunk) { r in
                transformOutput(out, m, tiles: t, s, firstImage: images.lowerBound, r, bias: bias)
            }
        }

        if s.chunks >= Conv2dTuning.minParallelChunks {
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

    /// dW (O, 3, 3, C) += Gᵀ (Σ_chunks dM_ξᵀ V_ξ) G for input `inp` (s.inC = C) and upstream
    /// gradient `dout` (s.outC = O).
    static func weightGradient(_ dweight: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                               _ dout: UnsafePointer<Float>, _ s: Shape) {
        let per = s.imagesPerChunk, tpi = s.tilesPerImage, chunks = s.chunks
        let vCount = 16 * per * tpi * s.inC, mCount = 16 * per * tpi * s.outC, uCount = 16 * s.outC * s.inC
        let zeros = BufferPool.shared.take(s.inC)
        zeros.update(repeating: 0, count: s.inC)
        defer { BufferPool.shared.give(zeros, s.inC) }
        let lanes = chunks >= Conv2dTuning.minParallelChunks ? Conv2dTuning.minParallelChunks : 1
        let du = BufferPool.shared.take(lanes * uCount)   // (lanes, 16, O, C)
        defer { BufferPool.shared.give(du, lanes * uCount) }

        /// dU (16, O, C) = beta·dU + Σ over the chunk's tiles.
        func chunk(_ images: Range<Int>, _ v: UnsafeMutablePointer<Float>, _ dm: UnsafeMutablePointer<Float>,
                   _ dU: UnsafeMutablePointer<Float>, beta: Float) {
            let t = images.count * tpi
            Parallel.forEachChunk(count: t, chunk: tileChunk) { r in
                transformInput(v, tiles: t, inp, s, firstImage: images.lowerBound, r, zeros: zeros)
                transformOutputGradient(dm, tiles: t, dout, s, firstImage: images.lowerBound, r)
            }
            Parallel.forEachChunk(count: 16, chunk: 1) { xs in
                for xi in xs {
                    BLAS.sgemmSerial(.transposed, .none, m: s.outC, n: s.inC, k: t, a: dm + xi * t * s.outC, lda: s.outC,
                                     b: v + xi * t * s.inC, ldb: s.inC, beta: beta, c: dU + xi * uCount / 16, ldc: s.inC)
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
            Parallel.forEachChunk(count: uCount, chunk: Parallel.elementChunk(uCount)) { r in
                for lane in 1..<lanes {
                    let p = du + lane * uCount
                    for i in r { du[i] += p[i] }
                }
            }
        } else {
            let v = BufferPool.shared.take(vCount), dm = BufferPool.shared.take(mCount)
            defer { BufferPool.shared.give(v, vCount); BufferPool.shared.give(dm, mCount) }
            for c in 0..<chunks {
                chunk(c * per..<min(s.batch, (c + 1) * per), v, dm, du, beta: c == 0 ? 0 : 1)
            }
        }
        transformWeightGradient(dweight, du, outChannels: s.outC, inChannels: s.inC)
    }

    /// ξ = 4i + j ↦ 4π(i) + π(j) with π = (3, 1, 2, 0): the plane of U that holds ξ of the
    /// flipped kernel (G·reverse(g) is G·g with rows 0 and 3 swapped).
    @inline(__always) static func permuted(_ xi: Int) -> Int {
        func p(_ i: Int) -> Int { i == 0 ? 3 : i == 3 ? 0 : i }
        return 4 * p(xi >> 2) + p(xi & 3)
    }

    // MARK: Transforms (tiles in CKernels; weights here, SIMD8 over channels)

    typealias V8 = SIMD8<Float>
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V8 {
        UnsafeRawPointer(p).loadUnaligned(as: V8.self)
    }
    @inline(__always) static func store(_ p: UnsafeMutablePointer<Float>, _ v: V8) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
    }
    /// G x for a 3-vector x.
    @inline(__always) static func gx(_ a: V8, _ b: V8, _ c: V8) -> (V8, V8, V8, V8) {
        (a, 0.5 * (a + b + c), 0.5 * (a - b + c), c)
    }
    /// Gᵀ x for a 4-vector x.
    @inline(__always) static func gtx(_ a: V8, _ b: V8, _ c: V8, _ d: V8) -> (V8, V8, V8) {
        let (h, k) = (0.5 * (b + c), 0.5 * (b - c))
        return (a + h, k, h + d)
    }


    /// The C kernels' view of a chunk: the transformed tensor is (N, height, width, channels).
    static func geometry(_ s: Shape, height: Int, width: Int, channels: Int, firstImage: Int, tiles: Int) -> rkan_wino_geometry {
        rkan_wino_geometry(height: height, width: width, channels: channels, pad: s.pad, tiles_w: s.tilesW,
                           tiles_per_image: s.tilesPerImage, first_image: firstImage, plane: tiles * channels)
    }

    /// V[ξ][t][C] = (Bᵀ d B)_ξ for tiles `range` of the chunk (`tiles` tiles in all; out-of-image
    /// taps read `zeros`). `rkan_wino_input` in CKernels.
    static func transformInput(_ v: UnsafeMutablePointer<Float>, tiles: Int, _ inp: UnsafePointer<Float>,
                               _ s: Shape, firstImage: Int, _ range: Range<Int>, zeros: UnsafePointer<Float>) {
        var g = geometry(s, height: s.height, width: s.width, channels: s.inC, firstImage: firstImage, tiles: tiles)
        rkan_wino_input(v, inp, zeros, &g, range.lowerBound, range.upperBound)
    }

    /// out tile = Aᵀ M A (+ bias) for tiles `range`; outputs past the image edge are dropped.
    static func transformOutput(_ out: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, tiles: Int,
                                _ s: Shape, firstImage: Int, _ range: Range<Int>, bias: UnsafePointer<Float>?) {
        var g = geometry(s, height: s.outH, width: s.outW, channels: s.outC, firstImage: firstImage, tiles: tiles)
        rkan_wino_output(out, m, bias, &g, range.lowerBound, range.upperBound)
    }

    /// dM[ξ][t][O] = (A dY Aᵀ)_ξ for tiles `range` (dY positions past the edge are zeros).
    static func transformOutputGradient(_ dm: UnsafeMutablePointer<Float>, tiles: Int, _ dout: UnsafePointer<Float>,
                                        _ s: Shape, firstImage: Int, _ range: Range<Int>) {
        var g = geometry(s, height: s.outH, width: s.outW, channels: s.outC, firstImage: firstImage, tiles: tiles)
        rkan_wino_output_grad(dm, dout, &g, range.lowerBound, range.upperBound)
    }

    /// U[ξ][o][c] = (G g Gᵀ)_ξ for the OHWI weight (O, 3, 3, C).
    static func transformWeights(_ u: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>,
                                 outChannels O: Int, inChannels C: Int) {
        let plane = O * C
        Parallel.forEachChunk(count: O, chunk: max(1, 4096 / C)) { os in
            for o in os {
                let g = w + o * 9 * C, dst = u + o * C
                var ch = 0
                while ch < C {
                    let p = g + ch
                    let h0 = gx(load(p), load(p + 3 * C), load(p + 6 * C))           // G · column 0
                    let h1 = gx(load(p + C), load(p + 4 * C), load(p + 7 * C))
                    let h2 = gx(load(p + 2 * C), load(p + 5 * C), load(p + 8 * C))
                    let r0 = gx(h0.0, h1.0, h2.0), r1 = gx(h0.1, h1.1, h2.1)          // rows times Gᵀ
                    let r2 = gx(h0.2, h1.2, h2.2), r3 = gx(h0.3, h1.3, h2.3)
                    let q = dst + ch
                    store(q, r0.0); store(q + plane, r0.1); store(q + 2 * plane, r0.2); store(q + 3 * plane, r0.3)
                    store(q + 4 * plane, r1.0); store(q + 5 * plane, r1.1); store(q + 6 * plane, r1.2); store(q + 7 * plane, r1.3)
                    store(q + 8 * plane, r2.0); store(q + 9 * plane, r2.1); store(q + 10 * plane, r2.2); store(q + 11 * plane, r2.3)
                    store(q + 12 * plane, r3.0); store(q + 13 * plane, r3.1); store(q + 14 * plane, r3.2); store(q + 15 * plane, r3.3)
                    ch += 8
                }
            }
        }
    }

    /// dW (O, 3, 3, C) += (Gᵀ dU G) from dU[ξ][o][c].
    static func transformWeightGradient(_ dw: UnsafeMutablePointer<Float>, _ du: UnsafePointer<Float>,
                                        outChannels O: Int, inChannels C: Int) {
        let plane = O * C
        Parallel.forEachChunk(count: O, chunk: max(1, 4096 / C)) { os in
            for o in os {
                let src = du + o * C, g = dw + o * 9 * C
                var ch = 0
                while ch < C {
                    let p = src + ch
                    @inline(__always) func row(_ i: Int) -> (V8, V8, V8) {
                        gtx(load(p + (4 * i) * plane), load(p + (4 * i + 1) * plane),
                            load(p + (4 * i + 2) * plane), load(p + (4 * i + 3) * plane))
                    }
                    let (f0, f1, f2, f3) = (row(0), row(1), row(2), row(3))   // dU rows times G
                    let k0 = gtx(f0.0, f1.0, f2.0, f3.0), k1 = gtx(f0.1, f1.1, f2.1, f3.1), k2 = gtx(f0.2, f1.2, f2.2, f3.2)
                    let q = g + ch
                    store(q, load(q) + k0.0); store(q + C, load(q + C) + k1.0); store(q + 2 * C, load(q + 2 * C) + k2.0)
                    store(q + 3 * C, load(q + 3 * C) + k0.1); store(q + 4 * C, load(q + 4 * C) + k1.1)
                    store(q + 5 * C, load(q + 5 * C) + k2.1)
                    store(q + 6 * C, load(q + 6 * C) + k0.2); store(q + 7 * C, load(q + 7 * C) + k1.2)
                    store(q + 8 * C, load(q + 8 * C) + k2.2)
                    ch += 8
                }
            }
        }
    }
}
