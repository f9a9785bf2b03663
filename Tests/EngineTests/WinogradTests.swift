import XCTest
@testable import Engine
import TestSupport

/// The Winograd paths of Conv2d, F(2×2, 3×3) and F(4×4, 3×3) (and `winograd-mixed`, the default,
/// which is the one or the other per pass): which convs take them, their three
/// passes against the Double reference (itself checked by finite differences in ConvTests) on
/// every code path (parallel chunks, serial chunks with parallel ξ-GEMMs, partial edge tiles,
/// padding 0/1/2), agreement with the im2col path, and the same bytes for 1 and 2 threads.
///
/// Error bounds (max abs error / max abs reference): both round like im2col, one bound of 2e-6
/// (observed: F(2×2) ≤ 3.3e-7, F(4×4) with the points 0, ±1, ½, −2 ≤ 1.4e-6; Lavin & Gray's
/// 0, ±1, ±2, the points of the former `winograd-f4`, reach 4.8e-6 here and would need 2e-5).
final class WinogradTests: XCTestCase {
    static let cases: [Conv2dGeometry] = [
        .init(batch: 3, height: 7, width: 9, inChannels: 16, outChannels: 24, kernel: 3, stride: 1, padding: 1),
        .init(batch: 2, height: 8, width: 8, inChannels: 24, outChannels: 16, kernel: 3, stride: 1, padding: 0),
        .init(batch: 2, height: 5, width: 6, inChannels: 16, outChannels: 16, kernel: 3, stride: 1, padding: 2),
        .init(batch: 5, height: 1, width: 1, inChannels: 16, outChannels: 32, kernel: 3, stride: 1, padding: 1),
        .init(batch: 4, height: 4, width: 3, inChannels: 32, outChannels: 16, kernel: 3, stride: 1, padding: 1),
    ]

    static func describe(_ g: Conv2dGeometry) -> String {
        "N\(g.batch) \(g.height)x\(g.width) \(g.inChannels)→\(g.outChannels) p\(g.padding)"
    }

    func testEligibility() {
        func g(_ c: Int, _ o: Int, k: Int = 3, s: Int = 1, p: Int = 1, groups: Int = 1) -> Conv2dGeometry {
            .init(batch: 2, height: 8, width: 8, inChannels: c, outChannels: o, kernel: k, stride: s, padding: p, groups: groups)
        }
        XCTAssertTrue(Winograd.isEligible(g(64, 64)))
        XCTAssertTrue(Winograd.isEligible(g(16, 24, p: 0)))
        XCTAssertTrue(Winograd.isEligible(g(16, 24, p: 2)))
        XCTAssertFalse(Winograd.isEligible(g(64, 64, s: 2)), "stride 2")
        XCTAssertFalse(Winograd.isEligible(g(64, 64, groups: 2)), "grouped")
        XCTAssertFalse(Winograd.isEligible(g(64, 64, k: 1, p: 0)), "1×1")
        XCTAssertFalse(Winograd.isEligible(g(3, 64)), "3-channel stem")
        XCTAssertFalse(Winograd.isEligible(g(8, 64)), "fewer than 16 input channels")
        XCTAssertFalse(Winograd.isEligible(g(20, 64)), "channels not a multiple of 8")
        XCTAssertFalse(Winograd.isEligible(g(64, 64, p: 3)), "padding 3")
    }

    /// Runs forward + backward of a biased Conv2d with algorithm `algo`; returns y, dx, dw, db.
    func run(_ g: Conv2dGeometry, _ algo: ConvAlgorithm, seed: UInt64,
             chunk: Int = ConvTuning.defaultChunkFloats, gemm: WinogradGEMM = .openblas) throws -> [[Float]] {
        var tuning = ConvTuning(algorithm: algo, chunkFloats: chunk)
        tuning.winogradGEMM = gemm
        let store = ParameterStore(context: EngineContext(threads: Parallel.threads, conv: tuning))
        let conv = Conv2d(store: store, name: "c", inChannels: g.inChannels, outChannels: g.outChannels,
                          kernel: 3, stride: 1, padding: g.padding, bias: true)
        store.finalize()
        store.initialize(seed: seed)
        fill(conv.bias!.value, testValues(g.outChannels, seed: seed + 5).map(Float.init).map(Double.init))
        store.grads!.update(repeating: 0, count: store.parameterCount)
        let x = Tensor(shape: g.inputShape, values: testValues(g.inputShape.reduce(1, *), seed: seed + 1).map(Float.init))
        let y = try conv.forward(x, mode: .train)
        let dy = Tensor(shape: y.shape, values: testValues(y.count, seed: seed + 2).map(Float.init))
        let dx = conv.backward(dy)
        return [y.array, dx.array, UnsafeBufferPointer(start: conv.weight.grad, count: conv.weight.count).map { $0 },
                UnsafeBufferPointer(start: conv.bias!.grad, count: g.outChannels).map { $0 },
                UnsafeBufferPointer(start: conv.weight.value, count: conv.weight.count).map { $0 }]
    }

