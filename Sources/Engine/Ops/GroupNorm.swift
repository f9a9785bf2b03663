import Foundation

// Group normalisation (PyTorch `nn.GroupNorm(G, C)`, eps 1e-5, affine) on channel-innermost
// sequences (N, L, C): for sample n and group g (channels g·C/G ..< (g+1)·C/G), mean and biased
// variance over L · C/G values; y = (x − mean) · rstd · γ[c] + β[c]. Statistics in Double.
// Letters: N batch, L length, C channels, G groups.

/// - Parameters:
///   - out: (N, L, C), overwritten.
///   - mean: (N, G) out: the group means.
///   - rstd: (N, G) out: 1/√(var + eps).
///   - inp: (N, L, C).
///   - gamma: (C).
///   - beta: (C).
public func groupNormForward(_ out: UnsafeMutablePointer<Float>, _ mean: UnsafeMutablePointer<Float>,
                      _ rstd: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                      _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>,
                      n: Int, l: Int, c: Int, groups: Int, eps: Double = 1e-5) {
    let cg = c / groups
    Parallel.forEachChunk(count: n * groups, chunk: 1) { r in
        for task in r {
            let (b, g) = (task / groups, task % groups)
            let c0 = g * cg
            var s: Double = 0, s2: Double = 0
            for i in 0..<l {
                let xr = inp + (b * l + i) * c + c0
                for j in 0..<cg { let v = Double(xr[j]); s += v; s2 += v * v }
            }
            let count = Double(l * cg)
            let m = s / count, v = max(s2 / count - m * m, 0)
            let rs = 1 / (v + eps).squareRoot()
            mean[task] = Float(m); rstd[task] = Float(rs)
            for i in 0..<l {
                let xr = inp + (b * l + i) * c + c0, yr = out + (b * l + i) * c + c0
                for j in 0..<cg { yr[j] = Float((Double(xr[j]) - m) * rs) * gamma[c0 + j] + beta[c0 + j] }
            }
        }
    }
}

/// Gradients of `groupNormForward`: with x̂ = (x − mean)·rstd and d̂ = dy·γ,
/// dx = rstd · (d̂ − mean(d̂) − x̂ · mean(d̂ · x̂)) over the group; dγ += Σ dy·x̂, dβ += Σ dy.
/// Per-sample partials of dγ/dβ are summed in sample order.
/// - Parameters:
///   - dinp: (N, L, C), overwritten.
///   - dgamma: (C), accumulated.
///   - dbeta: (C), accumulated.
///   - dout: (N, L, C).
///   - inp: (N, L, C), the forward input.
///   - mean, rstd: (N, G) from the forward.
public func groupNormBackward(_ dinp: UnsafeMutablePointer<Float>, _ dgamma: UnsafeMutablePointer<Float>,
                       _ dbeta: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                       _ inp: UnsafePointer<Float>, _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>,
                       _ gamma: UnsafePointer<Float>, n: Int, l: Int, c: Int, groups: Int) {
    let cg = c / groups
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: max(1, n * 2 * c))   // (N, 2, C): dγ, dβ
    defer { partial.deallocate() }
    partial.update(repeating: 0, count: n * 2 * c)
    Parallel.forEachChunk(count: n * groups, chunk: 1) { r in
        for task in r {
            let (b, g) = (task / groups, task % groups)
            let c0 = g * cg
            let (m, rs) = (Double(mean[task]), Double(rstd[task]))
            let pg = partial + b * 2 * c, pb = pg + c
            var sd: Double = 0, sdx: Double = 0
            for i in 0..<l {
                let xr = inp + (b * l + i) * c + c0, dy = dout + (b * l + i) * c + c0
                for j in 0..<cg {
                    let xh = (Double(xr[j]) - m) * rs, d = Double(dy[j])
                    pg[c0 + j] += d * xh; pb[c0 + j] += d
                    let dh = d * Double(gamma[c0 + j])
                    sd += dh; sdx += dh * xh
                }
            }
            let count = Double(l * cg)
            let (md, mdx) = (sd / count, sdx / count)
            for i in 0..<l {
                let xr = inp + (b * l + i) * c + c0, dy = dout + (b * l + i) * c + c0, dx = dinp + (b * l + i) * c + c0
                for j in 0..<cg {
                    let xh = (Double(xr[j]) - m) * rs
                    dx[j] = Float(rs * (Double(dy[j]) * Double(gamma[c0 + j]) - md - xh * mdx))
                }
            }
        }
    }
    for j in 0..<c {
        var sg: Double = 0, sb: Double = 0
        for b in 0..<n { sg += partial[b * 2 * c + j]; sb += partial[b * 2 * c + c + j] }
        dgamma[j] += Float(sg); dbeta[j] += Float(sb)
    }
}
