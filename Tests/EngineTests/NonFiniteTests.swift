import XCTest
@testable import Engine
import TestSupport

/// NaN and ±∞ go through every op as through PyTorch's: NaN is never turned into a finite
/// number (ReLU, its backward rule, the fused BN epilogue, max pooling, the Chebyshev KAN's
/// tanh), so a NaN anywhere upstream reaches the loss and the divergence checks see it.
final class NonFiniteTests: XCTestCase {
    private var stores: [ParameterStore] = []

    private func store(_ context: EngineContext = EngineContext(), _ make: (ParameterStore) -> Layer) -> Layer {
        let s = ParameterStore(context: context)
        let layer = make(s)
        s.finalize()
        s.initialize(seed: 3)
        stores.append(s)
        return layer
    }

    /// An NHWC input of finite values with `value` at one position.
    private func input(_ shape: [Int], _ value: Float, at index: Int = 5) -> Tensor {
        var v = randomTensor(shape, seed: 9).array
        v[index] = value
        return Tensor(shape: shape, values: v)
    }

    func testReLUPassesNaNAndMapsTheRestAsPyTorch() throws {
        // PyTorch: relu([nan, inf, -inf, -0., 0., 1.5, -2.]) = [nan, inf, 0, 0, 0, 1.5, 0]; the
        // backward rule zeroes the gradient only where the output is ≤ 0.
        let xs: [Float] = [.nan, .infinity, -.infinity, -0.0, 0, 1.5, -2]
        for n in [7, 7 * 8 + 3] {   // scalar tail only, and the 8-wide loop too
            let x = Tensor(shape: [n], values: (0..<n).map { xs[$0 % 7] })
            let relu = ReLU()
            let y = try relu.forward(x, mode: .train).array
            for i in 0..<n {
                let e: Float = [.nan, .infinity, 0, 0, 0, 1.5, 0][i % 7]
                XCTAssertTrue(e.isNaN ? y[i].isNaN : y[i].bitPattern == e.bitPattern, "relu(\(xs[i % 7])) = \(y[i])")
            }
            let dx = relu.backward(Tensor(shape: [n], values: [Float](repeating: 2, count: n))).array
            for i in 0..<n { XCTAssertEqual(dx[i], [2, 2, 0, 0, 0, 2, 0][i % 7], "relu' at \(xs[i % 7])") }
            _ = try relu.forward(x, mode: .train)
            let g = relu.backward(Tensor(shape: [n], values: [Float](repeating: .nan, count: n))).array
            XCTAssertTrue(g.enumerated().allSatisfy { i, v in [0, 1, 5].contains(i % 7) ? v.isNaN : v == 0 }, "a NaN gradient passes where ReLU passes")
        }
    }

    func testFusedBatchNormReLUPassesNaN() throws {
        let shape = [2, 3, 3, 19]
        for mode in [Mode.eval, .train] {
            let bn = store { BatchNorm2d(store: $0, name: "bn", channels: 19) } as! BatchNorm2d
            let y = try bn.forward(input(shape, .nan), mode: mode, adding: nil, then: ReLU())
            XCTAssertTrue(y.array.contains { $0.isNaN }, "BN → ReLU, \(mode)")
            let yr = try bn.forward(randomTensor(shape, seed: 1), mode: mode, adding: input(shape, .nan), then: ReLU())
            XCTAssertTrue(yr.array.contains { $0.isNaN }, "BN + NaN residual → ReLU, \(mode)")
        }
    }

