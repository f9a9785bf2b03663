import Foundation

// Per-channel KAN convolution with a basis expansion per tap (the rbf and b_spline KAN types of
// the reference's KAN_Conv: one scalar KAN (k·k → 1) on every k×k patch of every channel, nn.Unfold
// order, zero padding). For output pixel o, channel c, tap i with patch value p_i (0 in padding):
//     y[o,c] = bias + Σ_i ( base[i]·p_i + Σ_b coef[i,b]·B_b(p_i) )
// Letters: N batch, H/W input, Ho/Wo output, C channels, K = k·k taps, Bc basis functions per tap.

/// Basis functions B_0..B_{count−1} of one tap's value (and their slopes, for backward).
protocol PatchBasis {
    /// Bc, the number of basis functions per tap.
    var count: Int { get }
    /// Floats of scratch `evaluate` needs.
    var scratchCount: Int { get }
    /// Writes B_b(v) into `value` (Bc) and, when `slope` is non-nil, dB_b/dv into it (Bc).
    func evaluate(_ v: Float, tap: Int, _ value: UnsafeMutablePointer<Float>, _ slope: UnsafeMutablePointer<Float>?,
                  _ scratch: UnsafeMutablePointer<Float>)
}

/// Input pixel of each tap of output (b, oh, ow), or −1 in the padding.
/// - Parameter pix: (K) out.
@inline(__always)
func patchTaps(_ g: KANConvGeometry, b: Int, oh: Int, ow: Int, _ pix: UnsafeMutablePointer<Int>) {
    for kh in 0..<g.kernel {
        let ih = oh * g.stride - g.padding + kh
        for kw in 0..<g.kernel {
            let iw = ow * g.stride - g.padding + kw
            pix[kh * g.kernel + kw] = ih < 0 || ih >= g.h || iw < 0 || iw >= g.w ? -1 : (b * g.h + ih) * g.w + iw
        }
    }
}

/// Forward of the basis KAN convolution. Parallel over output rows.
/// - Parameters:
///   - out: (N, Ho, Wo, C), overwritten.
///   - inp: (N, H, W, C).
///   - base: (K) linear weights on the tap values.
///   - bias: the scalar bias (0 for KANs without one).
///   - coef: (K, Bc) basis coefficients.
func patchKANForward<B: PatchBasis>(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                                    _ base: UnsafePointer<Float>, bias: Float, _ coef: UnsafePointer<Float>,
                                    _ basis: B, _ g: KANConvGeometry) {
    let (K, Bc, C) = (g.taps, basis.count, g.c)
    Parallel.forEachChunk(count: g.n * g.ho, chunk: max(1, (g.n * g.ho) / 32)) { r in
        let pix = UnsafeMutablePointer<Int>.allocate(capacity: K)                         // (K)
        let vals = UnsafeMutablePointer<Float>.allocate(capacity: Bc + basis.scratchCount)  // (Bc) + scratch
        defer { pix.deallocate(); vals.deallocate() }
        for row in r {
            let (b, oh) = (row / g.ho, row % g.ho)
            for ow in 0..<g.wo {
                patchTaps(g, b: b, oh: oh, ow: ow, pix)
                let y = out + (row * g.wo + ow) * C
                for c in 0..<C {
                    var acc = bias
                    for i in 0..<K {
                        let v: Float = pix[i] < 0 ? 0 : inp[pix[i] * C + c]
                        basis.evaluate(v, tap: i, vals, nil, vals + Bc)
                        acc += base[i] * v
                        let ci = coef + i * Bc
                        for q in 0..<Bc { acc += ci[q] * vals[q] }
                    }
                    y[c] = acc
                }
            }
        }
    }
}

/// Gradients of `patchKANForward`. One task per image (its dx region is its own); per-image
/// partial parameter gradients are summed in image order, so the bytes do not depend on threads.
/// - Parameters:
///   - dinp: (N, H, W, C), overwritten.
///   - dbase: (K), accumulated.
///   - dbias: (1), accumulated; nil when the KAN has no bias.
///   - dcoef: (K, Bc), accumulated.
///   - dout: (N, Ho, Wo, C).
///   - inp, base, coef, basis, g: as in the forward.
func patchKANBackward<B: PatchBasis>(_ dinp: UnsafeMutablePointer<Float>, _ dbase: UnsafeMutablePointer<Float>,
                                     _ dbias: UnsafeMutablePointer<Float>?, _ dcoef: UnsafeMutablePointer<Float>,
                                     _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
                                     _ base: UnsafePointer<Float>, _ coef: UnsafePointer<Float>,
                                     _ basis: B, _ g: KANConvGeometry) {
    let (K, Bc, C) = (g.taps, basis.count, g.c)
    let per = 1 + K + K * Bc                                                   // bias, base (K), coef (K, Bc)
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: g.n * per)   // (N, per)
    defer { partial.deallocate() }
    Parallel.forEachChunk(count: g.n, chunk: 1) { r in
        let pix = UnsafeMutablePointer<Int>.allocate(capacity: K)
        let vals = UnsafeMutablePointer<Float>.allocate(capacity: 2 * Bc + basis.scratchCount)   // value, slope, scratch
        defer { pix.deallocate(); vals.deallocate() }
        let slopes = vals + Bc
        for b in r {
            let pd = partial + b * per
            pd.update(repeating: 0, count: per)
            (dinp + b * g.h * g.w * C).update(repeating: 0, count: g.h * g.w * C)
            for oh in 0..<g.ho { for ow in 0..<g.wo {
                patchTaps(g, b: b, oh: oh, ow: ow, pix)
                let dy = dout + ((b * g.ho + oh) * g.wo + ow) * C
                for c in 0..<C {
                    let gy = dy[c], gd = Double(gy)
                    pd[0] += gd
                    for i in 0..<K {
                        let v: Float = pix[i] < 0 ? 0 : inp[pix[i] * C + c]
                        basis.evaluate(v, tap: i, vals, slopes, vals + 2 * Bc)
                        pd[1 + i] += gd * Double(v)
                        let ci = coef + i * Bc, pc = pd + 1 + K + i * Bc
                        var dv = base[i]
                        for q in 0..<Bc { pc[q] += gd * Double(vals[q]); dv += ci[q] * slopes[q] }
                        if pix[i] >= 0 { dinp[pix[i] * C + c] += gy * dv }
                    }
                }
            } }
        }
    }
    for j in 0..<per {
        var s: Double = 0
        for b in 0..<g.n { s += partial[b * per + j] }
        if j == 0 { dbias?[0] += Float(s) } else if j <= K { dbase[j - 1] += Float(s) } else { dcoef[j - 1 - K] += Float(s) }
    }
}