    /// All three passes equal the Double reference within float32 rounding, with the default
    /// chunking (one or few chunks: ξ-parallel GEMMs) and with tiny chunks (≥ 4 chunks: tasks and lanes).
    static let algorithms: [(ConvAlgorithm, bound: Double)] = [(.winogradF2, 2e-6), (.winogradF4, 2e-6)]

    func testMatchesDoubleReference() throws {
        try checkAgainstDoubleReference(gemm: .openblas)
    }

    /// The same with the own GEMM of the forward and input-gradient products
    /// (`WinogradGEMM.own`), which must also compute other bytes than OpenBLAS somewhere (or the
    /// switch would be a no-op).
    func testOwnGEMMMatchesDoubleReference() throws {
        try checkAgainstDoubleReference(gemm: .own)
        var anyDifferent = false
        for (algo, _) in Self.algorithms {
            for (i, g) in Self.cases.enumerated() {
                let a = try run(g, algo, seed: UInt64(700 + i), gemm: .own), b = try run(g, algo, seed: UInt64(700 + i))
                anyDifferent = anyDifferent || a[0] != b[0] || a[1] != b[1]
                XCTAssertEqual(a[2], b[2], "dw keeps OpenBLAS: \(algo.rawValue) \(Self.describe(g))")
            }
        }
        XCTAssertTrue(anyDifferent, "RKAN_WINO_GEMM=own computed OpenBLAS's bytes in every case")
    }

    /// With the own GEMM the forward and input gradient run over blocks of tiles of the whole batch
    /// (`Winograd.convolveBlocked`) once the batch has 4 blocks: any block size, and the chunked
    /// path below that, give the same bytes (each element is one FMA chain over the channels), and
    /// they match the Double reference. Partial edge tiles, blocks straddling images, a last block
    /// shorter than the rest, 1 and 2 threads; the blocked path is taken for every block size but the last.
    func testOwnGEMMBlocksKeepTheBytes() throws {
        let g = Conv2dGeometry(batch: 5, height: 15, width: 13, inChannels: 16, outChannels: 24, kernel: 3, stride: 1, padding: 1)
        let x = testValues(g.inputShape.reduce(1, *), seed: 41).map(Float.init)
        let w = testValues(g.outChannels * 9 * g.inChannels, seed: 42).map { Float($0 * 0.2) }
        let b = testValues(g.outChannels, seed: 43).map(Float.init)
        let dy = testValues(g.outputShape.reduce(1, *), seed: 44).map(Float.init)
        let yRef = ReferenceConv.conv2dForward(x: x.map(Double.init), w: w.map(Double.init), b: b.map(Double.init), g)
        let dxRef = ReferenceConv.conv2dBackward(dy: dy.map(Double.init), x: x.map(Double.init), w: w.map(Double.init), g).dx
        for algo in [ConvAlgorithm.winogradF2, .winogradF4] {
            let m = algo.tile!
            let tiles = g.batch * ((g.outHeight + m - 1) / m) * ((g.outWidth + m - 1) / m)
            var first: [[Float]]?
            for block in [6, 12, 18, 1_000_000] { for threads in [1, 2] {
                XCTAssertEqual(tiles >= 4 * block, block != 1_000_000,
                               "\(algo.rawValue): \(tiles) tiles, block \(block) takes the blocked path")
                var y = [Float](repeating: .nan, count: g.outputShape.reduce(1, *))
                var dx = [Float](repeating: .nan, count: x.count)
                Parallel.withThreads(threads) {
                    w.withUnsafeBufferPointer { wp in
                        Winograd.forward(&y, x, wp.baseAddress!, b, g, m: m, chunkFloats: ConvTuning.defaultChunkFloats,
                                         gemm: .own, block: block)
                        Winograd.backward(&dx, nil, dy, x, wp.baseAddress!, g, m: m, chunkFloats: ConvTuning.defaultChunkFloats,
                                          gemm: .own, block: block)
                    }
                }
                let what = "\(algo.rawValue) block \(block), \(threads) threads"
                XCTAssertLessThan(relativeError(y, yRef.map(Float.init)), 2e-6, "y \(what)")
                XCTAssertLessThan(relativeError(dx, dxRef.map(Float.init)), 2e-6, "dx \(what)")
                if let first { XCTAssertEqual([y, dx], first, "\(what) against block 6, 1 thread") } else { first = [y, dx] }
            } }
        }
    }

