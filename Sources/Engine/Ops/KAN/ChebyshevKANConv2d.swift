import Foundation

// The RKAN paper's Chebyshev KAN convolution (reference: 66277a6:KAN_Conv/convolution.py kan_conv2d
// with 815a357:KAN_Conv/chebyshevkan.py ChebyshevKANLinear(k·k → 1, normalization "tanh",
// use_linear, skip_activation, enable_scaler; a160c7b:KAN_Conv/KANConv.py passes weight_scaler=True)).
// For output pixel o and channel c, with patch values p_i = x[o + off_i, c] (zero outside the input)
// and W[i,n] = cheb[i,n]·scaler[i] (cheb = `polynomial_weight`):
//     y[o,c] = Σ_i f_i(p_i),   f_i(v) = base[i]·v + Σ_n W[i,n]·T_n(tanh v)
// T_0 = 1, T_1 = t, T_n = 2t·T_{n−1} − T_{n−2}. Padded taps contribute f_i(0) = Σ_n W[i,n]·T_n(0).
//
// Fast path: T_1..T_D of tanh(x) are computed ONCE per input element ("planes"), then each
// output is a weighted sum of shifted planes, channel innermost (SIMD over C), rows in parallel.
// Letters: N batch, H/W input, Ho/Wo output, C channels, K = k·k taps, D degree.

/// Planes of Chebyshev values of tanh(x) (vectorised tanh, once per input element).
/// - Parameters:
///   - planes: (P, D, C) out: T_1..T_D of tanh(inp) per pixel.
///   - inp: (P, C) input pixels.
func chebyshevPlanesForward(_ planes: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                            pixels: Int, c: Int, degree: Int) {
    Parallel.forEachChunk(count: pixels, chunk: max(1, 8_192 / c)) { r in
        for p in r {
            let xr = inp + p * c, tp = planes + p * degree * c
            var cc = 0
            while cc < c {
                let lanes = min(8, c - cc)
                let t = vectorTanh(loadLanes(xr + cc, lanes))
                storeLanes(t, tp + cc, lanes)
                var (tPrev, tCur) = (SIMD8<Float>(repeating: 1), t)
                if degree >= 2 {
                    for n in 2...degree {
                        (tPrev, tCur) = (tCur, 2 * t * tCur - tPrev)
                        storeLanes(tCur, tp + (n - 1) * c + cc, lanes)
                    }
                }
                cc += 8
            }
        }
    }
}

/// Forward: `out[o,c] = Σ_{padded i} f_i(0) + Σ_{inside i} (W[i,0] + base[i]·x + Σ_{n≥1} W[i,n]·T_n)`.
/// - Parameters:
///   - out: (N, Ho, Wo, C).
///   - inp: (N, H, W, C).
///   - planes: (N, H, W, D, C) from `chebyshevPlanesForward`.
///   - base: (K) base_linear weights.
///   - coef: (K, D+1) W = cheb·scaler.
func chebyshevKANConvForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                             _ planes: UnsafePointer<Float>, _ base: UnsafePointer<Float>,
                             _ coef: UnsafePointer<Float>, _ g: KANConvGeometry, degree: Int) {
    let (c, d1, rows) = (g.c, degree + 1, g.n * g.ho)
    // Channel blocks keep the ~9·(D+1) streams of one output pixel in L1 across a row.
    let cBlock = 64
    Parallel.forEachChunk(count: rows, chunk: max(1, rows / 16)) { r in
        let tap = UnsafeMutablePointer<Int>.allocate(capacity: 2 * g.taps * g.wo)   // (Wo, K) tap, (Wo, K) input pixel
        let cnt = UnsafeMutablePointer<Int>.allocate(capacity: g.wo)                // (Wo) valid taps
        let bias0 = UnsafeMutablePointer<Float>.allocate(capacity: g.wo)            // (Wo) T_0 and padding terms
        defer { tap.deallocate(); cnt.deallocate(); bias0.deallocate() }
        let pix = tap + g.taps * g.wo
        for row in r {
            let (b, oh) = (row / g.ho, row % g.ho)
            for ow in 0..<g.wo {
                cnt[ow] = g.inputTaps(b: b, oh: oh, ow: ow, tap + ow * g.taps, pix + ow * g.taps)
                var s: Float = 0
                for i in 0..<g.taps {
                    if g.isPadding(oh: oh, ow: ow, tap: i) {
                        for n in 0..<d1 { s += coef[i * d1 + n] * chebyshevAtZero(n) }
                    } else {
                        s += coef[i * d1]
                    }
                }
                bias0[ow] = s
            }
            for cb in stride(from: 0, to: c, by: cBlock) {
                for ow in 0..<g.wo {
                    let yr = out + (row * g.wo + ow) * c
                    let tq = tap + ow * g.taps, pq = pix + ow * g.taps
                    var cc = cb
                    while cc < min(c, cb + cBlock) {
                        let lanes = min(KANVec.scalarCount, c - cc)
                        var acc = KANVec(repeating: bias0[ow])
                        for q in 0..<cnt[ow] {
                            let i = tq[q], p = pq[q]
                            acc += base[i] * loadLanes(inp + p * c + cc, lanes, as: KANVec.self)
                            let tp = planes + p * degree * c + cc, wi = coef + i * d1
                            for n in 1...degree { acc += wi[n] * loadLanes(tp + (n - 1) * c, lanes, as: KANVec.self) }
                        }
                        storeLanes(acc, yr + cc, lanes)
                        cc += KANVec.scalarCount
                    }
                }
            }
        }
    }
}

