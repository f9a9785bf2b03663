import Dispatch
import Engine

/// `rkan-bench conv`: conv2d forward+backward GFLOP/s on ResNet-18's 3×3 layers (small stem,
/// 32×32 input, batch 64) beside `cblas_sgemm` on 1024³ at the same thread count.
enum ConvBench {
    /// One benchmarked layer and how often ResNet-18 has it.
    struct Row { let name: String; let geometry: Conv2dGeometry; let occurrences: Int }

    static func rows(batch: Int) -> [Row] {
        func g(_ c: Int, _ o: Int, _ size: Int, _ stride: Int) -> Conv2dGeometry {
            Conv2dGeometry(batch: batch, height: size, width: size, inChannels: c, outChannels: o,
                           kernel: 3, stride: stride, padding: 1)
        }
        return [
            Row(name: "64@32²", geometry: g(64, 64, 32, 1), occurrences: 4),
            Row(name: "64→128 s2", geometry: g(64, 128, 32, 2), occurrences: 1),
            Row(name: "128@16²", geometry: g(128, 128, 16, 1), occurrences: 3),
            Row(name: "128→256 s2", geometry: g(128, 256, 16, 2), occurrences: 1),
            Row(name: "256@8²", geometry: g(256, 256, 8, 1), occurrences: 3),
            Row(name: "256→512 s2", geometry: g(256, 512, 8, 2), occurrences: 1),
            Row(name: "512@4²", geometry: g(512, 512, 4, 1), occurrences: 3),
        ]
    }

    static func seconds(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }

    static func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }

    static func random(_ n: Int, seed: UInt64) -> Tensor {
        let t = Tensor(uninitialized: [n])
        let r = Philox(seed: seed, purpose: .benchmark)
        for i in 0..<n { t.data[i] = Float(r.uniform(UInt64(i)) - 0.5) }
        return t
    }

    /// Buffers of one benchmarked layer and its timings.
    final class Bench {
        let g: Conv2dGeometry
        let x, w, dy, y, dx, dw: Tensor
        var forward: [Double] = [], backward: [Double] = []
        init(_ g: Conv2dGeometry) {
            self.g = g
            x = random(g.inputShape.reduce(1, *), seed: 1); w = random(g.weightShape.reduce(1, *), seed: 2)
            dy = random(g.outputShape.reduce(1, *), seed: 3)
            y = Tensor(uninitialized: g.outputShape); dx = Tensor(uninitialized: g.inputShape); dw = Tensor(zeros: g.weightShape)
        }
        func step() {
            forward.append(seconds { conv2dForward(y.data, x.data, w.data, nil, g, tuning: ConvBench.tuning.resolved(for: .trainingForward, g)) })
            backward.append(seconds { conv2dBackward(dx.data, dw.data, nil, dy.data, x.data, w.data, g, tuning: ConvBench.tuning.resolved(for: .backward, g)) })
        }
    }

    /// Seconds of one plain `cblas_sgemm` on n³ with OpenBLAS's own `threads`.
    static func sgemm(_ a: Tensor, _ b: Tensor, _ c: Tensor, n: Int, threads: Int) -> Double {
        BLAS.referenceSgemmSeconds(n: n, threads: threads, a: a.data, b: b.data, c: c.data)
    }

    /// The conv tuning benchmarked: `RKAN_CONV_ALGO` and `RKAN_WINO_GEMM` (set from the environment
    /// by the `conv` command; the forward column is a training-mode forward) and `--chunk`.
    nonisolated(unsafe) static var tuning = ConvTuning()

    static func run(threads: Int, repeats: Int, batch: Int, chunk: Int?) {
        if let chunk { tuning.chunkFloats = chunk }
        Parallel.threads = threads
        print("conv2d forward+backward, ResNet-18 3×3 layers (small stem, 32×32), batch \(batch), \(threads) threads, BLAS core \(BLAS.coreName), median of \(repeats)")
        print("3×3 stride-1 convs: \(tuning.label) (fwd is a training-mode forward; winograd-mixed: F(4×4) only in bwd at ≥ \(Winograd.f4MinOutputPixels) output pixels); GFLOP counts the direct convolution's flops, so Winograd layers can exceed sgemm")
        print("layer        input            GFLOP   fwd ms   bwd ms   fwd GF/s  bwd GF/s  total GF/s")
        // Repeats interleave every layer and the sgemm reference, so both see the same machine load;
        // repeat 0 warms the buffer pool and caches and is dropped.
        let table = rows(batch: batch), benches = table.map { Bench($0.geometry) }
        let n = 1024, a = random(n * n, seed: 4), b = random(n * n, seed: 5), c = Tensor(zeros: [n, n])
        var gemmTimes: [Double] = []
        for r in 0...repeats {
            for bench in benches { bench.step() }
            gemmTimes.append(sgemm(a, b, c, n: n, threads: threads))
            if r == 0 { for bench in benches { bench.forward.removeAll(); bench.backward.removeAll() }; gemmTimes.removeAll() }
        }
        var flops = 0.0, secs = 0.0
        for (row, bench) in zip(table, benches) {
            let g = row.geometry
            let (f, b) = (median(bench.forward), median(bench.backward))
            let macs = Double(g.macs)
            flops += 6 * macs * Double(row.occurrences); secs += (f + b) * Double(row.occurrences)
            print(pad(row.name, 12), pad(shapeString(g.inputShape), 16), fmt(6 * macs * 1e-9, 7), fmt(f * 1e3, 8), fmt(b * 1e3, 8),
                  fmt(2 * macs / f * 1e-9, 9), fmt(4 * macs / b * 1e-9, 9), fmt(6 * macs / (f + b) * 1e-9, 11))
        }
        let conv = flops / secs * 1e-9
        let gemm = 2 * Double(n * n * n) / median(gemmTimes) * 1e-9
        print("conv2d overall (weighted by ResNet-18 occurrences): \(fmt(conv, 0)) GFLOP/s")
        print("cblas_sgemm 1024³:                                 \(fmt(gemm, 0)) GFLOP/s")
        print("ratio conv / sgemm:                                \(fmt(100 * conv / gemm, 0)) %  (target ≥ 60 %)")
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    static func fmt(_ x: Double, _ width: Int) -> String {
        let s = String(Int((x * 10).rounded()) / 10) + "." + String(abs(Int((x * 10).rounded())) % 10)
        return s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