    func checkAgainstDoubleReference(gemm: WinogradGEMM) throws {
        for (algo, bound) in Self.algorithms { for chunk in [ConvTuning.defaultChunkFloats, 1] {
            for (i, g) in Self.cases.enumerated() {
                XCTAssertTrue(Winograd.isEligible(g))
                let what = "\(algo.rawValue) " + Self.describe(g) + " chunkFloats \(chunk) GEMM \(gemm.rawValue)"
                let s = Winograd.Shape(batch: g.batch, height: g.height, width: g.width, inC: g.inChannels,
                                       outC: g.outChannels, pad: g.padding, m: algo.tile!, chunkFloats: chunk)
                if chunk == 1 { XCTAssertEqual(s.chunks, g.batch, what) }
                let r = try run(g, algo, seed: UInt64(300 + 10 * i), chunk: chunk, gemm: gemm)
                let (x, w) = (testValues(g.inputShape.reduce(1, *), seed: UInt64(301 + 10 * i)).map { Double(Float($0)) },
                              r[4].map(Double.init))
                let b = testValues(g.outChannels, seed: UInt64(305 + 10 * i)).map { Double(Float($0)) }
                let dy = testValues(g.outputShape.reduce(1, *), seed: UInt64(302 + 10 * i)).map { Double(Float($0)) }
                let yRef = ReferenceConv.conv2dForward(x: x, w: w, b: b, g)
                let ref = ReferenceConv.conv2dBackward(dy: dy, x: x, w: w, g)
                XCTAssertLessThan(relativeError(r[0], yRef.map(Float.init)), bound, "y \(what)")
                XCTAssertLessThan(relativeError(r[1], ref.dx.map(Float.init)), bound, "dx \(what)")
                XCTAssertLessThan(relativeError(r[2], ref.dw.map(Float.init)), bound, "dw \(what)")
                XCTAssertLessThan(relativeError(r[3], ref.db.map(Float.init)), 2e-6, "db \(what)")
            }
        } }
    }

    /// The Winograd and im2col paths agree to float32 rounding, and are not the same code path
    /// (their bytes differ somewhere, or the switch would be a no-op).
    func testAgreesWithIm2colPath() throws {
        for (algo, bound) in Self.algorithms {
            var anyDifferent = false
            for (i, g) in Self.cases.enumerated() {
                let a = try run(g, algo, seed: UInt64(500 + i)), b = try run(g, .im2col, seed: UInt64(500 + i))
                for (k, name) in ["y", "dx", "dw", "db"].enumerated() {
                    XCTAssertLessThan(relativeError(a[k], b[k]), bound, "\(algo.rawValue) \(name) \(Self.describe(g))")
                    anyDifferent = anyDifferent || a[k] != b[k]
                }
            }
            XCTAssertTrue(anyDifferent, "RKAN_CONV_ALGO=\(algo.rawValue) computed the same bytes as im2col")
        }
    }

