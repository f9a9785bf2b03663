import CKernels

// Elementwise ops with two inputs, as free functions (they are not Layers: the caller owns the
// graph): residual add, squeeze-excitation channel multiply, channel concat and split.
// Layout letters: N batch, H height, W width, C channels (NHWC, channel innermost).

/// `y = a + b` for tensors of the same shape (residual connections). Backward is the identity
/// for both inputs: pass dy on, or `accumulate(into:_:)` it where a gradient already exists.
/// - Parameters:
///   - a: any shape.
///   - b: same shape as `a`.
/// - Returns: a new tensor `a + b`.
/// - Throws: `EngineError.shapeMismatch` (op "add") when the shapes differ.
public func addForward(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    guard a.shape == b.shape else {
        throw EngineError.shapeMismatch(op: "add", detail: "a \(shapeString(a.shape)) vs b \(shapeString(b.shape))")
    }
    let y = Tensor(uninitialized: a.shape)
    let (pa, pb, py) = (a.data, b.data, y.data)
    Parallel.forEachChunk(count: a.count, chunk: Parallel.elementChunk(a.count)) { r in
        let o = r.lowerBound
        rkan_add(py + o, pa + o, pb + o, r.count)
    }
    return y
}

/// `into += g`, elementwise (gradient accumulation where a tensor feeds two consumers).
/// - Parameters:
///   - into: any shape; updated in place.
///   - g: same element count as `into`.
public func accumulate(into: Tensor, _ g: Tensor) {
    precondition(into.count == g.count, "accumulate: into \(shapeString(into.shape)) vs g \(shapeString(g.shape))")
    let (pd, pg) = (into.data, g.data)
    Parallel.forEachChunk(count: g.count, chunk: Parallel.elementChunk(g.count)) { r in
        let o = r.lowerBound
        rkan_add(pd + o, pd + o, pg + o, r.count)
    }
}

/// Checks x (N,H,W,C) and s (N,C) or (N,1,1,C); returns (N, H·W, C).
private func channelMulDims(_ x: Tensor, _ s: Tensor) throws -> (n: Int, hw: Int, c: Int) {
    guard x.rank == 4 else {
        throw EngineError.shapeMismatch(op: "channelMul", detail: "x must be (N, H, W, C), got x \(shapeString(x.shape)), s \(shapeString(s.shape))")
    }
    let (n, c) = (x.shape[0], x.shape[3])
    guard s.shape == [n, c] || s.shape == [n, 1, 1, c] else {
        throw EngineError.shapeMismatch(op: "channelMul", detail: "s must be (N, C) = \(shapeString([n, c])) for x \(shapeString(x.shape)), got s \(shapeString(s.shape))")
    }
    return (n, x.shape[1] * x.shape[2], c)
}

/// Squeeze-excitation scaling `y[n,h,w,c] = x[n,h,w,c] · s[n,c]`.
/// - Parameters:
///   - x: (N, H, W, C).
///   - s: (N, C) (or (N, 1, 1, C)), the per-sample channel scales.
/// - Returns: (N, H, W, C).
/// - Throws: `EngineError.shapeMismatch` (op "channelMul") naming both shapes.
public func channelMulForward(_ x: Tensor, _ s: Tensor) throws -> Tensor {
    let (n, hw, c) = try channelMulDims(x, s)
    let y = Tensor(uninitialized: x.shape)
    let (px, ps, py) = (x.data, s.data, y.data)
    let rows = n * hw
    Parallel.forEachChunk(count: rows, chunk: max(1, 16_384 / max(c, 1))) { r in
        for row in r {
            let sv = ps + (row / hw) * c, xr = px + row * c, yr = py + row * c
            for j in 0..<c { yr[j] = xr[j] * sv[j] }
        }
    }
    return y
}

