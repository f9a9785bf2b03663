import XCTest
@testable import Engine
import TestSupport

/// The conv paths under every OpenBLAS core this CPU runs: OpenBLAS reads
/// `OPENBLAS_CORETYPE` once at load, so the parent test runs `testConvPathsMatchDoubleReference`
/// in one child process per core. The shapes are realistic (GEMMs of 64–2048 rows and 64–256
/// channels, the α² ξ-GEMMs in parallel, weight gradients accumulated with beta = 1 over
/// chunks and lanes), and every pass of Winograd F(2×2), F(4×4) and im2col must match the Double
/// reference to float32 rounding on each core.
///
/// Model-level gradients that differ by core (e.g. Winograd on Prescott against Cooperlake) are
/// not a kernel error: these checks find every core correct (max errors 1e-7–3e-6 relative, the
/// same on all cores; F(4×4) with the points 0, ±1, ½, −2 ≤ 3.8e-6 on Cooperlake, within im2col's
/// bound). Such differences are ReLU kinks: see Reports/performance.md, "OpenBLAS cores".
final class WinogradCoreTests: XCTestCase {
    static let childVariable = "RKAN_TEST_BLAS_CORE"

    static let shapes: [Conv2dGeometry] = [
        .init(batch: 4, height: 16, width: 16, inChannels: 64, outChannels: 64, kernel: 3, stride: 1, padding: 1),
        .init(batch: 2, height: 8, width: 8, inChannels: 128, outChannels: 256, kernel: 3, stride: 1, padding: 1),
        .init(batch: 3, height: 9, width: 7, inChannels: 256, outChannels: 64, kernel: 3, stride: 1, padding: 0),
    ]
    static let algorithms: [(ConvAlgorithm, bound: Double)] = [(.winogradF2, 5e-6), (.winogradF4, 5e-6), (.im2col, 5e-6)]

    func testEveryOpenBLASCoreComputesTheConvPathsCorrectly() throws {
        if ChildTest.isChild(Self.childVariable) { return }   // the child runs the check below only
        let cores = BLASCore.allCases.filter { $0.runs(on: .current) }
        XCTAssertTrue(cores.contains(.prescott), "every x86-64 CPU with SSE3 runs Prescott")
        for core in cores {
            let r = try ChildTest.run("EngineTests.WinogradCoreTests/testConvPathsMatchDoubleReference",
                                      env: ["OPENBLAS_CORETYPE": core.rawValue, Self.childVariable: core.rawValue])
            XCTAssertEqual(r.code, 0, "core \(core.rawValue):\n\(ChildTest.failures(r.output))")
            XCTAssertTrue(r.output.contains("Executed 1 test"), "core \(core.rawValue): the child ran no test:\n\(r.output.suffix(2000))")
        }
    }

    /// Forward, input and weight gradients of each algorithm against the Double reference, with
    /// the default chunking and with one image per chunk (≥ 4 chunks: parallel tasks, lanes).
    func testConvPathsMatchDoubleReference() throws {
        if let core = ProcessInfo.processInfo.environment[Self.childVariable], !core.isEmpty {
            XCTAssertEqual(BLAS.coreName.lowercased(), core.lowercased(), "OPENBLAS_CORETYPE=\(core) did not load")
        }
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 2
        for (i, g) in Self.shapes.enumerated() {
            let seed = UInt64(40 + 10 * i)
            let x = testValues(g.inputShape.reduce(1, *), seed: seed).map { Double(Float($0)) }
            let w = testValues(g.outChannels * 9 * g.inChannels, seed: seed + 1).map { Double(Float($0 * 0.2)) }
            let dy = testValues(g.outputShape.reduce(1, *), seed: seed + 2).map { Double(Float($0)) }
            let y = ReferenceConv.conv2dForward(x: x, w: w, b: nil, g)
            let ref = ReferenceConv.conv2dBackward(dy: dy, x: x, w: w, g)
            for (algo, bound) in Self.algorithms { for chunk in [ConvTuning.defaultChunkFloats, 1] { for gemm in WinogradGEMM.allCases {
                let r = try run(g, algo, x: x, w: w, dy: dy, chunk: chunk, gemm: gemm)
                let what = "\(algo.rawValue) N\(g.batch) \(g.height)x\(g.width) \(g.inChannels)→\(g.outChannels) chunk \(chunk) \(gemm) GEMM core \(BLAS.coreName)"
                XCTAssertLessThan(relativeError(r.y, y.map(Float.init)), bound, "y \(what)")
                XCTAssertLessThan(relativeError(r.dx, ref.dx.map(Float.init)), bound, "dx \(what)")
                XCTAssertLessThan(relativeError(r.dw, ref.dw.map(Float.init)), bound, "dw \(what)")
            } } }
        }
    }

    /// y, dx, dw of an unbiased Conv2d with the given weight (OHWI), input and upstream gradient.
    func run(_ g: Conv2dGeometry, _ algo: ConvAlgorithm, x: [Double], w: [Double], dy: [Double],
             chunk: Int, gemm: WinogradGEMM) throws -> (y: [Float], dx: [Float], dw: [Float]) {
        var tuning = ConvTuning(algorithm: algo, chunkFloats: chunk)
        tuning.winogradGEMM = gemm
        let store = ParameterStore(context: EngineContext(threads: 2, conv: tuning))
        let conv = Conv2d(store: store, name: "c", inChannels: g.inChannels, outChannels: g.outChannels,
                          kernel: 3, stride: 1, padding: g.padding, bias: false)
        store.finalize()
        fill(conv.weight.value, w)
        store.grads!.update(repeating: 0, count: store.parameterCount)
        let y = try conv.forward(Tensor(shape: g.inputShape, values: x.map(Float.init)), mode: .train)
        let dx = conv.backward(Tensor(shape: y.shape, values: dy.map(Float.init)))
        return (y.array, dx.array, UnsafeBufferPointer(start: conv.weight.grad, count: conv.weight.count).map { $0 })
    }
}