/// Backward, in two passes.
/// 1. Per input row: `dx[p] = Σ_uses dy[o]·f_i'(x[p])`, `f_i'(v) = base[i] + Σ_n W[i,n]·n·U_{n−1}(t)·(1 − t²)`
///    (U: Chebyshev polynomials of the second kind, dT_n/dt = n·U_{n−1}), gathered over the
///    outputs o that read p through tap i.
/// 2. Per output row: dots `Σ_c dy[o]·x[p]` (base) and `Σ_c dy[o]·T_n[p]` (W) over the inside taps,
///    `Σ_c dy[o]` for T_0 and the padded taps (value 0: T_n(0)); per-row Double partials are
///    combined in row order. Then `dcheb += dW·scaler`, `dscaler += Σ_n dW·cheb`.
/// - Parameters:
///   - dinp: (N, H, W, C) written.
///   - dbase: (K) added to.
///   - dcheb: (K, D+1) added to.
///   - dscaler: (K) added to.
///   - dout: (N, Ho, Wo, C).
///   - inp, planes, base: as in forward; cheb (K, D+1), scaler (K), coef (K, D+1) = cheb·scaler.
func chebyshevKANConvBackward(_ dinp: UnsafeMutablePointer<Float>, _ dbase: UnsafeMutablePointer<Float>,
                              _ dcheb: UnsafeMutablePointer<Float>, _ dscaler: UnsafeMutablePointer<Float>,
                              _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ planes: UnsafePointer<Float>,
                              _ base: UnsafePointer<Float>, _ cheb: UnsafePointer<Float>, _ scaler: UnsafePointer<Float>,
                              _ coef: UnsafePointer<Float>, _ g: KANConvGeometry, degree: Int) {
    let (c, k2, d1) = (g.c, g.taps, degree + 1)
    let inRows = g.n * g.h, outRows = g.n * g.ho

    // Pass 1: dx, one input row per task.
    Parallel.forEachChunk(count: inRows, chunk: max(1, inRows / 16)) { r in
        let deriv = UnsafeMutablePointer<Float>.allocate(capacity: g.w * degree * c)   // (W, D, C) dT_n/dx
        let tap = UnsafeMutablePointer<Int>.allocate(capacity: 2 * k2 * g.w)   // (W, K) tap, (W, K) output pixel
        let cnt = UnsafeMutablePointer<Int>.allocate(capacity: g.w)            // (W) uses
        defer { deriv.deallocate(); tap.deallocate(); cnt.deallocate() }
        let opix = tap + k2 * g.w
        for row in r {
            let (b, ih) = (row / g.h, row % g.h)
            for iw in 0..<g.w {
                let tp = planes + (row * g.w + iw) * degree * c, dp = deriv + iw * degree * c
                var cc = 0
                while cc < c {
                    let lanes = min(8, c - cc)
                    let t = loadLanes(tp + cc, lanes, as: SIMD8<Float>.self)
                    let sech2 = 1 - t * t
                    var (uPrev, uCur) = (SIMD8<Float>(repeating: 0), SIMD8<Float>(repeating: 1))   // U_{-1}, U_0
                    for n in 1...degree {
                        storeLanes(Float(n) * uCur * sech2, dp + (n - 1) * c + cc, lanes)
                        (uPrev, uCur) = (uCur, 2 * t * uCur - uPrev)
                    }
                    cc += 8
                }
            }
            for iw in 0..<g.w { cnt[iw] = g.outputUses(b: b, ih: ih, iw: iw, tap + iw * k2, opix + iw * k2) }
            for cb in stride(from: 0, to: c, by: 64) { for iw in 0..<g.w {
                let tq = tap + iw * k2, oq = opix + iw * k2
                let dp = deriv + iw * degree * c, dxr = dinp + (row * g.w + iw) * c
                var cc = cb
                while cc < min(c, cb + 64) {
                    let lanes = min(KANVec.scalarCount, c - cc)
                    var acc = KANVec()
                    for q in 0..<cnt[iw] {
                        let i = tq[q], wi = coef + i * d1
                        var f = KANVec(repeating: base[i])
                        for n in 1...degree { f += wi[n] * loadLanes(dp + (n - 1) * c + cc, lanes, as: KANVec.self) }
                        acc += loadLanes(dout + oq[q] * c + cc, lanes, as: KANVec.self) * f
                    }
                    storeLanes(acc, dxr + cc, lanes)
                    cc += KANVec.scalarCount
                }
            } }
        }
    }

    // Pass 2: weight-gradient partials, one output row per task.
    let partStride = k2 * d1 + k2 + 1
    // (outRows, partStride): [i·(D+1) + 0] Σ dy·x, [i·(D+1) + n] Σ dy·T_n over inside taps;
    // [K·(D+1) + i] Σ dy over outputs whose tap i is padding; last: Σ dy over the row.
    let rowPart = UnsafeMutablePointer<Double>.allocate(capacity: outRows * partStride)
    defer { rowPart.deallocate() }
    Parallel.forEachChunk(count: outRows, chunk: max(1, outRows / 16)) { r in
        let tap = UnsafeMutablePointer<Int>.allocate(capacity: 2 * k2)
        defer { tap.deallocate() }
        let ipix = tap + k2
        for row in r {
            let (b, oh) = (row / g.ho, row % g.ho)
            let part = rowPart + row * partStride, pad = part + k2 * d1
            part.update(repeating: 0, count: partStride)
            for ow in 0..<g.wo {
                let dr = dout + (row * g.wo + ow) * c
                let cnt = g.inputTaps(b: b, oh: oh, ow: ow, tap, ipix)
                for q in 0..<cnt {
                    let i = tap[q]
                    for n in 0..<d1 {
                        let src = n == 0 ? inp + ipix[q] * c : planes + (ipix[q] * degree + n - 1) * c
                        var acc = KANVec()
                        var cc = 0
                        while cc < c {
                            let lanes = min(KANVec.scalarCount, c - cc)
                            acc += loadLanes(dr + cc, lanes, as: KANVec.self) * loadLanes(src + cc, lanes, as: KANVec.self)
                            cc += KANVec.scalarCount
                        }
                        part[i * d1 + n] += Double(acc.sum())
                    }
                }
                var acc = KANVec()
                var cc = 0
                while cc < c { acc += loadLanes(dr + cc, min(KANVec.scalarCount, c - cc), as: KANVec.self); cc += KANVec.scalarCount }
                let s = Double(acc.sum())
                pad[k2] += s
                if cnt < k2 { for i in 0..<k2 where g.isPadding(oh: oh, ow: ow, tap: i) { pad[i] += s } }
            }
        }
    }

    // Combine partials in row order.
    let sums = UnsafeMutablePointer<Double>.allocate(capacity: partStride)
    defer { sums.deallocate() }
    sums.update(repeating: 0, count: partStride)
    for row in 0..<outRows { for s in 0..<partStride { sums[s] += rowPart[row * partStride + s] } }
    let pad = sums + k2 * d1
    for i in 0..<k2 {
        dbase[i] += Float(sums[i * d1])
        var ds = 0.0
        for n in 0..<d1 {
            let dw = n == 0 ? pad[k2] : sums[i * d1 + n] + Double(chebyshevAtZero(n)) * pad[i]
            dcheb[i * d1 + n] += Float(dw * Double(scaler[i]))
            ds += dw * Double(cheb[i * d1 + n])
        }
        dscaler[i] += Float(ds)
    }
}

