import XCTest
@testable import Detection
import Engine
import TestSupport
import Zoo

/// The detector's state dict and its body.
final class MaskRCNNTests: XCTestCase {
    struct KeyList: Decodable {
        let torch: String
        let torchvision: String
        let keys: [[KeyOrShape]]
        enum KeyOrShape: Decodable {
            case key(String), shape([Int])
            init(from d: Decoder) throws {
                let c = try d.singleValueContainer()
                if let s = try? c.decode(String.self) { self = .key(s) } else { self = .shape(try c.decode([Int].self)) }
            }
        }
        /// key → shape.
        var shapes: [String: [Int]] {
            var m: [String: [Int]] = [:]
            for pair in keys { if case .key(let k) = pair[0], case .shape(let s) = pair[1] { m[k] = s } }
            return m
        }
    }

    /// Every tensor of ours has torchvision's MaskRCNN key and shape (around a ResNet-50 whose
    /// stages are wrapped as RKAN_RCNN wraps them, with the reference's 15 anchors per location and
    /// 81 classes), and every torchvision key is ours.
    func testKeysAreTorchvisionMaskRCNNs() throws {
        let url = fixturesFolder.appendingPathComponent("detection/keys.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            return XCTFail("Fixtures/keys.json missing: regenerate with python3 -m Tools.detection.make_model_fixtures")
        }
        let list = try JSONDecoder().decode(KeyList.self, from: Data(contentsOf: url))
        let theirs = list.shapes
        XCTAssertGreaterThan(theirs.count, 300, "keys.json looks truncated")
        XCTAssertNotNil(theirs["roi_heads.mask_predictor.conv5_mask.weight"])
        let model = try MaskRCNN(backbone: ModelSpec(parsing: "resnet50"), classes: 81)
        var ours: [String: [Int]] = [:]
        for p in model.store.floatEntries { ours[p.name] = p.shape }
        for c in model.store.counters { ours[c.name] = [] }
        XCTAssertEqual(Set(ours.keys).subtracting(theirs.keys).sorted(), [], "keys torchvision does not have")
        XCTAssertEqual(Set(theirs.keys).subtracting(ours.keys).sorted(), [], "torchvision keys we lack")
        for (k, s) in ours where theirs[k] != nil { XCTAssertEqual(s, theirs[k], k) }
    }

    /// With RKAN, the blocks sit under `rkan_components.` with the classification model's names.
    func testRKANBlocksUnderRkanComponents() throws {
        let spec = try ModelSpec(parsing: "resnet50+rkan")
        let det = try MaskRCNN(backbone: spec, classes: 81)
        let cls = try Model(spec: spec, classes: 1000)
        let detRKAN = Set(det.store.floatEntries.map(\.name).filter { $0.hasPrefix("rkan_components.") }.map { String($0.dropFirst("rkan_components.".count)) })
        let clsRKAN = Set(cls.store.floatEntries.map(\.name).filter { !$0.hasPrefix("resnet.") })
        XCTAssertFalse(detRKAN.isEmpty)
        XCTAssertEqual(detRKAN, clsRKAN)
        XCTAssertTrue(detRKAN.contains("conv_reduce.3.weight") && detRKAN.contains { $0.hasPrefix("kan_conv2.3.") }, "\(detRKAN.sorted())")
        XCTAssertEqual(MaskRCNN.referenceAliases(of: "backbone.body.layer2.base_layer.0.conv1.weight"),
                       ["model.backbone.body.layer2.base_layer.0.conv1.weight", "backbone_with_fpn.body.layer2.base_layer.0.conv1.weight",
                        "stage2_kan.base_layer.0.conv1.weight"])
        XCTAssertEqual(MaskRCNN.referenceAliases(of: "rpn.head.cls_logits.weight"), ["model.rpn.head.cls_logits.weight"])
        XCTAssertEqual(MaskRCNN.referenceAliases(of: "rkan_components.kan_bn.3.weight"), ["rkan_components.kan_bn.3.weight"])
    }

