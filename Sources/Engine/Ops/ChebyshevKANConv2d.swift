import Foundation

// The RKAN paper's Chebyshev KAN convolution (reference: KAN_Conv/convolution.py kan_conv2d with
// KAN_Conv/chebyshevkan.py ChebyshevKANLinear(k·k → 1, normalization "tanh", use_linear,
// skip_activation)). For output pixel o and channel c, with patch values p_i = x[o + off_i, c]
// (zero outside the input) and W[i,n] = cheb[i,n]·scaler[i]:
//     y[o,c] = Σ_i f_i(p_i),   f_i(v) = base[i]·v + Σ_n W[i,n]·T_n(tanh v)
// T_0 = 1, T_1 = t, T_n = 2t·T_{n−1} − T_{n−2}. Padded taps contribute f_i(0) = Σ_n W[i,n]·T_n(0).
//
// Fast path: T_1..T_D of tanh(x) are computed ONCE per input element ("planes"), then each
// output is a weighted sum of shifted planes, channel innermost (SIMD over C), rows in parallel.
// Letters: N batch, H/W input, Ho/Wo output, C channels, K = k·k taps, D degree.

/// Planes of Chebyshev values of tanh(x).
/// - Parameters:
///   - planes: (P, D, C) out: T_1..T_D of tanh(inp) per pixel.
///   - inp: (P, C) input pixels.
func chebyshevPlanesForward(_ planes: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                            pixels: Int, c: Int, degree: Int) {
    Parallel.forEachChunk(count: pixels, chunk: max(1, 8_192 / c)) { r in
        for p in r {
            let xr = inp + p * c, t = planes + p * degree * c
            for j in 0..<c { t[j] = Foundation.tanh(xr[j]) }
            if degree >= 2 { let t2 = t + c; for j in 0..<c { t2[j] = 2 * t[j] * t[j] - 1 } }
            if degree >= 3 {
                for d in 3...degree {
                    let tn = t + (d - 1) * c, t1 = t + (d - 2) * c, t0 = t + (d - 3) * c
                    for j in 0..<c { tn[j] = 2 * t[j] * t1[j] - t0[j] }
                }
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
    Parallel.forEachChunk(count: rows, chunk: max(1, rows / 16)) { r in
        let tap = UnsafeMutablePointer<Int>.allocate(capacity: 2 * g.taps)   // (K) tap, (K) input pixel
        defer { tap.deallocate() }
        let pix = tap + g.taps
        for row in r {
            let (b, oh) = (row / g.ho, row % g.ho)
            for ow in 0..<g.wo {
                let cnt = g.inputTaps(b: b, oh: oh, ow: ow, tap, pix)
                var bias0: Float = 0
                for i in 0..<g.taps {
                    if g.isPadding(oh: oh, ow: ow, tap: i) {
                        for n in 0..<d1 { bias0 += coef[i * d1 + n] * chebyshevAtZero(n) }
                    } else {
                        bias0 += coef[i * d1]
                    }
                }
                let yr = out + (row * g.wo + ow) * c
                var cc = 0
                while cc < c {
                    let lanes = min(8, c - cc)
                    var acc = SIMD8<Float>(repeating: bias0)
                    for q in 0..<cnt {
                        let i = tap[q], p = pix[q]
                        acc += base[i] * loadLanes(inp + p * c + cc, lanes)
                        let tp = planes + p * degree * c + cc, wi = coef + i * d1
                        for n in 1...degree { acc += wi[n] * loadLanes(tp + (n - 1) * c, lanes) }
                    }
                    storeLanes(acc, yr + cc, lanes)
                    cc += 8
                }
            }
        }
    }
}

/// Backward. Per input pixel, gathers the outputs that read it:
/// `dx = Σ_uses base[i]·dy + (1 − t²)·Σ_n n·U_{n−1}(t)·Σ_uses W[i,n]·dy`, and per-row partial
/// sums of `dy·x` (base) and `dy·T_n` (W), combined in row order. Padded taps add
/// `T_n(0)·Σ_c dy` to W's gradient. Then `dcheb += dW·scaler`, `dscaler += Σ_n dW·cheb`.
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
    // (inRows, K, D+1): slot 0 holds Σ dy·x (base), slot n ≥ 1 holds Σ dy·T_n.
    let rowPart = UnsafeMutablePointer<Double>.allocate(capacity: inRows * k2 * d1)
    // (outRows, K+1): Σ_c dy over outputs whose tap i is padding; last slot Σ over all outputs.
    let padPart = UnsafeMutablePointer<Double>.allocate(capacity: outRows * (k2 + 1))
    defer { rowPart.deallocate(); padPart.deallocate() }

    Parallel.forEachChunk(count: inRows, chunk: max(1, inRows / 16)) { r in
        let prod = UnsafeMutablePointer<Float>.allocate(capacity: k2 * d1 * c)   // (K, D+1, C)
        let tap = UnsafeMutablePointer<Int>.allocate(capacity: 2 * k2)
        let acc = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: d1)    // (D+1) gathered W·dy
        defer { prod.deallocate(); tap.deallocate(); acc.deallocate() }
        let opix = tap + k2
        for row in r {
            let (b, ih) = (row / g.h, row % g.h)
            prod.update(repeating: 0, count: k2 * d1 * c)
            for iw in 0..<g.w {
                let p = row * g.w + iw
                let cnt = g.outputUses(b: b, ih: ih, iw: iw, tap, opix)
                let xr = inp + p * c, tp = planes + p * degree * c, dxr = dinp + p * c
                var cc = 0
                while cc < c {
                    let lanes = min(8, c - cc)
                    let xv = loadLanes(xr + cc, lanes)
                    for n in 0..<d1 { acc[n] = SIMD8<Float>() }
                    for q in 0..<cnt {
                        let i = tap[q]
                        let dv = loadLanes(dout + opix[q] * c + cc, lanes)
                        let pr = prod + i * d1 * c + cc, wi = coef + i * d1
                        acc[0] += base[i] * dv
                        storeLanes(loadLanes(pr, lanes) + dv * xv, pr, lanes)
                        for n in 1...degree {
                            acc[n] += wi[n] * dv
                            let pn = pr + n * c
                            storeLanes(loadLanes(pn, lanes) + dv * loadLanes(tp + (n - 1) * c + cc, lanes), pn, lanes)
                        }
                    }
                    // dT_n/dt = n·U_{n−1}(t); U_0 = 1, U_1 = 2t, U_n = 2t·U_{n−1} − U_{n−2}.
                    let t = loadLanes(tp + cc, lanes)
                    var sum = acc[1]
                    var (uPrev, uCur) = (SIMD8<Float>(repeating: 1), 2 * t)
                    if degree >= 2 {
                        for n in 2...degree {
                            sum += Float(n) * uCur * acc[n]
                            (uPrev, uCur) = (uCur, 2 * t * uCur - uPrev)
                        }
                    }
                    storeLanes(acc[0] + (1 - t * t) * sum, dxr + cc, lanes)
                    cc += 8
                }
            }
            let part = rowPart + row * k2 * d1
            for s in 0..<(k2 * d1) {
                let pr = prod + s * c
                var total = 0.0
                for j in 0..<c { total += Double(pr[j]) }
                part[s] = total
            }
        }
    }

    Parallel.forEachChunk(count: outRows, chunk: max(1, outRows / 16)) { r in
        for row in r {
            let oh = row % g.ho
            let part = padPart + row * (k2 + 1)
            part.update(repeating: 0, count: k2 + 1)
            for ow in 0..<g.wo {
                let dr = dout + (row * g.wo + ow) * c
                var s = 0.0
                for j in 0..<c { s += Double(dr[j]) }
                part[k2] += s
                for i in 0..<k2 where g.isPadding(oh: oh, ow: ow, tap: i) { part[i] += s }
            }
        }
    }

    // Combine partials in row order.
    let sums = UnsafeMutablePointer<Double>.allocate(capacity: k2 * d1 + k2 + 1)
    defer { sums.deallocate() }
    sums.update(repeating: 0, count: k2 * d1 + k2 + 1)
    let pad = sums + k2 * d1
    for row in 0..<inRows { for s in 0..<(k2 * d1) { sums[s] += rowPart[row * k2 * d1 + s] } }
    for row in 0..<outRows { for s in 0...k2 { pad[s] += padPart[row * (k2 + 1) + s] } }
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
    /// (1, k·k, degree+1) `<name>.chebyshev_weight`.
    public let chebyshevWeight: Parameter
    /// (1, k·k) `<name>.chebyshev_scaler`.
    public let chebyshevScaler: Parameter

    private var input: Tensor?            // x (N, H, W, C)
    private var planes: Tensor?           // (N, H, W, D, C) T_1..T_D of tanh(x)
    private var geometry: KANConvGeometry?
    private let coef: UnsafeMutablePointer<Float>   // (K, D+1) cheb·scaler

    /// Declares the KAN's parameters under `name` (e.g. `kan_conv1.3.convs.0.conv`).
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
        let k2 = kernel * kernel
        (baseWeight, chebyshevWeight, chebyshevScaler) = store.scoped(name) {
            (store.weight("base_linear.weight", shape: [1, k2], initializer: .uniform(bound: 1 / Float(k2).squareRoot())),
             store.weight("chebyshev_weight", shape: [1, k2, degree + 1], initializer: .normal(std: 1 / Float(k2 * (degree + 1)))),
             store.weight("chebyshev_scaler", shape: [1, k2], initializer: .ones))
        }
        coef = .allocate(capacity: k2 * (degree + 1))
    }

    deinit { coef.deallocate() }

    private func updateCoefficients() {
        let d1 = degree + 1, ch = chebyshevWeight.value!, sc = chebyshevScaler.value!
        for i in 0..<(kernel * kernel) { for n in 0..<d1 { coef[i * d1 + n] = ch[i * d1 + n] * sc[i] } }
    }

    /// - Parameter x: (N, H, W, C).
    /// - Returns: (N, Ho, Wo, C), Ho = (H + 2·padding − k)/stride + 1.
    /// - Throws: `EngineError.shapeMismatch` (op "ChebyshevKANConv2d") for other ranks or too-small inputs.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let g = try KANConvGeometry(op: "ChebyshevKANConv2d", shape: x.shape, kernel: kernel, stride: stride, padding: padding)
        updateCoefficients()
        let t = Tensor(uninitialized: [g.n, g.h, g.w, degree, g.c])
        chebyshevPlanesForward(t.data, x.data, pixels: g.n * g.h * g.w, c: g.c, degree: degree)
        let y = Tensor(uninitialized: g.outputShape)
        chebyshevKANConvForward(y.data, x.data, t.data, baseWeight.value, coef, g, degree: degree)
        if mode == .train { (input, planes, geometry) = (x, t, g) } else { (input, planes, geometry) = (nil, nil, nil) }
        return y
    }

    /// - Parameter dy: (N, Ho, Wo, C).
    /// - Returns: dx (N, H, W, C); adds into the base, cheb and scaler gradients.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input, let t = planes, let g = geometry else {
            preconditionFailure("ChebyshevKANConv2d.backward called without a .train forward")
        }
        precondition(dy.shape == g.outputShape, "ChebyshevKANConv2d.backward: dy \(shapeString(dy.shape)) vs output \(shapeString(g.outputShape))")
        (input, planes, geometry) = (nil, nil, nil)
        let dx = Tensor(uninitialized: x.shape)
        chebyshevKANConvBackward(dx.data, baseWeight.grad, chebyshevWeight.grad, chebyshevScaler.grad,
                                 dy.data, x.data, t.data, baseWeight.value, chebyshevWeight.value,
                                 chebyshevScaler.value, coef, g, degree: degree)
        return dx
    }
}