/// `ChebyshevKANConv2d`: the per-channel Chebyshev KAN convolution of the RKAN block
/// (`KAN_Convolutional_Layer(kan_type="chebyshev")`'s single conv). Channel count unchanged.
public final class ChebyshevKANConv2d: Layer {
    public let kernel, stride, padding, degree: Int
    /// (1, k·k) `<name>.base_linear.weight`.
    public let baseWeight: Parameter
    /// (1, k·k, degree+1) `<name>.polynomial_weight` (`chebyshev_weight` before 815a357).
    public let polynomialWeight: Parameter
    /// (1, k·k) `<name>.scaler` (`chebyshev_scaler` before 815a357).
    public let scaler: Parameter

    /// The reference's key names before it renamed them (815a357:KAN_Conv/chebyshevkan.py), as
    /// (old suffix, new suffix): run files and state dicts with the old names stay readable.
    public static let legacyKeySuffixes = [(".chebyshev_weight", ".polynomial_weight"), (".chebyshev_scaler", ".scaler")]

    private var input: Tensor?            // x (N, H, W, C)
    private var planes: Tensor?           // (N, H, W, D, C) T_1..T_D of tanh(x)
    private var geometry: KANConvGeometry?
    /// The MAC counter of the store's engine context.
    private let macs: MACCounter
    /// The batch shards of the store's engine context.
    private let sharding: BatchSharding
    private let coef: UnsafeMutablePointer<Float>   // (K, D+1) cheb·scaler

