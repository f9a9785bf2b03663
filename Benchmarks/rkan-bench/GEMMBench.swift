import ArgumentParser
import Dispatch
import Foundation
import Engine

/// `rkan-bench sgemm`: the machine's GEMM ceiling, plain `cblas_sgemm` on n³ with OpenBLAS's own
/// threads (n = 1024 and 2048 unless `--sizes` says otherwise), beside the engine's `BLAS.sgemm`
/// (single-threaded OpenBLAS blocks on `Parallel`) on the same product unless `--cblas-only`.
/// Median of repeats; `--json` prints one object per size (`engine_gflops` only when timed).
enum GEMMBench {
    /// `--sizes`: comma-separated n, each in 64...8192.
    static func parseSizes(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let sizes = parts.compactMap { Int($0) }.filter { (64...8192).contains($0) }
        guard !parts.isEmpty, sizes.count == parts.count else {
            throw ValidationError("--sizes \"\(text)\": give comma-separated sizes n of the n³ products, each an integer in 64...8192 (e.g. --sizes 1024,2048)")
        }
        return sizes
    }

    static func run(threads: Int, repeats: Int, sizes: [Int], engine timeEngine: Bool, json: Bool) {
        Parallel.threads = threads
        for n in sizes {
            let a = ConvBench.random(n * n, seed: 4), b = ConvBench.random(n * n, seed: 5), c = Tensor(zeros: [n, n])
            var plain: [Double] = [], engine: [Double] = []
            for r in 0...repeats {   // repeat 0 warms up and is dropped
                let p = BLAS.referenceSgemmSeconds(n: n, threads: threads, a: a.data, b: b.data, c: c.data)
                let e = timeEngine ? ConvBench.seconds {
                    BLAS.sgemm(.none, .none, m: n, n: n, k: n, a: a.data, lda: n, b: b.data, ldb: n, beta: 0, c: c.data, ldc: n)
                } : 0
                if r > 0 { plain.append(p); engine.append(e) }
            }
            let flops = 2 * Double(n * n * n) * 1e-9
            let gp = flops / ConvBench.median(plain)
            let ge: Double? = timeEngine ? flops / ConvBench.median(engine) : nil
            if json {
                let eng = ge.map { ",\"engine_gflops\":\($0)" } ?? ""
                print("{\"n\":\(n),\"threads\":\(threads),\"core\":\"\(BLAS.coreName)\",\"gflops\":\(gp)\(eng)}")
            } else {
                let eng = ge.map { ", engine BLAS.sgemm \(ConvBench.fmt($0, 0)) GFLOP/s" } ?? ""
                print("sgemm \(n)³, \(threads) threads, core \(BLAS.coreName): cblas \(ConvBench.fmt(gp, 0)) GFLOP/s\(eng)")
            }
        }
    }
}
