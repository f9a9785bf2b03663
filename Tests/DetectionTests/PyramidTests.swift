import XCTest
@testable import Detection
import Engine
import TestSupport
import Zoo

/// A fixture tensor in the engine's layout: rank-4 NCHW becomes NHWC, others unchanged.
func engineTensor(_ f: FixtureTensor) -> Tensor {
    f.shape.count == 4 ? LayoutConversion.nhwc(fromNCHW: f.data, shape: f.shape) : Tensor(shape: f.shape, values: f.data)
}

/// Loads a fixture file of this bundle; a missing file fails the test that asked for it.
func detectionFixture(_ name: String) -> [FixtureCase] {
    do { return try loadFixtureCases(name, area: "detection") } catch {
        XCTFail("Fixtures/\(name).json: \(error); regenerate with python3 -m Tools.detection.make_model_fixtures")
        return []
    }
}

/// Sets every parameter of `store` whose key is in the case as `param:<key>`; fails for one
/// that is missing, so a renamed key cannot pass unnoticed.
func loadParameters(_ store: ParameterStore, from c: FixtureCase) {
    for p in store.parameters {
        guard let t = c.tensors["param:\(p.name)"] else { XCTFail("\(c.name) has no parameter \(p.name)"); continue }
        XCTAssertEqual(t.shape, p.shape, p.name)
        p.setTorchValues(t.data)
    }
    XCTAssertEqual(c.tensors.keys.filter { $0.hasPrefix("param:") }.count, store.parameters.count, "\(c.name): parameter count")
}

/// FPN and RPN head against torchvision (Fixtures/fpn.json, rpn.json from
/// Tools/detection/make_model_fixtures.py): outputs and every gradient, max-normalised error
/// ≤ 1e-5 (float32 convolutions summed in another order).

/// Asserts a parity error against its tolerance and prints it (`PARITY <what> <error>`), so the
/// measured errors can be read off a test run.
func assertParity(_ error: Double, _ tolerance: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    print("PARITY \(what) \(error)")
    XCTAssertLessThanOrEqual(error, tolerance, what, file: file, line: line)
}

final class PyramidTests: XCTestCase {
    func testFPNMatchesTorchvision() throws {
        let cases = detectionFixture("fpn")
        XCTAssertEqual(cases.count, 1)
        for c in cases {
            let store = ParameterStore()
            let fpn = FeaturePyramidNetwork(store, inChannels: [4, 6, 8, 10], outChannels: c.int("out_channels"))
            store.finalize()
            loadParameters(store, from: c)
            let inputs = (0..<4).map { engineTensor(c.tensor("input\($0)")) }
            let outputs = try fpn.forward(inputs, mode: .train)
            XCTAssertEqual(outputs.count, 5)
            for (i, y) in outputs.enumerated() {
                XCTAssertEqual(y.shape, engineTensor(c.tensor("output\(i)")).shape, "output \(i)")
                assertParity(relativeError(LayoutConversion.nchw(y), c.tensor("output\(i)").data), 1e-5, "output \(i)")
            }
            let dx = fpn.backward((0..<5).map { engineTensor(c.tensor("dout\($0)")) })
            for (i, d) in dx.enumerated() {
                assertParity(relativeError(LayoutConversion.nchw(d), c.tensor("dinput\(i)").data), 1e-5, "dinput \(i)")
            }
            for p in store.parameters {
                assertParity(relativeError(p.torchGrad(), c.tensor("grad:\(p.name)").data), 1e-5, "grad \(p.name)")
            }
        }
    }

