import Engine

/// Efficient Local Attention (ELA-L, the reference's RKAN_ELA `EfficientLocalAttention`):
///
///     x_h = mean over W of x (N, H, C)       a_h = σ(GN(conv(x_h)))
///     x_w = mean over H of x (N, W, C)       a_w = σ(GN(conv(x_w)))
///     y = x · a_h[n,h,c] · a_w[n,w,c]
///
/// `conv` (`<name>.conv.weight` (C, 8, 7)) is a Conv1d C → C, kernel 7, padding 3, groups C/8, no
/// bias; `gn` (`<name>.gn.weight`, `.bias`) is GroupNorm(16, C). Both directions share them.
/// thop counts the two Conv1d calls only (no rule for GroupNorm; the means are functional).
final class EfficientLocalAttention: Layer {
    static let kernel = 7, normGroups = 16, channelsPerGroup = 8
    let channels: Int
    let weight: Parameter, gamma: Parameter, beta: Parameter
    private struct Direction { let pooled, conv, mean, rstd, gate: Tensor }   // (N,L,C) ×3, (N,G) ×2, (N,L,C)
    private var cache: (x: Tensor, h: Direction, w: Direction)?
    /// The MAC counter of the store's engine context.
    private let macs: MACCounter

    init(_ s: ParameterStore, name: String, channels c: Int) {
        precondition(c % EfficientLocalAttention.normGroups == 0 && c % (c / EfficientLocalAttention.channelsPerGroup) == 0,
                     "EfficientLocalAttention \(name): \(c) channels")
        channels = c
        macs = s.context.macs
        let fanIn = EfficientLocalAttention.channelsPerGroup * EfficientLocalAttention.kernel
        (weight, gamma, beta) = s.scoped(name) {
            (s.scoped("conv") { s.weight("weight", shape: [c, EfficientLocalAttention.channelsPerGroup, EfficientLocalAttention.kernel],
                                         initializer: .uniform(bound: 1 / Float(fanIn).squareRoot())) },
             s.scoped("gn") { s.weight("weight", shape: [c], initializer: .ones) },
             s.scoped("gn") { s.weight("bias", shape: [c], initializer: .zeros) })
        }
    }

    private func geometry(n: Int, l: Int) -> Conv1dGeometry {
        Conv1dGeometry(n: n, l: l, c: channels, groups: channels / EfficientLocalAttention.channelsPerGroup,
                       kernel: EfficientLocalAttention.kernel, padding: EfficientLocalAttention.kernel / 2)
    }

    /// a = σ(GN(conv(pooled))) for one direction; pooled (N, L, C).
    private func gate(_ pooled: Tensor) -> Direction {
        let (n, l, c, g) = (pooled.shape[0], pooled.shape[1], channels, EfficientLocalAttention.normGroups)
        let geo = geometry(n: n, l: l)
        let z = Tensor(uninitialized: [n, l, c]), y = Tensor(uninitialized: [n, l, c])
        let mean = Tensor(uninitialized: [n, g]), rstd = Tensor(uninitialized: [n, g])
        conv1dForward(z.data, pooled.data, weight.value, geo)
        macs.add(geo.macs)
        groupNormForward(y.data, mean.data, rstd.data, z.data, gamma.value, beta.value, n: n, l: l, c: c, groups: g)
        sigmoidForward(y.data, y.data, y.count)
        return Direction(pooled: pooled, conv: z, mean: mean, rstd: rstd, gate: y)
    }

    /// d pooled from d gate for one direction; adds the weight, γ and β gradients.
    private func gateBackward(_ da: Tensor, _ d: Direction) -> Tensor {
        let (n, l, c, g) = (da.shape[0], da.shape[1], channels, EfficientLocalAttention.normGroups)
        let dgn = Tensor(uninitialized: da.shape), dz = Tensor(uninitialized: da.shape), dp = Tensor(uninitialized: da.shape)
        sigmoidBackward(dgn.data, da.data, d.gate.data, da.count)
        groupNormBackward(dz.data, gamma.grad, beta.grad, dgn.data, d.conv.data, d.mean.data, d.rstd.data, gamma.value,
                          n: n, l: l, c: c, groups: g)
        conv1dBackward(dp.data, weight.grad, dz.data, d.pooled.data, weight.value, geometry(n: n, l: l))
        return dp
    }