    /// Declares the KAN's parameters under `name` (e.g. `kan_conv1.3.convs.0.conv`), initialised as
    /// 815a357:KAN_Conv/chebyshevkan.py `reset_parameters`: polynomial_weight ~ N(0, 1/√(k·k·(D+1))),
    /// base_linear.weight `kaiming_normal_(nonlinearity="relu")` = N(0, √(2/(k·k))), scaler = 1.
    /// - Parameters:
    ///   - store: the model's parameter store (build phase).
    ///   - name: state-dict prefix.
    ///   - kernel: k (square kernel).
    ///   - stride: spatial stride.
    ///   - padding: zero padding on each side.
    ///   - degree: highest Chebyshev degree D (≥ 1).
    public init(store: ParameterStore, name: String, kernel: Int = 3, stride: Int = 1, padding: Int = 1, degree: Int = 3) {
        precondition(kernel >= 1 && stride >= 1 && padding >= 0 && degree >= 1,
                     "ChebyshevKANConv2d(\(name)): kernel \(kernel), stride \(stride), padding \(padding), degree \(degree) out of range")
        (self.kernel, self.stride, self.padding, self.degree) = (kernel, stride, padding, degree)
        macs = store.context.macs
        sharding = store.context.sharding
        let k2 = kernel * kernel
        (baseWeight, polynomialWeight, scaler) = store.scoped(name) {
            (store.weight("base_linear.weight", shape: [1, k2], initializer: .normal(std: Float((2 / Double(k2)).squareRoot()))),
             store.weight("polynomial_weight", shape: [1, k2, degree + 1], initializer: .normal(std: Float(1 / Double(k2 * (degree + 1)).squareRoot()))),
             store.weight("scaler", shape: [1, k2], initializer: .ones))
        }
        for p in [baseWeight, polynomialWeight, scaler] { p.foldsOverShards = true }
        coef = .allocate(capacity: k2 * (degree + 1))
    }

    deinit { coef.deallocate() }

