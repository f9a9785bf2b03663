/// Bias helpers shared by Linear and Conv2d: a row-major (rows, cols) matrix with one bias per
/// column (NHWC activations and (N, F) features are both such a matrix).

/// `out[r, c] += bias[c]`. Parallel over row chunks (disjoint writes).
/// - Parameters:
///   - out: (rows, cols).
///   - bias: (cols).
func addBiasRows(_ out: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, cols: Int) {
    Parallel.forEachChunk(count: rows, chunk: max(64, Parallel.elementChunk(rows * cols) / max(cols, 1))) { r in
        for row in r { addInPlace(out + row * cols, bias, cols) }
    }
}

/// `dbias[c] += Σ_r dout[r, c]`, summed in row order into a scratch vector, then added.
/// Parallel over column chunks, so each sum has the same order whatever the thread count.
/// - Parameters:
///   - dbias: (cols), accumulated.
///   - dout: (rows, cols).
func addColumnSums(_ dbias: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, rows: Int, cols: Int) {
    let width = 64
    Parallel.forEachChunk(count: (cols + width - 1) / width, chunk: 1) { r in
        for block in r {
            let c0 = block * width, n = min(width, cols - c0)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: width) { sum in
                let s = sum.baseAddress!
                s.update(repeating: 0, count: n)
                for row in 0..<rows { addInPlace(s, dout + row * cols + c0, n) }
                addInPlace(dbias + c0, s, n)
            }
        }
    }
}
