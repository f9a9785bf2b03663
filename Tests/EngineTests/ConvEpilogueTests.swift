import XCTest
import Engine
import TestSupport

/// `Conv2d.forward(_:mode:then:)`: an eval-mode BatchNorm (+ residual add, ReLU) applied as the conv
/// writes its output must give the bytes of the separate layers, on every path the conv can take
/// (Winograd F(2×2) and F(4×4) output transforms, 1×1 GEMM, im2col in parallel chunks and in
/// serial chunks), with and without a conv bias, and through `Sequential`'s Conv → BN → ReLU; in
/// every build of the C kernels this CPU runs (`KernelBuild`), all with the same bytes.
final class ConvEpilogueTests: XCTestCase {
    private var stores: [ParameterStore] = []

    /// A conv and a BN with non-trivial γ, β and running statistics.
    private func make(_ g: Conv2dGeometry, bias: Bool, chunk: Int, seed: UInt64,
                      gemm: WinogradGEMM = .standard) -> (Conv2d, BatchNorm2d, ReLU) {
        var tuning = ConvTuning(chunkFloats: chunk)
        tuning.winogradGEMM = gemm
        let store = ParameterStore(context: EngineContext(threads: 2, conv: tuning))
        let conv = Conv2d(store: store, name: "conv", inChannels: g.inChannels, outChannels: g.outChannels, kernel: g.kernel,
                          stride: g.stride, padding: g.padding, groups: g.groups, bias: bias)
        let bn = BatchNorm2d(store: store, name: "bn", channels: g.outChannels)
        store.finalize()
        store.initialize(seed: seed)
        stores.append(store)
        let c = g.outChannels
        bn.weight.setTorchValues(testValues(c, seed: seed + 1).map { Float($0 + 1) })
        bn.bias.setTorchValues(testValues(c, seed: seed + 2).map { Float($0) })
        bn.runningMean.setTorchValues(testValues(c, seed: seed + 3).map { Float($0 * 0.3) })
        bn.runningVar.setTorchValues(testValues(c, seed: seed + 4).map { Float($0 * $0 + 0.5) })
        return (conv, bn, ReLU())
    }

    func testEpilogueHasTheBytesOfTheSeparateLayersOnEveryPath() throws {
        // (geometry, chunk floats, path)
        let cases: [(Conv2dGeometry, Int, String)] = [
            (.init(batch: 2, height: 16, width: 16, inChannels: 16, outChannels: 24, kernel: 3, stride: 1, padding: 1), 1 << 20, "Winograd F(4×4)"),
            (.init(batch: 3, height: 7, width: 9, inChannels: 16, outChannels: 16, kernel: 3, stride: 1, padding: 1), 1 << 20, "Winograd F(2×2), odd sizes"),
            (.init(batch: 2, height: 6, width: 5, inChannels: 12, outChannels: 20, kernel: 1), 1 << 20, "1×1 GEMM"),
            (.init(batch: 5, height: 9, width: 9, inChannels: 3, outChannels: 8, kernel: 7, stride: 2, padding: 3), 600, "im2col, parallel chunks"),
            (.init(batch: 2, height: 9, width: 9, inChannels: 8, outChannels: 8, kernel: 3, stride: 2, padding: 1, groups: 2), 1 << 20, "im2col, serial chunks, groups"),
        ]
        // Both Winograd GEMMs: the own one (the default on AVX2 + FMA) writes the output once per
        // block of tiles, OpenBLAS's per chunk of images.
        for gemm in WinogradGEMM.allCases { for (k, (g, chunk, path)) in cases.enumerated() {
            for bias in [false, true] {
                for (adding, relu) in [(false, false), (false, true), (true, true), (true, false)] {
                    let what = "\(path), \(gemm) GEMM, bias \(bias), residual \(adding), relu \(relu)"
                    let (conv, bn, reluLayer) = make(g, bias: bias, chunk: chunk, seed: UInt64(100 * k + 7), gemm: gemm)
                    var xv = testValues(g.inputShape.reduce(1, *), seed: UInt64(k + 50)).map { Float($0 * 2) }
                    xv[3] = -0.0
                    let x = Tensor(shape: g.inputShape, values: xv)
                    var rv = testValues(g.outputShape.reduce(1, *), seed: UInt64(k + 60)).map { Float($0) }
                    rv[1] = .nan; rv[2] = -.infinity
                    let residual = Tensor(shape: g.outputShape, values: rv)
                    var first: [Float]?
                    try forEachKernelBuild { build in   // every build of the C kernels, the same bytes
                        var expected = try bn.forward(conv.forward(x, mode: .eval), mode: .eval)
                        if adding { expected = try addForward(expected, residual) }
                        if relu { expected = try reluLayer.forward(expected, mode: .eval) }
                        let got = try conv.forward(x, mode: .eval, then: bn.epilogue(adding: adding ? residual : nil, relu: relu))
                        XCTAssertEqual(got.shape, expected.shape, what)
                        assertSameBytes(got.array, expected.array, "\(what), \(build) build")
                        if relu { XCTAssertTrue(got.array.contains(0) && got.array.contains { $0 > 0 }, "\(what): ReLU clipped some values") }
                        if let f = first { assertSameBytes(got.array, f, "\(what): \(build) build against SSE2") } else { first = got.array }
                    }
                }
            }
        } }
    }

    func testSequentialRunsConvBNReLUAsOneEvalPass() throws {
        let g = Conv2dGeometry(batch: 2, height: 16, width: 16, inChannels: 16, outChannels: 16, kernel: 3, stride: 1, padding: 1)
        let (conv, bn, relu) = make(g, bias: false, chunk: 1 << 20, seed: 9)
        let x = Tensor(shape: g.inputShape, values: testValues(g.inputShape.reduce(1, *), seed: 10).map { Float($0) })
        let expected = try relu.forward(bn.forward(conv.forward(x, mode: .eval), mode: .eval), mode: .eval)
        let y = try Sequential([conv, bn, relu, Sequential([])]).forward(x, mode: .eval)
        assertSameBytes(y.array, expected.array, "Sequential conv → bn → relu")
        let noRelu = try Sequential([conv, bn]).forward(x, mode: .eval)
        assertSameBytes(noRelu.array, try bn.forward(conv.forward(x, mode: .eval), mode: .eval).array, "Sequential conv → bn")
    }

    func testEpilogueErrorsNameTheProblem() {
        let g = Conv2dGeometry(batch: 1, height: 4, width: 4, inChannels: 8, outChannels: 8, kernel: 3, stride: 1, padding: 1)
        let (conv, bn, _) = make(g, bias: false, chunk: 1 << 20, seed: 3)
        let x = Tensor(zeros: g.inputShape)
        assertThrowsMessage(["epilogue", "eval"]) { _ = try conv.forward(x, mode: .train, then: bn.epilogue(relu: true)) }
        assertThrowsMessage(["add", "[1, 4, 4, 8]", "[1, 4, 2, 8]"]) {
            _ = try conv.forward(x, mode: .eval, then: bn.epilogue(adding: Tensor(zeros: [1, 4, 2, 8]), relu: true))
        }
    }
}
