/// The reference KANLinear's initial spline coefficients (c6a179c:KAN_Conv/KANLinear.py
/// `reset_parameters`): uniform noise U(±scale_noise/2/G) at the G+1 knots x_r = −1 + 2r/G of
/// [−1, 1], turned into coefficients by `curve2coeff`, `torch.linalg.lstsq` of the B-spline bases
/// at those knots — an underdetermined system (G+1 equations, G+K unknowns) whose least-squares
/// answer is the minimum-norm interpolant w = Aᵀ (A Aᵀ)⁻¹ noise. Computed here in Double.
public enum BSplineNoiseFit {
    /// A (G+1, G+K): row r holds B_q(x_r), q = 0 … G+K−1, on the knot row
    /// t_j = (j − K)·(2/G) − 1, j = 0 … G+2K (the layer's `grid`).
    public static func basisAtKnots(gridSize g: Int, order k: Int) -> [[Double]] {
        let h = 2 / Double(g), t = (0...(g + 2 * k)).map { Double($0 - k) * h - 1 }
        return (0...g).map { r in
            let v = t[k + r]
            var b = (0..<(t.count - 1)).map { v >= t[$0] && v < t[$0 + 1] ? 1.0 : 0.0 }
            if k >= 1 {
                for d in 1...k {
                    for j in 0..<(t.count - 1 - d) {
                        b[j] = (v - t[j]) / (t[j + d] - t[j]) * b[j] + (t[j + d + 1] - v) / (t[j + d + 1] - t[j + 1]) * b[j + 1]
                    }
                }
            }
            return Array(b.prefix(g + k))
        }
    }

    /// The minimum-norm w (G+K) with A·w = `noise` (G+1 values).
    public static func coefficients(noise: [Double], gridSize g: Int, order k: Int) -> [Double] {
        precondition(noise.count == g + 1, "BSplineNoiseFit: \(noise.count) noise values for grid \(g)")
        let a = basisAtKnots(gridSize: g, order: k), n = g + 1
        // Solve (A Aᵀ) y = noise by Gaussian elimination with partial pivoting, then w = Aᵀ y.
        var m = (0..<n).map { i in (0..<n).map { j in zip(a[i], a[j]).reduce(0) { $0 + $1.0 * $1.1 } } }
        var y = noise
        for c in 0..<n {
            let p = (c..<n).max { abs(m[$0][c]) < abs(m[$1][c]) }!
            m.swapAt(c, p); y.swapAt(c, p)
            for r in (c + 1)..<n where m[r][c] != 0 {
                let f = m[r][c] / m[c][c]
                for j in c..<n { m[r][j] -= f * m[c][j] }
                y[r] -= f * y[c]
            }
        }
        for c in stride(from: n - 1, through: 0, by: -1) {
            y[c] = ((c + 1)..<n).reduce(y[c]) { $0 - m[c][$1] * y[$1] } / m[c][c]
        }
        return (0..<(g + k)).map { q in (0..<n).reduce(0) { $0 + a[$1][q] * y[$1] } }
    }
}