    /// `winograd-mixed` (the default) is F(2×2) in the training-mode forward and, below 16×16
    /// output pixels, everywhere; F(4×4) in the inference forward and both gradients of larger
    /// outputs: the same bytes as those algorithms alone, pass by pass, and the two single
    /// algorithms differ on these shapes (or the check could not fail).
    func testMixedPicksF2OrF4PerPassAndOutputSize() throws {
        XCTAssertEqual(ConvAlgorithm.standard, .winogradMixed)
        XCTAssertEqual(Winograd.f4MinOutputPixels, 256)
        let large = [Conv2dGeometry(batch: 2, height: 16, width: 17, inChannels: 16, outChannels: 16, kernel: 3, stride: 1, padding: 1),
                     Conv2dGeometry(batch: 1, height: 18, width: 18, inChannels: 16, outChannels: 24, kernel: 3, stride: 1, padding: 0)]
        let small = Self.cases + [Conv2dGeometry(batch: 2, height: 15, width: 17, inChannels: 16, outChannels: 16, kernel: 3, stride: 1, padding: 1)]
        for g in large + small {
            let big = g.outHeight * g.outWidth >= 256
            XCTAssertEqual(big, large.contains { $0 == g }, Self.describe(g))
            XCTAssertEqual(ConvAlgorithm.winogradMixed.resolved(for: .trainingForward, g), .winogradF2)
            XCTAssertEqual(ConvAlgorithm.winogradMixed.resolved(for: .inferenceForward, g), big ? .winogradF4 : .winogradF2)
            XCTAssertEqual(ConvAlgorithm.winogradMixed.resolved(for: .backward, g), big ? .winogradF4 : .winogradF2)
            for a in [ConvAlgorithm.winogradF2, .winogradF4, .im2col] {
                for stage in [ConvStage.trainingForward, .inferenceForward, .backward] { XCTAssertEqual(a.resolved(for: stage, g), a) }
            }
        }
        /// The eval-mode output of a Conv2d with `algo` on the weights `run` draws for `seed`.
        func evalOutput(_ g: Conv2dGeometry, _ algo: ConvAlgorithm, seed: UInt64) throws -> [Float] {
            let store = ParameterStore(context: EngineContext(threads: Parallel.threads, conv: ConvTuning(algorithm: algo)))
            let conv = Conv2d(store: store, name: "c", inChannels: g.inChannels, outChannels: g.outChannels,
                              kernel: 3, stride: 1, padding: g.padding, bias: false)
            store.finalize()
            store.initialize(seed: seed)
            let x = Tensor(shape: g.inputShape, values: testValues(g.inputShape.reduce(1, *), seed: seed + 1).map(Float.init))
            return try conv.forward(x, mode: .eval).array
        }
        var f2DiffersFromF4 = [false, false, false, false]
        for (i, g) in (large + small).enumerated() {
            let seed = UInt64(1100 + 10 * i), what = Self.describe(g), big = large.contains { $0 == g }
            let mixed = try run(g, .winogradMixed, seed: seed), f2 = try run(g, .winogradF2, seed: seed), f4 = try run(g, .winogradF4, seed: seed)
            let other = big ? f4 : f2
            XCTAssertEqual(mixed[0], f2[0], "training-mode forward of winograd-mixed is F(2×2): \(what)")
            XCTAssertEqual(mixed[1], other[1], "input gradient of winograd-mixed: \(what)")
            XCTAssertEqual(mixed[2], other[2], "weight gradient of winograd-mixed: \(what)")
            let (em, e2, e4) = (try evalOutput(g, .winogradMixed, seed: seed), try evalOutput(g, .winogradF2, seed: seed),
                                try evalOutput(g, .winogradF4, seed: seed))
            XCTAssertEqual(em, big ? e4 : e2, "inference forward of winograd-mixed: \(what)")
            if big {
                for (k, differs) in [f2[0] != f4[0], f2[1] != f4[1], f2[2] != f4[2], e2 != e4].enumerated() where differs {
                    f2DiffersFromF4[k] = true
                }
            }
        }
        XCTAssertEqual(f2DiffersFromF4, [true, true, true, true], "F(2×2) and F(4×4) gave the same bytes in some pass (y, dx, dw, eval y) of the large shapes")
    }

    /// `RKAN_CONV_ALGO` accepts the four names and rejects anything else with a message; the
    /// replaced `winograd-f4` gets one that says what replaced it.
    func testEnvironmentVariable() throws {
        XCTAssertNil(try ConvAlgorithm.fromEnvironment([:]))
        XCTAssertNil(try ConvAlgorithm.fromEnvironment(["RKAN_CONV_ALGO": ""]))
        for a in ConvAlgorithm.allCases { XCTAssertEqual(try ConvAlgorithm.fromEnvironment(["RKAN_CONV_ALGO": a.rawValue]), a) }
        XCTAssertThrowsError(try ConvAlgorithm.fromEnvironment(["RKAN_CONV_ALGO": "winograd"])) { e in
            XCTAssertTrue("\(e)".contains("RKAN_CONV_ALGO") && "\(e)".contains("winograd-f4a, winograd-f2, im2col"), "\(e)")
        }
        XCTAssertThrowsError(try ConvAlgorithm.fromEnvironment(["RKAN_CONV_ALGO": "winograd-f4"])) { e in
            XCTAssertTrue("\(e)".contains("replaced by winograd-f4a") && "\(e)".contains("cannot be resumed"), "\(e)")
        }
    }