    private func updateCoefficients() {
        let d1 = degree + 1, ch = polynomialWeight.value!, sc = scaler.value!
        for i in 0..<(kernel * kernel) { for n in 0..<d1 { coef[i * d1 + n] = ch[i * d1 + n] * sc[i] } }
    }

    /// - Parameter x: (N, H, W, C).
    /// - Returns: (N, Ho, Wo, C), Ho = (H + 2·padding − k)/stride + 1.
    /// - Throws: `EngineError.shapeMismatch` (op "ChebyshevKANConv2d") for other ranks or too-small inputs.
    /// A data-parallel rank whose shards of a small batch are all empty passes N = 0: the output
    /// is empty and the backward still joins the gradient fold.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let n = x.rank == 4 ? x.shape[0] : 1
        // With N = 0 the geometry of one image checks the shape, and nothing is computed.
        let g = try KANConvGeometry(op: "ChebyshevKANConv2d", shape: n == 0 ? [1] + x.shape.dropFirst() : x.shape,
                                    kernel: kernel, stride: stride, padding: padding)
        updateCoefficients()
        let t = Tensor(uninitialized: [n, g.h, g.w, degree, g.c])
        let y = Tensor(uninitialized: [n, g.ho, g.wo, g.c])
        if n > 0 {
            chebyshevPlanesForward(t.data, x.data, pixels: g.n * g.h * g.w, c: g.c, degree: degree)
            chebyshevKANConvForward(y.data, x.data, t.data, baseWeight.value, coef, g, degree: degree)
        }
        macs.add(y.count * kernel * kernel)   // thop counts only the base nn.Linear(k·k → 1)
        if mode == .train { (input, planes, geometry) = (x, t, g) } else { (input, planes, geometry) = (nil, nil, nil) }
        return y
    }

    /// - Parameter dy: (N, Ho, Wo, C).
    /// - Returns: dx (N, H, W, C); adds into the base, cheb and scaler gradients.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let t = planes, let g = geometry else {
            preconditionFailure("ChebyshevKANConv2d.backward called without a .train forward")
        }
        precondition(dy.shape == [x.shape[0], g.ho, g.wo, g.c],
                     "ChebyshevKANConv2d.backward: dy \(shapeString(dy.shape)) vs output \(shapeString([x.shape[0], g.ho, g.wo, g.c]))")
        (input, planes, geometry) = (nil, nil, nil)
        let dx = Tensor(uninitialized: x.shape)
        // Per batch shard: dx of its images and its parameter-gradient partials (row layout
        // base | polynomial | scaler), folded over all shards (and ranks) in tree order. The
        // forward needs no shards: each output element is computed from its own image alone.
        let (k2, d1) = (kernel * kernel, degree + 1), count = k2 + k2 * d1 + k2
        let (inPer, outPer) = (g.h * g.w * g.c, g.ho * g.wo * g.c)
        let total: ShardTotal<Float> = sharding.perShard(batch: x.shape[0], count: count, .concurrent) { _, r, row in
            if r.isEmpty { return }
            let gs = try! KANConvGeometry(op: "ChebyshevKANConv2d", shape: [r.count, g.h, g.w, g.c], kernel: kernel,
                                          stride: stride, padding: padding)
            chebyshevKANConvBackward(dx.data + r.lowerBound * inPer, row, row + k2, row + k2 + k2 * d1,
                                     dy.data + r.lowerBound * outPer, x.data + r.lowerBound * inPer,
                                     t.data + r.lowerBound * inPer * degree, baseWeight.value, polynomialWeight.value,
                                     scaler.value, coef, gs, degree: degree)
        }
        defer { total.release() }
        addInPlace(baseWeight.grad, total.values, k2)
        addInPlace(polynomialWeight.grad, total.values + k2, k2 * d1)
        addInPlace(scaler.grad, total.values + k2 + k2 * d1, k2)
        return dx
    }
}

/// Chebyshev polynomial of the first kind at 0: T_n(0) = cos(nπ/2).
@inline(__always)
func chebyshevAtZero(_ n: Int) -> Float { n % 2 == 1 ? 0 : (n % 4 == 0 ? 1 : -1) }
