import XCTest
import Engine
@testable import Zoo
import TestSupport

/// Input gradients of the zoo's composite layers (SE, dense block, RegNet Y block, ResNet-D
/// bottleneck) against central differences of their own float forward, at sampled coordinates.
/// Model-level parity with PyTorch (Tools/parity/twin_parity.py) checks every parameter gradient as well.
final class BlockGradientTests: XCTestCase {
    private var stores: [ParameterStore] = []

    private func check(_ make: (ParameterStore) -> Layer, shape: [Int], what: String) throws {
        let store = ParameterStore()
        let layer = make(store)
        store.finalize(); stores.append(store)
        store.initialize(seed: 11)
        let n = shape.reduce(1, *)
        var x = testValues(n, seed: 1).map(Float.init)
        let y0 = try layer.forward(Tensor(shape: shape, values: x), mode: .train)
        let r = testValues(y0.count, seed: 2).map(Float.init)
        let dx = layer.backward(Tensor(shape: y0.shape, values: r)).array
        let scale = dx.map { abs($0) }.max() ?? 1
        XCTAssertGreaterThan(scale, 1e-3, "\(what): gradient vanished")
        func loss(_ x: [Float]) throws -> Double {
            let y = try layer.forward(Tensor(shape: shape, values: x), mode: .train).array
            return zip(y, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let eps: Float = 1e-2
        for i in stride(from: 0, to: n, by: max(1, n / 12)) {
            let old = x[i]
            x[i] = old + eps; let lp = try loss(x)
            x[i] = old - eps; let lm = try loss(x)
            x[i] = old
            let fd = (lp - lm) / Double(2 * eps)
            XCTAssertEqual(Double(dx[i]), fd, accuracy: 3e-2 * Double(scale), "\(what): dx[\(i)]")
        }
    }

    func testSqueezeExcitation() throws {
        try check({ SqueezeExcitation($0, name: "se", channels: 16, squeeze: 4, bias: true) }, shape: [2, 3, 3, 16], what: "SE")
    }

    func testDenseBlock() throws {
        try check({ s in
            DenseBlock(layers: (0..<3).map { j in
                s.scoped("denselayer\(j + 1)") {
                    Sequential([BatchNorm2d(store: s, name: "norm1", channels: 6 + 4 * j), ReLU(),
                                Conv2d(store: s, name: "conv1", inChannels: 6 + 4 * j, outChannels: 8, kernel: 1),
                                BatchNorm2d(store: s, name: "norm2", channels: 8), ReLU(),
                                Conv2d(store: s, name: "conv2", inChannels: 8, outChannels: 4, kernel: 3, padding: 1)])
                }
            })
        }, shape: [2, 4, 4, 6], what: "DenseBlock")
    }

    func testRegNetYBlock() throws {
        try check({ RegNetYBlock($0, inWidth: 8, outWidth: 16, stride: 2, groupWidth: 8, squeeze: 2) }, shape: [2, 5, 5, 8], what: "RegNetY block")
    }

    /// RKANet_D's shortcut is AvgPool2d(2, 2) (floor), so like the reference it takes even sizes.
    func testResNetDBottleneck() throws {
        try check({ s in
            Bottleneck(s, inPlanes: 8, planes: 4, width: 4, groups: 1, stride: 2,
                       downsample: ResNet.downsample(s, inPlanes: 8, outPlanes: 16, stride: 2, avgDown: true),
                       attention: SqueezeExcitation(s, name: "se", channels: 16, squeeze: 1, bias: false))
        }, shape: [2, 6, 6, 8], what: "ResNet-D bottleneck with SE")
    }
}