    /// Every layer, every conv algorithm and path: a NaN input gives a NaN output, +∞ a
    /// non-finite one, and a NaN gradient a NaN input gradient.
    func testEveryLayerPropagatesNaNAndInfinity() throws {
        var cases: [(String, [Int], Layer)] = [
            ("relu", [2, 4, 4, 8], ReLU()), ("silu", [2, 4, 4, 8], SiLU()), ("sigmoid", [2, 4, 4, 8], Sigmoid()),
            ("tanh", [2, 4, 4, 8], Tanh()),
            ("maxpool", [2, 6, 6, 9], MaxPool2d(kernel: 3, stride: 2, padding: 1)),
            ("avgpool", [2, 6, 6, 9], AvgPool2d(kernel: 3, stride: 2, padding: 1)),
            ("global avgpool", [2, 6, 6, 9], GlobalAvgPool()),
            ("linear", [3, 10], store { Linear(store: $0, name: "fc", inFeatures: 10, outFeatures: 4) }),
            ("batchnorm", [2, 4, 4, 9], store { BatchNorm2d(store: $0, name: "bn", channels: 9) }),
            ("chebyshev kan", [2, 6, 6, 9], store { ChebyshevKANConv2d(store: $0, name: "kan", degree: 3) }),
        ]
        // 16 channels: the fewest a Winograd path takes (`Winograd.isEligible`), so each algorithm
        // and each Winograd GEMM runs its own path.
        for algorithm in ConvAlgorithm.allCases { for gemm in WinogradGEMM.allCases {
            var tuning = ConvTuning(algorithm: algorithm)
            tuning.winogradGEMM = gemm
            cases.append(("conv3x3 \(tuning.label)", [2, 8, 8, 16],
                          store(EngineContext(conv: tuning)) { Conv2d(store: $0, name: "c", inChannels: 16, outChannels: 16, kernel: 3, padding: 1) }))
        } }
        cases.append(("conv1x1", [2, 5, 5, 8], store { Conv2d(store: $0, name: "c", inChannels: 8, outChannels: 16, kernel: 1, bias: true) }))
        cases.append(("conv7x7/2", [1, 9, 9, 3], store { Conv2d(store: $0, name: "c", inChannels: 3, outChannels: 8, kernel: 7, stride: 2, padding: 3) }))
        cases.append(("depthwise", [1, 6, 6, 8], store { Conv2d(store: $0, name: "c", inChannels: 8, outChannels: 8, kernel: 3, padding: 1, groups: 8) }))
        for (name, shape, layer) in cases {
            for mode in [Mode.eval, .train] {
                let y = try layer.forward(input(shape, .nan), mode: mode)
                XCTAssertTrue(y.array.contains { $0.isNaN }, "\(name) \(mode): a NaN input left no NaN in \(y.array.prefix(8))")
                if mode == .train {
                    let dx = layer.backward(Tensor(shape: y.shape, values: [Float](repeating: .nan, count: y.count)))
                    XCTAssertTrue(dx.array.contains { $0.isNaN }, "\(name): a NaN gradient left no NaN in the input gradient")
                }
                let yi = try layer.forward(input(shape, .infinity), mode: mode)
                if !["sigmoid", "tanh", "chebyshev kan"].contains(name) {   // these saturate ±∞ to finite values, as PyTorch's
                    XCTAssertTrue(yi.array.contains { !$0.isFinite }, "\(name) \(mode): +∞ input, all outputs finite")
                }
                _ = try layer.forward(input(shape, -.infinity), mode: mode)
            }
        }
    }

    func testAddAndLossPropagateNaN() throws {
        let a = input([2, 3, 3, 5], .nan), b = randomTensor([2, 3, 3, 5], seed: 2)
        XCTAssertTrue(try addForward(a, b).array[5].isNaN)
        let logits = Tensor(shape: [2, 4], values: [0.1, .nan, 0.3, 0.2, 1, 2, 3, 4])
        let (loss, d) = try softmaxCrossEntropy(logits: logits, targets: .labels([0, 1]))
        XCTAssertTrue(loss.isNaN && d.array.prefix(4).allSatisfy(\.isNaN), "loss \(loss)")
    }

    func testVectorTanhOfNaNIsNaN() {
        let x = SIMD8<Float>(.nan, .infinity, -.infinity, 0.3, -0.3, 5, -12, 0)
        let t = vectorTanh(x)
        XCTAssertTrue(t[0].isNaN)
        XCTAssertEqual(t[1], 1, accuracy: 1e-6)
        XCTAssertEqual(t[2], -1, accuracy: 1e-6)
        XCTAssertEqual(t[5], Float(tanh(5.0)), accuracy: 1e-6)
    }
}
