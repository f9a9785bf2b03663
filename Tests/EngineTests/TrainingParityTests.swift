import XCTest
import TestSupport
@testable import Engine

/// The small conv net of Tools/fixtures/sgd_run.py, built from Engine layers.
private final class SmallNet {
    let store = ParameterStore()
    let conv1: Conv2d, bn1: BatchNorm2d, relu1 = ReLU()
    let conv2: Conv2d, bn2: BatchNorm2d, relu2 = ReLU()
    let pool = GlobalAvgPool()
    let fc: Linear

    init() {
        conv1 = Conv2d(store: store, name: "conv1", inChannels: 3, outChannels: 8, kernel: 3, padding: 1)
        bn1 = BatchNorm2d(store: store, name: "bn1", channels: 8)
        conv2 = Conv2d(store: store, name: "conv2", inChannels: 8, outChannels: 16, kernel: 3, stride: 2, padding: 1)
        bn2 = BatchNorm2d(store: store, name: "bn2", channels: 16)
        fc = Linear(store: store, name: "fc", inFeatures: 16, outFeatures: 10)
        store.finalize()
    }

    func forward(_ x: Tensor) throws -> Tensor {
        var h = try relu1.forward(bn1.forward(conv1.forward(x, mode: .train), mode: .train), mode: .train)
        h = try relu2.forward(bn2.forward(conv2.forward(h, mode: .train), mode: .train), mode: .train)
        return try fc.forward(pool.forward(h, mode: .train), mode: .train)
    }

    func backward(_ d: Tensor) {
        var g = pool.backward(fc.backward(d))
        g = conv2.backward(bn2.backward(relu2.backward(g)))
        _ = conv1.backward(bn1.backward(relu1.backward(g)))
    }
}

final class TrainingParityTests: XCTestCase {
    /// 20 SGD steps (Nesterov 0.9, wd 5e-4, label smoothing 0.1) match PyTorch's loss at every
    /// step to 1e-4 relative, and the final weights and running statistics closely.
    func testTwentyStepSGDMatchesPyTorch() throws {
        let c = try XCTUnwrap(try loadFixtureCases("sgd_run").first)
        let net = SmallNet()
        for p in net.store.floatEntries { p.setTorchValues(c.tensor("w." + p.name).data) }
        let opt = try SGD(store: net.store, momentum: 0.9, nesterov: true, weightDecay: 5e-4)
        let x = c.tensor("x").data, y = c.tensor("y").data, expected = c.tensor("losses").data
        let per = 8 * 3 * 8 * 8
        for s in 0..<20 {
            let xb = LayoutConversion.nhwc(fromNCHW: Array(x[(s * per)..<((s + 1) * per)]), shape: [8, 3, 8, 8])
            let labels = (0..<8).map { Int(y[s * 8 + $0]) }
            net.store.zeroGrad()
            let logits = try net.forward(xb)
            let (loss, dlogits) = try softmaxCrossEntropy(logits: logits, targets: .labels(labels), labelSmoothing: 0.1)
            net.backward(dlogits)
            opt.step(lr: 0.05)
            XCTAssertEqual(loss, Double(expected[s]), accuracy: 1e-4 * abs(Double(expected[s])), "loss at step \(s)")
        }
        for p in net.store.floatEntries {
            let e = c.tensor("final." + p.name).data
            XCTAssertLessThan(relativeError(p.torchValues(), e), 1e-3, "final \(p.name)")
        }
    }
}
