import Dispatch
import Engine

/// `rkan-bench sgemm`: the machine's GEMM ceiling, plain `cblas_sgemm` on n³ with OpenBLAS's own
/// threads (1024 and 2048), beside the engine's `BLAS.sgemm` (single-threaded OpenBLAS blocks on
/// `Parallel`) on the same product. Median of repeats; `--json` prints one object per size.
enum GEMMBench {
    static func run(threads: Int, repeats: Int, json: Bool) {
        Parallel.threads = threads
        for n in [1024, 2048] {
            let a = ConvBench.random(n * n, seed: 4), b = ConvBench.random(n * n, seed: 5), c = Tensor(zeros: [n, n])
            var plain: [Double] = [], engine: [Double] = []
            for r in 0...repeats {   // repeat 0 warms up and is dropped
                let p = BLAS.referenceSgemmSeconds(n: n, threads: threads, a: a.data, b: b.data, c: c.data)
                let e = ConvBench.seconds {
                    BLAS.sgemm(.none, .none, m: n, n: n, k: n, a: a.data, lda: n, b: b.data, ldb: n, beta: 0, c: c.data, ldc: n)
                }
                if r > 0 { plain.append(p); engine.append(e) }
            }
            let flops = 2 * Double(n * n * n) * 1e-9
            let (gp, ge) = (flops / ConvBench.median(plain), flops / ConvBench.median(engine))
            if json {
                print("{\"n\":\(n),\"threads\":\(threads),\"core\":\"\(BLAS.coreName)\",\"gflops\":\(gp),\"engine_gflops\":\(ge)}")
            } else {
                print("sgemm \(n)³, \(threads) threads, core \(BLAS.coreName): cblas \(ConvBench.fmt(gp, 0)) GFLOP/s, engine BLAS.sgemm \(ConvBench.fmt(ge, 0)) GFLOP/s")
            }
        }
    }
}
