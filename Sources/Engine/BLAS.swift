import CBLAS
import Dispatch

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose { case none, transposed
    @usableFromInline var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// Thin typed wrappers over OpenBLAS.
///
/// OpenBLAS runs single-threaded (the engine's thread count is `EngineContext.threads`); `sgemm` splits a large product into row or column blocks of
/// C whose boundaries depend only on (m, n, k) and runs them with `Parallel`. Measured on the
/// 2-core Zen host: OpenBLAS's own pool spent ~20 % of a training step in `sched_yield` between
/// the many mid-sized GEMMs of a convnet while the engine's loops ran, and it cannot nest inside
/// the engine's parallel loops; with the split, every level of the engine shares one pool.
public enum BLAS {
    /// Pins OpenBLAS to one thread, once per process (the first GEMM does it too).
    @usableFromInline static let configured: Bool = { openblas_set_num_threads(1); return true }()
    @inlinable static func singleThreaded() { _ = configured }

    /// The OpenBLAS kernel family in use (e.g. "Zen", "Haswell"), recorded in run files.
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// OpenBLAS's build configuration (version, DYNAMIC_ARCH, …), for messages.
    public static var configuration: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p).trimmingCharacters(in: .whitespaces)
    }

    /// `C = alpha · op(A) · op(B) + beta · C`, row-major. `op(A)` is m×k, `op(B)` is k×n, C is m×n.
    ///
    /// Large products are split into blocks (see `GEMMSplit`) whose boundaries depend only on
    /// (m, n, k); each block is one single-threaded OpenBLAS call, run with `Parallel`, and split
    /// reductions are added in block order, so the bytes are the same for any thread count.
    public static func sgemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        singleThreaded()
        let plan = GEMMSplit(m: m, n: n, k: k)
        switch plan.axis {
        case .none:
            sgemmSerial(ta, tb, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        case .rows:
            Parallel.forEachChunk(count: m, chunk: plan.block) { r in
                // Rows r of op(A): A's rows (or columns when transposed).
                let aBlock = ta == .none ? a + r.lowerBound * lda : a + r.lowerBound
                sgemmSerial(ta, tb, m: r.count, n: n, k: k, alpha: alpha, a: aBlock, lda: lda, b: b, ldb: ldb,
                            beta: beta, c: c + r.lowerBound * ldc, ldc: ldc)
            }
        case .columns:
            Parallel.forEachChunk(count: n, chunk: plan.block) { r in
                // Columns r of op(B): B's columns (or rows when transposed).
                let bBlock = tb == .none ? b + r.lowerBound : b + r.lowerBound * ldb
                sgemmSerial(ta, tb, m: m, n: r.count, k: k, alpha: alpha, a: a, lda: lda, b: bBlock, ldb: ldb,
                            beta: beta, c: c + r.lowerBound, ldc: ldc)
            }
        case .reduction:
            // Block 0 goes straight into C (with beta); blocks 1… into partials (P−1, m, n), then
            // C += Σ partials in block order.
            let parts = (k + plan.block - 1) / plan.block
            let partial = BufferPool.shared.take((parts - 1) * m * n)
            defer { BufferPool.shared.give(partial, (parts - 1) * m * n) }
            Parallel.forEachChunk(count: k, chunk: plan.block) { r in
                let p = r.lowerBound / plan.block
                let aBlock = ta == .none ? a + r.lowerBound : a + r.lowerBound * lda
                let bBlock = tb == .none ? b + r.lowerBound * ldb : b + r.lowerBound
                if p == 0 {
                    sgemmSerial(ta, tb, m: m, n: n, k: r.count, alpha: alpha, a: aBlock, lda: lda, b: bBlock, ldb: ldb,
                                beta: beta, c: c, ldc: ldc)
                } else {
                    sgemmSerial(ta, tb, m: m, n: n, k: r.count, alpha: alpha, a: aBlock, lda: lda, b: bBlock, ldb: ldb,
                                beta: 0, c: partial + (p - 1) * m * n, ldc: n)
                }
            }
            Parallel.forEachChunk(count: m, chunk: max(1, 16_384 / n)) { rows in
                for i in rows {
                    let ci = c + i * ldc
                    for p in 1..<parts {
                        let src = partial + (p - 1) * m * n + i * n
                        for j in 0..<n { ci[j] += src[j] }
                    }
                }
            }
        }
    }

    /// One OpenBLAS call on the calling thread (`sgemm` without the split).
    @inlinable
    public static func sgemmSerial(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
                                   alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                                   b: UnsafePointer<Float>, ldb: Int,
                                   beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        singleThreaded()
        cblas_sgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Seconds of one plain `cblas_sgemm` on n×n×n with OpenBLAS's OWN threading at `threads`
    /// (the machine's GEMM ceiling, for benchmarks); OpenBLAS is set back to 1 thread after.
    /// - Parameters:
    ///   - a, b: (n, n) operands; c: (n, n) output.
    public static func referenceSgemmSeconds(n: Int, threads: Int, a: UnsafePointer<Float>,
                                             b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) -> Double {
        singleThreaded()
        openblas_set_num_threads(Int32(max(1, threads)))
        defer { openblas_set_num_threads(1) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                    a, Int32(n), b, Int32(n), 0, c, Int32(n))
        return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }

    /// Double-precision GEMM, used by reference kernels in tests.
    @inlinable
    public static func dgemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
                             alpha: Double = 1, a: UnsafePointer<Double>, lda: Int,
                             b: UnsafePointer<Double>, ldb: Int,
                             beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        if m == 0 || n == 0 { return }
        singleThreaded()
        cblas_dgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
