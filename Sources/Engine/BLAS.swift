import CBLAS

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose { case none, transposed
    @usableFromInline var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// Thin typed wrappers over OpenBLAS.
public enum BLAS {
    /// Sets OpenBLAS's thread count and the engine's own loop threads.
    public static func setThreads(_ n: Int) {
        let n = max(1, n)
        openblas_set_num_threads(Int32(n))
        Parallel.threads = n
    }

    /// The OpenBLAS kernel family in use (e.g. "Zen", "Haswell"), recorded in run files.
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// `C = alpha · op(A) · op(B) + beta · C`, row-major. `op(A)` is m×k, `op(B)` is k×n, C is m×n.
    @inlinable
    public static func sgemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Double-precision GEMM, used by reference kernels in tests.
    @inlinable
    public static func dgemm(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int,
                             alpha: Double = 1, a: UnsafePointer<Double>, lda: Int,
                             b: UnsafePointer<Double>, ldb: Int,
                             beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_dgemm(CblasRowMajor, ta.cblas, tb.cblas, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