    func testNonResNetBackboneIsRefused() {
        XCTAssertThrowsError(try MaskRCNN(backbone: ModelSpec(parsing: "densenet121"), classes: 81)) { e in
            XCTAssertTrue("\(e)".contains("ResNet family"), "\(e)")
        }
        XCTAssertThrowsError(try MaskRCNN(backbone: ModelSpec(parsing: "resnet50"), classes: 1))
    }

    /// The body is the classification network without its head: with the same weights, stage 4's
    /// output pooled through the classifier gives the classification logits, and the gradient of
    /// those logits sent into stage 4 gives the classification model's parameter gradients
    /// (stem, stages and RKAN block alike).
    func testBodyMatchesClassificationNetwork() throws {
        for text in ["resnet18(width=0.125)+rkan", "seresnet50(width=0.125)"] {
            let spec = try ModelSpec(parsing: text)
            let cls = try Model(spec: spec, classes: 5)
            cls.initialize(seed: 11)
            let store = ParameterStore()
            let body = try FeatureBackbone(store, spec: spec, bodyScope: ["backbone", "body"], stageWrapper: "base_layer", rkanScope: ["rkan_components"])
            store.finalize()
            let prefix = spec.rkan == nil ? "" : "resnet."
            func classificationName(_ k: String) -> String {
                if k.hasPrefix("rkan_components.") { return String(k.dropFirst("rkan_components.".count)) }
                var rest = String(k.dropFirst("backbone.body.".count))
                for n in 1...4 { rest = rest.replacingOccurrences(of: "layer\(n).base_layer.", with: "layer\(n).") }
                return prefix + rest
            }
            for p in store.floatEntries {
                guard let q = cls.store.entry(classificationName(p.name)) else { XCTFail("\(text): no \(classificationName(p.name))"); continue }
                p.setTorchValues(q.torchValues())
            }
            XCTAssertEqual(store.floatEntries.count + 2, cls.store.floatEntries.count, "\(text): all but fc.weight and fc.bias")

            let x = Tensor(shape: [2, 32, 32, 3], values: testValues(2 * 32 * 32 * 3, seed: 5).map(Float.init))
            let logits = try cls.forward(x, mode: .train)
            let feats = try body.forward(x, mode: .train)
            XCTAssertEqual(feats.map { $0.shape[1] }, [8, 4, 2, 1])
            let s4 = feats[3], (n, hw, c) = (s4.shape[0], s4.shape[1] * s4.shape[2], s4.shape[3])
            let fc = (cls.store.entry("\(prefix)fc.weight")!.torchValues(), cls.store.entry("\(prefix)fc.bias")!.torchValues())
            var mine = [Float](repeating: 0, count: n * 5)
            for i in 0..<n { for k in 0..<5 {
                var acc = Double(fc.1[k])
                for ch in 0..<c {
                    var mean = 0.0
                    for q in 0..<hw { mean += Double(s4.data[(i * hw + q) * c + ch]) }
                    acc += Double(fc.0[k * c + ch]) * mean / Double(hw)
                }
                mine[i * 5 + k] = Float(acc)
            } }
            XCTAssertLessThanOrEqual(relativeError(mine, logits.array), 1e-5, "\(text) logits")

            let r = testValues(n * 5, seed: 6).map(Float.init)
            cls.backward(Tensor(shape: [n, 5], values: r))
            let d4 = Tensor(uninitialized: s4.shape)
            for i in 0..<n { for ch in 0..<c {
                var g = 0.0
                for k in 0..<5 { g += Double(r[i * 5 + k]) * Double(fc.0[k * c + ch]) }
                for q in 0..<hw { d4.data[(i * hw + q) * c + ch] = Float(g / Double(hw)) }
            } }
            _ = body.backward(feats.prefix(3).map { Tensor(zeros: $0.shape) } + [d4])
            for p in store.parameters {
                let q = cls.store.entry(classificationName(p.name))!
                XCTAssertLessThanOrEqual(relativeError(p.torchGrad(), q.torchGrad()), 1e-4, "\(text) grad \(p.name)")
            }
        }
    }
}

