// Grouped 1-D convolution along L on channel-innermost sequences (PyTorch `nn.Conv1d`, stride 1,
// zero padding, no bias), for ELA's strip attention. Letters: N batch, L length, C channels
// (in = out), G groups, Cg = C/G channels per group, K kernel taps, P padding (L_out = L).
//     y[n,l,o] = Σ_{j<Cg} Σ_{t<K} w[o,j,t] · x[n, l+t−P, g(o)·Cg + j]

/// Sizes of a grouped same-length Conv1d with C → C channels.
public struct Conv1dGeometry: Equatable {
    public let n, l, c, groups, kernel, padding: Int
    public var groupChannels: Int { c / groups }
    /// thop's count: output elements · Cg · K.
    public var macs: Int { n * l * c * groupChannels * kernel }

    public init(n: Int, l: Int, c: Int, groups: Int, kernel: Int, padding: Int) {
        self.n = n; self.l = l; self.c = c; self.groups = groups; self.kernel = kernel; self.padding = padding
    }
}

/// - Parameters:
///   - out: (N, L, C), overwritten.
///   - inp: (N, L, C).
///   - weight: (C, Cg, K), PyTorch order.
public func conv1dForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                   _ weight: UnsafePointer<Float>, _ g: Conv1dGeometry) {
    let (L, C, Cg, K, P) = (g.l, g.c, g.groupChannels, g.kernel, g.padding)
    Parallel.forEachChunk(count: g.n * L, chunk: max(1, 4096 / max(C * Cg * K, 1))) { r in
        for row in r {
            let (b, l) = (row / L, row % L)
            let y = out + row * C
            for o in 0..<C {
                let wo = weight + o * Cg * K, c0 = (o / Cg) * Cg
                var acc: Float = 0
                for t in 0..<K {
                    let li = l + t - P
                    if li < 0 || li >= L { continue }
                    let xr = inp + (b * L + li) * C + c0
                    for j in 0..<Cg { acc += wo[j * K + t] * xr[j] }
                }
                y[o] = acc
            }
        }
    }
}

/// Gradients of `conv1dForward`. One task per sample, so dW's per-sample partials are summed in
/// sample order (the bytes do not depend on the thread count).
/// - Parameters:
///   - dinp: (N, L, C), overwritten.
///   - dweight: (C, Cg, K), accumulated.
///   - dout: (N, L, C).
///   - inp: (N, L, C), the forward input.
///   - weight: (C, Cg, K).
public func conv1dBackward(_ dinp: UnsafeMutablePointer<Float>, _ dweight: UnsafeMutablePointer<Float>,
                    _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>,
                    _ weight: UnsafePointer<Float>, _ g: Conv1dGeometry) {
    let (L, C, Cg, K, P) = (g.l, g.c, g.groupChannels, g.kernel, g.padding)
    let wCount = C * Cg * K
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: g.n * wCount)   // (N, C, Cg, K)
    defer { partial.deallocate() }
    Parallel.forEachChunk(count: g.n, chunk: 1) { r in
        for b in r {
            let dw = partial + b * wCount
            dw.update(repeating: 0, count: wCount)
            let dx = dinp + b * L * C
            dx.update(repeating: 0, count: L * C)
            for l in 0..<L {
                let dy = dout + (b * L + l) * C
                for o in 0..<C {
                    let gy = dy[o]
                    if gy == 0 { continue }
                    let wo = weight + o * Cg * K, c0 = (o / Cg) * Cg
                    for t in 0..<K {
                        let li = l + t - P
                        if li < 0 || li >= L { continue }
                        let xr = inp + (b * L + li) * C + c0, dxr = dx + li * C + c0
                        for j in 0..<Cg {
                            dw[(o * Cg + j) * K + t] += Double(gy) * Double(xr[j])
                            dxr[j] += gy * wo[j * K + t]
                        }
                    }
                }
            }
        }
    }
    for i in 0..<wCount {
        var s: Double = 0
        for b in 0..<g.n { s += partial[b * wCount + i] }
        dweight[i] += Float(s)
    }
}
