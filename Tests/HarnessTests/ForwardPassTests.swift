import Foundation
import XCTest
import Engine
import Zoo
import RunStore
@testable import Harness

/// `rkan-repro forward` without PyTorch: weights written by `init` (the same state-dict path
/// the trainer uses), read back by `ForwardPass` and compared with calling the model directly.
final class ForwardPassTests: XCTestCase {
    private let spec = "resnet18(stem=small,width=0.125)+rkan"

    private func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rkan-forward-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Two 1×28×28 images (NCHW values) and their labels, written as `forward`'s input file.
    private func input(in dir: URL) throws -> (URL, [Float]) {
        let values = (0..<(2 * 28 * 28)).map { Float(sin(Double($0) * 0.37)) }
        let url = dir.appendingPathComponent("x.h5")
        let f = try HDF5File.create(url.path)
        try f.write(values, shape: [2, 1, 28, 28], to: "/input")
        try f.write([Int64(3), 7], shape: [2], to: "/labels")
        try f.close()
        return (url, values)
    }

    private func model(seed: UInt64) throws -> Model {
        let m = try Model(spec, classes: 10, inChannels: 1)
        m.initialize(seed: seed)
        return m
    }

    func testEvalForwardOnInitWeightsEqualsTheModelAndRepeats() throws {
        let dir = try folder()
        let weights = dir.appendingPathComponent("w.h5")
        try InitialWeights.write(spec: spec, classes: 10, inChannels: 1, seed: 7, out: weights)
        let (x, values) = try input(in: dir)
        var logits: [ShapedArray<Float>] = []
        for name in ["y1.h5", "y2.h5"] {
            let out = dir.appendingPathComponent(name)
            let summary = try ForwardPass.run(spec: spec, classes: 10, inChannels: nil, weights: weights, input: x, output: out, grad: false)
            XCTAssertEqual(summary.logitsShape, [2, 10])
            XCTAssertEqual(summary.ignoredKeys, [], "an init file of the same spec has no other key")
            logits.append(try HDF5File.openReadOnly(out.path).read(Float.self, at: "/logits"))
        }
        XCTAssertEqual(logits[0], logits[1], "the same pass twice gives the same bytes")
        let nhwc = LayoutConversion.nhwc(fromNCHW: values, shape: [2, 1, 28, 28])
        let direct = try model(seed: 7).forward(nhwc, mode: .eval)
        XCTAssertEqual(logits[0].shape, direct.shape)
        XCTAssertEqual(logits[0].values, direct.array, "forward --weights equals the model initialised from the same seed")
        let other = try model(seed: 8).forward(nhwc, mode: .eval)
        XCTAssertNotEqual(logits[0].values, other.array, "the weights were read, not another initialisation")
    }

    func testGradForwardGivesTheModelsLossAndGradients() throws {
        let dir = try folder()
        let weights = dir.appendingPathComponent("w.h5")
        try InitialWeights.write(spec: spec, classes: 10, inChannels: 1, seed: 7, out: weights)
        let (x, values) = try input(in: dir)
        let out = dir.appendingPathComponent("g.h5")
        let summary = try ForwardPass.run(spec: spec, classes: 10, inChannels: 1, weights: weights, input: x, output: out, grad: true)
        let m = try model(seed: 7)
        XCTAssertEqual(summary.gradients, m.store.parameters.count)
        m.store.zeroGrad()
        let logits = try m.forward(LayoutConversion.nhwc(fromNCHW: values, shape: [2, 1, 28, 28]), mode: .train)
        let (loss, d) = try softmaxCrossEntropy(logits: logits, targets: .labels([3, 7]))
        m.backward(d)
        let file = try HDF5File.openReadOnly(out.path)
        XCTAssertEqual(try file.readScalar(Float.self, at: "/loss"), Float(loss))
        for p in [m.store.parameters.first!, m.store.parameters.last!] {
            XCTAssertEqual(try file.read(Float.self, at: "/grads/\(p.name)").values, p.torchGrad(), p.name)
        }
    }
}