/// `FeatureBackbone.backward` with gradients on every stage output equals the sum of the
/// backwards with one stage's gradient at a time (each checked path is the classification
/// network's; this checks how the FPN's four gradients are combined), RKAN on stages 3 and 4.
final class FeatureBackboneTests: XCTestCase {
    func testGradientsOfAllStagesAdd() throws {
        let spec = try ModelSpec(parsing: "resnet18(width=0.125)+rkan(stages=3/4)")
        let store = ParameterStore()
        let body = try FeatureBackbone(store, spec: spec, bodyScope: ["body"], stageWrapper: nil, rkanScope: ["rkan"])
        store.finalize()
        store.initialize(seed: 2)
        body.initializeConstants()
        let x = Tensor(shape: [2, 32, 32, 3], values: testValues(2 * 32 * 32 * 3, seed: 8).map(Float.init))
        let shapes = try body.forward(x, mode: .eval).map(\.shape)
        let d = shapes.enumerated().map { i, s in Tensor(shape: s, values: testValues(s.reduce(1, *), seed: UInt64(20 + i)).map(Float.init)) }
        func grads(_ ds: [Tensor]) throws -> (input: [Float], params: [Float]) {
            store.zeroGrad()
            _ = try body.forward(x, mode: .train)
            let dx = body.backward(ds)
            return (dx.array, store.parameters.flatMap { $0.torchGrad() })
        }
        let all = try grads(d)
        var sumInput = [Float](repeating: 0, count: all.input.count), sumParams = [Float](repeating: 0, count: all.params.count)
        for k in 0..<4 {
            let one = try grads(shapes.enumerated().map { i, s in i == k ? d[i] : Tensor(zeros: s) })
            for j in sumInput.indices { sumInput[j] += one.input[j] }
            for j in sumParams.indices { sumParams[j] += one.params[j] }
        }
        XCTAssertLessThanOrEqual(relativeError(all.input, sumInput), 1e-5)
        XCTAssertLessThanOrEqual(relativeError(all.params, sumParams), 1e-5)
    }
}

/// A training step gives the same bytes (losses and every gradient) for 1 and 2 threads.
final class DetectionDeterminismTests: XCTestCase {
    func testTrainingStepBytesDoNotDependOnThreads() throws {
        var results: [([Float], [UInt32])] = []
        for threads in [1, 2] {
            let model = try MaskRCNN(backbone: ModelSpec(parsing: "resnet18(width=0.125)+rkan"), classes: 3, fpnChannels: 16,
                                     representation: 32, maskWidth: 16, context: EngineContext(threads: threads))
            model.transform.minSize = 64; model.transform.maxSize = 96
            model.initialize(seed: 1)
            var masks = [Float](repeating: 0, count: 40 * 50)
            for y in 5..<30 { for x in 10..<40 { masks[y * 50 + x] = 1 } }
            let target = DetectionTarget(boxes: [10, 5, 40, 30], labels: [2], masks: Tensor(shape: [1, 40, 50], values: masks))
            let images = [Tensor(shape: [40, 50, 3], values: testValues(40 * 50 * 3, seed: 3).map { Float($0) }),
                          Tensor(shape: [30, 44, 3], values: testValues(30 * 44 * 3, seed: 4).map { Float($0) })]
            let empty = DetectionTarget(boxes: [], labels: [], masks: Tensor(zeros: [0, 30, 44]))
            let (l, _) = try model.trainingStep(images: images, targets: [target, empty], seed: 2)
            results.append(([l.classifier, l.boxReg, l.mask, l.objectness, l.rpnBoxReg], model.store.parameters.flatMap { $0.torchGrad() }.map(\.bitPattern)))
        }
        XCTAssertEqual(results[0].0, results[1].0, "losses")
        XCTAssertEqual(results[0].1, results[1].1, "gradient bytes")
    }
}