    /// - Parameter x: (N, H, W, C).
    /// - Returns: (N, H, W, C).
    func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.rank == 4, x.shape[3] == channels else {
            throw EngineError.shapeMismatch(op: "EfficientLocalAttention", detail: "expected (N, H, W, \(channels)), got \(shapeString(x.shape))")
        }
        let (n, hh, ww, c) = (x.shape[0], x.shape[1], x.shape[2], channels)
        let ph = Tensor(zeros: [n, hh, c]), pw = Tensor(zeros: [n, ww, c])
        let (xp, php, pwp) = (x.data, ph.data, pw.data)
        Parallel.forEachChunk(count: n, chunk: 1) { r in
            for b in r { for h in 0..<hh { for w in 0..<ww {
                let xr = xp + ((b * hh + h) * ww + w) * c, rh = php + (b * hh + h) * c, rw = pwp + (b * ww + w) * c
                for j in 0..<c { rh[j] += xr[j]; rw[j] += xr[j] }
            } } }
        }
        for i in 0..<ph.count { php[i] /= Float(ww) }
        for i in 0..<pw.count { pwp[i] /= Float(hh) }
        let dh = gate(ph), dw = gate(pw)
        let y = Tensor(uninitialized: x.shape)
        let (ah, aw, yp) = (dh.gate.data, dw.gate.data, y.data)
        Parallel.forEachChunk(count: n * hh, chunk: 1) { r in
            for row in r {
                let b = row / hh
                for w in 0..<ww {
                    let o = (row * ww + w) * c, gh = ah + row * c, gw = aw + (b * ww + w) * c
                    for j in 0..<c { yp[o + j] = xp[o + j] * gh[j] * gw[j] }
                }
            }
        }
        cache = mode == .train ? (x, dh, dw) : nil
        return y
    }

    func backward(_ dy: Tensor) -> Tensor {
        guard let (x, dh, dw) = cache else { preconditionFailure("EfficientLocalAttention.backward without a .train forward") }
        cache = nil
        let (n, hh, ww, c) = (x.shape[0], x.shape[1], x.shape[2], channels)
        let dx = Tensor(uninitialized: x.shape)
        let dah = Tensor(uninitialized: [n, hh, c]), daw = Tensor(uninitialized: [n, ww, c])
        let (xp, dyp, dxp, ah, aw, dahp, dawp) = (x.data, dy.data, dx.data, dh.gate.data, dw.gate.data, dah.data, daw.data)
        Parallel.forEachChunk(count: n, chunk: 1) { r in
            let acc = UnsafeMutablePointer<Double>.allocate(capacity: (hh + ww) * c)   // (H + W, C)
            defer { acc.deallocate() }
            for b in r {
                acc.update(repeating: 0, count: (hh + ww) * c)
                for h in 0..<hh { for w in 0..<ww {
                    let o = ((b * hh + h) * ww + w) * c, gh = ah + (b * hh + h) * c, gw = aw + (b * ww + w) * c
                    for j in 0..<c {
                        let g = dyp[o + j], xv = xp[o + j]
                        dxp[o + j] = g * gh[j] * gw[j]
                        acc[h * c + j] += Double(g * xv) * Double(gw[j])
                        acc[(hh + w) * c + j] += Double(g * xv) * Double(gh[j])
                    }
                } }
                for i in 0..<hh * c { dahp[b * hh * c + i] = Float(acc[i]) }
                for i in 0..<ww * c { dawp[b * ww * c + i] = Float(acc[hh * c + i]) }
            }
        }
        let dph = gateBackward(dah, dh), dpw = gateBackward(daw, dw)
        let (dphp, dpwp) = (dph.data, dpw.data)
        Parallel.forEachChunk(count: n * hh, chunk: 1) { r in
            for row in r {
                let b = row / hh
                for w in 0..<ww {
                    let o = (row * ww + w) * c, gh = dphp + row * c, gw = dpwp + (b * ww + w) * c
                    for j in 0..<c { dxp[o + j] += gh[j] / Float(ww) + gw[j] / Float(hh) }
                }
            }
        }
        return dx
    }
}