    /// 1 and 2 threads give the same bytes on both parallel structures.
    func testDeterministicAcrossThreadCounts() throws {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for (algo, _) in Self.algorithms { for chunk in [ConvTuning.defaultChunkFloats, 3_000] {
            for (i, g) in Self.cases.enumerated() {
                var runs: [[[Float]]] = []
                for threads in [1, 2] {
                    Parallel.threads = threads
                    runs.append(try run(g, algo, seed: UInt64(700 + i), chunk: chunk))
                }
                XCTAssertEqual(runs[0], runs[1], "\(algo.rawValue) \(Self.describe(g)) chunkFloats \(chunk): 1 and 2 threads differ")
            }
        } }
    }

    /// The planes of the transform domain are one 64-byte line past a multiple of 4 KiB apart (so
    /// the α² addresses a transform touches together fall in different cache sets), with the
    /// least padding that does it.
    func testPlaneStrideSpreadsPlanesOverCacheSets() {
        for floats in [1, 15, 16, 17, 1000, 1008, 1024, 1040, 1041, 4096, 65_536, 36 * 16 * 64, 262_144, 1_000_003] {
            let p = Winograd.planeStride(floats)
            XCTAssertGreaterThanOrEqual(p, floats, "\(floats)")
            XCTAssertLessThan(p - floats, 1024, "\(floats): more padding than one 4 KiB period")
            XCTAssertEqual(p % 1024, 16, "\(floats): stride \(p) floats is not 64 bytes past a multiple of 4 KiB")
            let sets = Set((0..<36).map { ($0 * p * 4 / 64) % 64 })   // 64-byte lines of a 64-set L1
            XCTAssertEqual(sets.count, 36, "\(floats): 36 planes share L1 sets")
        }
    }

    /// An empty batch writes nothing and adds nothing to the weight gradient, like im2col.
    func testEmptyBatch() throws {
        let g = Conv2dGeometry(batch: 0, height: 6, width: 6, inChannels: 16, outChannels: 16, kernel: 3, padding: 1)
        for (algo, _) in Self.algorithms + [(.im2col, 0)] {
            let r = try run(g, algo, seed: 1)
            XCTAssertEqual(r[0].count, 0)
            XCTAssertEqual(r[2], [Float](repeating: 0, count: 16 * 16 * 9), "\(algo.rawValue): dW of an empty batch")
        }
    }

    /// Every build of the tile and weight transforms this CPU runs (SSE2, AVX2, AVX-512, and the
    /// AVX-512 build's 16-float code on AVX2) gives the same bytes (same operations in the same
    /// order), so a run's digest does not depend on which one the CPU gets. The cases have 16, 24
    /// (a 16-channel block and an 8-channel one in the 16-float code) and 32 channels, partial edge
    /// tiles and all three passes.
    func testEveryKernelBuildGivesTheSameBytes() throws {
        let f = CPUFeatures.current
        XCTAssertEqual(KernelBuild.supported, f.contains(.avx512) ? .avx512 : f.contains(.avx2) ? .avx2 : .sse2,
                       "CKernels runs the widest build CPUFeatures reports")
        for (algo, _) in Self.algorithms {
            for (i, g) in Self.cases.enumerated() {
                var first: [[Float]]?, variants = 0
                try forEachKernelBuild { build in
                    variants += 1
                    let r = try run(g, algo, seed: UInt64(900 + i))
                    if let first { XCTAssertEqual(r, first, "\(algo.rawValue) \(Self.describe(g)): \(build) against SSE2") } else { first = r }
                }
                XCTAssertEqual(variants, KernelBuild.runnable.count + (KernelBuild.supported >= .avx2 ? 1 : 0))
            }
        }
    }
}
