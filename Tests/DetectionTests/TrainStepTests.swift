import XCTest
@testable import Detection
import Engine
import TestSupport

/// One training step of Mask R-CNN after the body against torchvision (Fixtures/train_step.json:
/// the small network of DetectorTests, two images with ground truth, torchvision's samplers' draws
/// injected): the five losses, and the gradients of their weighted sum with respect to the body's
/// outputs and every parameter of the FPN, RPN and heads.
final class TrainStepTests: XCTestCase {
    func ints(_ t: FixtureTensor) -> [Int] { t.data.map { Int($0) } }

    func build(_ c: FixtureCase) -> (ParameterStore, RCNNHeads) {
        let store = ParameterStore()
        let classes = c.int("classes")
        let fpn = store.scoped("backbone") { store.scoped("fpn") { FeaturePyramidNetwork(store, inChannels: [4, 6, 8, 10], outChannels: 8) } }
        let rpn = store.scoped("rpn") { store.scoped("head") { RPNHead(store, inChannels: 8, anchorsPerLocation: 15) } }
        let (boxHead, predictor, maskHead) = store.scoped("roi_heads") {
            (store.scoped("box_head") { TwoMLPHead(store, inChannels: 8, resolution: 7, representation: 16) },
             store.scoped("box_predictor") { FastRCNNPredictor(store, inFeatures: 16, classes: classes) },
             MaskHead(store, inChannels: 8, classes: classes, width: 12))
        }
        store.finalize()
        loadParameters(store, from: c)
        let heads = RCNNHeads(fpn: fpn, rpnHead: rpn, boxHead: boxHead, boxPredictor: predictor, maskHead: maskHead,
                              anchorGenerator: .reference(), classes: classes)
        heads.rpnSettings.nmsDevice = .cpu
        return (store, heads)
    }

    func testTrainingStepMatchesTorchvision() throws {
        guard let c = detectionFixture("train_step").first else { return XCTFail("train_step.json has no case") }
        let (store, heads) = build(c)
        let features = (0..<4).map { engineTensor(c.tensor("feature\($0)")) }
        let s = c.tensor("image_sizes").data.map { Int($0) }
        let sizes = [(height: s[0], width: s[1]), (height: s[2], width: s[3])]
        let targets = (0..<2).map { i -> DetectionTarget in
            let m = c.tensor("gt_masks\(i)")
            return DetectionTarget(boxes: c.tensor("gt_boxes\(i)").data, labels: ints(c.tensor("gt_labels\(i)")), masks: Tensor(shape: m.shape, values: m.data))
        }
        let draws = TrainingDraws(rpn: (0..<2).map { (ints(c.tensor("rpn_positive\($0)")), ints(c.tensor("rpn_negative\($0)"))) },
                                  roi: (0..<2).map { ints(c.tensor("roi_sampled\($0)")) })
        let w = { (k: String) in Float(c.config[k]!) }
        let out = try heads.trainingStep(features: features, paddedSize: (c.int("padded_h"), c.int("padded_w")), imageSizes: sizes,
                                         targets: targets, draws: draws,
                                         weights: DetectionLosses(classifier: w("loss_classifier"), boxReg: w("loss_box_reg"), mask: w("loss_mask"),
                                                                  objectness: w("loss_objectness"), rpnBoxReg: w("loss_rpn_box_reg")))
        let expected = c.tensor("losses").data
        let mine = [out.losses.classifier, out.losses.boxReg, out.losses.mask, out.losses.objectness, out.losses.rpnBoxReg]
        print("LOSSES ours \(mine) torchvision \(expected)")
        assertClose(mine, expected, rtol: 1e-5, atol: 1e-6, "losses")
        XCTAssertEqual(out.draws.roi, draws.roi)
        for (i, d) in out.dFeatures.enumerated() {
            assertParity(relativeError(LayoutConversion.nchw(d), c.tensor("dfeature\(i)").data), 1e-5, "train step dfeature\(i)")
        }
        for p in store.parameters {
            assertParity(relativeError(p.torchGrad(), c.tensor("grad:\(p.name)").data), 1e-5, "train step grad \(p.name)")
        }
    }

    /// Without injected draws the step draws its own: the same seed and step give the same losses
    /// and gradient bytes, another step other anchors.
    func testOwnDrawsAreDeterministic() throws {
        guard let c = detectionFixture("train_step").first else { return XCTFail("train_step.json has no case") }
        let features = (0..<4).map { engineTensor(c.tensor("feature\($0)")) }
        let s = c.tensor("image_sizes").data.map { Int($0) }
        let sizes = [(height: s[0], width: s[1]), (height: s[2], width: s[3])]
        let targets = (0..<2).map { i -> DetectionTarget in
            let m = c.tensor("gt_masks\(i)")
            return DetectionTarget(boxes: c.tensor("gt_boxes\(i)").data, labels: ints(c.tensor("gt_labels\(i)")), masks: Tensor(shape: m.shape, values: m.data))
        }
        var runs: [(DetectionLosses, [Float], TrainingDraws)] = []
        for step in [3, 3, 4] {
            let (store, heads) = build(c)
            let out = try heads.trainingStep(features: features, paddedSize: (c.int("padded_h"), c.int("padded_w")), imageSizes: sizes,
                                             targets: targets, draws: nil, seed: 11, step: step)
            runs.append((out.losses, store.parameters.flatMap { $0.torchGrad() }, out.draws))
        }
        XCTAssertEqual(runs[0].0, runs[1].0)
        XCTAssertEqual(runs[0].1.map(\.bitPattern), runs[1].1.map(\.bitPattern), "same draws, same gradient bytes")
        // Fewer candidates than 512: the box head takes them all; the RPN samples 256 of 2565 anchors.
        XCTAssertEqual(runs[0].2.rpn.map(\.negative), runs[1].2.rpn.map(\.negative))
        XCTAssertNotEqual(runs[0].2.rpn.map(\.negative), runs[2].2.rpn.map(\.negative), "another step draws other anchors")
        XCTAssertTrue(runs[0].0.total.isFinite)
    }
}