/// Backward of `channelMulForward`: `dx = dy · s`, `ds[n,c] = Σ_hw dy · x` (summed in Double,
/// one sample per task, so the bytes do not depend on the thread count).
/// - Parameters:
///   - dy: (N, H, W, C).
///   - x: (N, H, W, C), the forward input.
///   - s: (N, C) or (N, 1, 1, C), the forward scales.
/// - Returns: dx (N, H, W, C) and ds (shape of `s`).
public func channelMulBackward(dy: Tensor, x: Tensor, s: Tensor) -> (dx: Tensor, ds: Tensor) {
    guard let (n, hw, c) = try? channelMulDims(x, s) else {
        preconditionFailure("channelMulBackward: x \(shapeString(x.shape)), s \(shapeString(s.shape))")
    }
    precondition(dy.shape == x.shape, "channelMulBackward: dy \(shapeString(dy.shape)) vs x \(shapeString(x.shape))")
    let dx = Tensor(uninitialized: x.shape), ds = Tensor(uninitialized: s.shape)
    let (pdy, px, ps, pdx, pds) = (dy.data, x.data, s.data, dx.data, ds.data)
    Parallel.forEachChunk(count: n, chunk: 1) { r in
        let acc = UnsafeMutablePointer<Double>.allocate(capacity: max(c, 1))   // (C)
        defer { acc.deallocate() }
        for b in r {
            acc.update(repeating: 0, count: c)
            let sv = ps + b * c
            for p in 0..<hw {
                let o = (b * hw + p) * c
                for j in 0..<c {
                    let g = pdy[o + j]
                    pdx[o + j] = g * sv[j]
                    acc[j] += Double(g) * Double(px[o + j])
                }
            }
            for j in 0..<c { pds[b * c + j] = Float(acc[j]) }
        }
    }
    return (dx, ds)
}

/// Concatenates tensors along the last (channel) dimension: NHWC (N,H,W,C_k) → (N,H,W,ΣC_k);
/// any rank works as long as all leading dimensions agree.
/// - Parameter xs: at least one tensor; equal shapes except the last dimension.
/// - Returns: the concatenation.
/// - Throws: `EngineError.shapeMismatch` (op "concatChannels") naming every shape.
public func concatChannels(_ xs: [Tensor]) throws -> Tensor {
    guard let first = xs.first, first.rank >= 1 else {
        throw EngineError.invalidArgument(op: "concatChannels", detail: "needs at least one tensor of rank ≥ 1, got \(xs.map { shapeString($0.shape) })")
    }
    let lead = Array(first.shape.dropLast())
    guard xs.allSatisfy({ $0.rank == first.rank && Array($0.shape.dropLast()) == lead }) else {
        throw EngineError.shapeMismatch(op: "concatChannels", detail: "leading dimensions differ: \(xs.map { shapeString($0.shape) }.joined(separator: ", "))")
    }
    let widths = xs.map { $0.shape.last! }
    let total = widths.reduce(0, +)
    let rows = lead.reduce(1, *)
    let y = Tensor(uninitialized: lead + [total])
    let py = y.data
    var offset = 0
    for (t, cw) in zip(xs, widths) {
        let (src, off) = (t.data, offset)
        Parallel.forEachChunk(count: rows, chunk: max(1, 16_384 / max(cw, 1))) { r in
            for row in r { (py + row * total + off).update(from: src + row * cw, count: cw) }
        }
        offset += cw
    }
    return y
}

/// Backward of `concatChannels`: splits dy's last dimension into pieces of `sizes`.
/// - Parameters:
///   - dy: (..., Σ sizes).
///   - sizes: channel count of each piece, in order.
/// - Returns: one tensor (..., sizes[k]) per piece.
public func splitChannels(_ dy: Tensor, sizes: [Int]) -> [Tensor] {
    precondition(dy.rank >= 1 && sizes.reduce(0, +) == dy.shape.last!,
                 "splitChannels: sizes \(sizes) do not add up to the last dimension of \(shapeString(dy.shape))")
    let lead = Array(dy.shape.dropLast())
    let rows = lead.reduce(1, *), total = dy.shape.last!
    var offset = 0
    var out: [Tensor] = []
    for cw in sizes {
        let t = Tensor(uninitialized: lead + [cw])
        let (dst, src) = (t.data, dy.data + offset)
        Parallel.forEachChunk(count: rows, chunk: max(1, 16_384 / max(cw, 1))) { r in
            for row in r { (dst + row * cw).update(from: src + row * total, count: cw) }
        }
        out.append(t)
        offset += cw
    }
    return out
}