    /// Initialisation: weights U(±√(3/fan_in)) (kaiming_uniform a=1), biases 0.
    func testFPNInitialisation() {
        let store = ParameterStore()
        _ = FeaturePyramidNetwork(store, inChannels: [8, 16], outChannels: 4)
        store.finalize()
        store.initialize(seed: 3)
        for p in store.parameters {
            if p.name.hasSuffix("bias") { XCTAssertEqual(p.torchValues(), Array(repeating: 0, count: p.count), p.name); continue }
            let fanIn = p.shape[1] * p.shape[2] * p.shape[3], bound = Float((3.0 / Double(fanIn)).squareRoot())
            XCTAssertEqual(p.initializer, .uniform(bound: bound), p.name)
            XCTAssertLessThanOrEqual(p.torchValues().map(abs).max()!, bound, p.name)
        }
        XCTAssertEqual(store.parameters.map(\.name), ["inner_blocks.0.0.weight", "inner_blocks.0.0.bias", "inner_blocks.1.0.weight",
                                                      "inner_blocks.1.0.bias", "layer_blocks.0.0.weight", "layer_blocks.0.0.bias",
                                                      "layer_blocks.1.0.weight", "layer_blocks.1.0.bias"])
    }

    func testRPNHeadMatchesTorchvision() throws {
        guard let c = detectionFixture("rpn").first(where: { $0.name == "rpn_head" }) else { return XCTFail("rpn.json has no rpn_head case") }
        let store = ParameterStore()
        let head = RPNHead(store, inChannels: 6, anchorsPerLocation: c.int("anchors"))
        store.finalize()
        loadParameters(store, from: c)
        let maps = (0..<5).map { engineTensor(c.tensor("input\($0)")) }
        let (logits, deltas) = try head.forward(maps, mode: .train)
        for i in 0..<5 {
            assertParity(relativeError(LayoutConversion.nchw(logits[i]), c.tensor("logits\(i)").data), 1e-5, "logits \(i)")
            assertParity(relativeError(LayoutConversion.nchw(deltas[i]), c.tensor("deltas\(i)").data), 1e-5, "deltas \(i)")
        }
        let dx = head.backward(dObjectness: (0..<5).map { engineTensor(c.tensor("dlogits\($0)")) },
                               dDeltas: (0..<5).map { engineTensor(c.tensor("ddeltas\($0)")) })
        for i in 0..<5 {
            assertParity(relativeError(LayoutConversion.nchw(dx[i]), c.tensor("dinput\(i)").data), 1e-5, "dinput \(i)")
        }
        for p in store.parameters {
            assertParity(relativeError(p.torchGrad(), c.tensor("grad:\(p.name)").data), 1e-5, "grad \(p.name)")
        }
        // torchvision's init: N(0, 0.01²) weights, zero biases.
        for p in store.parameters {
            XCTAssertEqual(p.initializer, p.name.hasSuffix("bias") ? .zeros : .normal(std: 0.01), p.name)
        }
    }

    /// `filter_proposals` for two images of different sizes, train and eval top-n, with box counts
    /// on both sides of batched_nms's CPU size rule (the fixture ran on CPU).
    func testProposalFilteringMatchesTorchvision() {
        let cases = detectionFixture("rpn").filter { $0.name.hasPrefix("filter_") }
        XCTAssertEqual(cases.count, 2)
        let perLevel = [900, 225, 60, 30, 15], images = [(70, 90), (64, 80)], total = perLevel.reduce(0, +)
        for c in cases {
            var settings = RPNSettings()
            settings.nmsDevice = .cpu
            settings.preNMSTopN = (c.int("pre_train"), c.int("pre_eval"))
            settings.postNMSTopN = (c.int("post_train"), c.int("post_eval"))
            let objectness = c.tensor("objectness").data, boxes = c.tensor("boxes").data
            for (mode, tag) in [(Mode.train, "train"), (.eval, "eval")] { for i in 0..<2 {
                let p = objectness.withUnsafeBufferPointer { o in boxes.withUnsafeBufferPointer { b in
                    filterProposals(objectness: o.baseAddress! + i * total, boxes: b.baseAddress! + 4 * i * total, perLevel: perLevel,
                                    imageHeight: images[i].0, imageWidth: images[i].1, settings: settings, mode: mode)
                } }
                XCTAssertEqual(p.boxes, c.tensor("kept_\(tag)\(i)").data, "\(c.name) \(tag) image \(i) boxes")
                assertClose(p.scores, c.tensor("scores_\(tag)\(i)").data, rtol: 1e-6, atol: 1e-7, "\(c.name) \(tag) image \(i) scores")
            } }
        }
    }
}
