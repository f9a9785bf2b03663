import XCTest
@testable import Detection
import Engine
import TestSupport

/// The box and mask heads' training path against torchvision (Fixtures/roi_training.json: two
/// images, ground truth appended to the proposals, 64 samples per image with torchvision's draw
/// injected): the samples (boxes, labels, matches, regression targets), the projected mask
/// targets, the three losses and their gradients.
final class RoITrainingTests: XCTestCase {
    func ints(_ t: FixtureTensor) -> [Int] { t.data.map { Int($0) } }

    func testSamplesTargetsAndLossesMatchTorchvision() throws {
        guard let c = detectionFixture("roi_training").first else { return XCTFail("roi_training.json has no case") }
        let (classes, side) = (c.int("classes"), c.int("side"))
        var samples: [RoITrainingSamples] = [], maskTargets: [Float] = [], positiveLabels: [Int] = []
        for i in 0..<2 {
            let s = selectTrainingSamples(proposals: c.tensor("proposals\(i)").data, gtBoxes: c.tensor("gt_boxes\(i)").data,
                                          gtLabels: ints(c.tensor("gt_labels\(i)")), batchSize: c.int("batch"),
                                          rng: Philox(seed: 1, purpose: .test), injected: ints(c.tensor("sampled\(i)")))
            XCTAssertEqual(s.labels, ints(c.tensor("sample_labels\(i)")), "image \(i) labels")
            XCTAssertEqual(s.matched, ints(c.tensor("sample_matched\(i)")), "image \(i) matches")
            XCTAssertEqual(s.proposals, c.tensor("sample_boxes\(i)").data, "image \(i) sampled boxes")
            assertParity(relativeError(s.targets, c.tensor("sample_targets\(i)").data), 1e-6, "roi targets image \(i)")
            samples.append(s)
            // Mask targets of the positive samples.
            let pos = s.labels.indices.filter { s.labels[$0] > 0 }
            let gm = c.tensor("gt_masks\(i)")
            let t = try projectMasksOnBoxes(masks: Tensor(shape: gm.shape, values: gm.data), boxes: pos.flatMap { s.proposals[(4 * $0)..<(4 * $0 + 4)] },
                                            matched: pos.map { s.matched[$0] }, side: side)
            assertParity(relativeError(t, c.tensor("mask_targets\(i)").data), 1e-6, "mask targets image \(i)")
            maskTargets += t
            positiveLabels += pos.map { s.labels[$0] }
        }
        let logits = Tensor(shape: c.tensor("logits").shape, values: c.tensor("logits").data)
        let deltas = Tensor(shape: c.tensor("deltas").shape, values: c.tensor("deltas").data)
        let loss = c.tensor("loss").data
        let box = try fastRCNNLoss(logits: logits, deltas: deltas, labels: samples.flatMap(\.labels), targets: samples.flatMap(\.targets),
                                   dClassifier: Float(c.config["d_classifier"]!), dBox: Float(c.config["d_box"]!))
        XCTAssertEqual(box.classifier, loss[0], accuracy: 1e-6 * max(1, loss[0]))
        XCTAssertEqual(box.box, loss[1], accuracy: 1e-6 * max(1, loss[1]))
        assertParity(relativeError(box.dLogits.array, c.tensor("dlogits").data), 1e-6, "roi d logits")
        assertParity(relativeError(box.dDeltas.array, c.tensor("ddeltas").data), 1e-6, "roi d deltas")

        let ml = engineTensor(c.tensor("mask_logits"))   // (K, M, M, C)
        XCTAssertEqual(ml.shape, [positiveLabels.count, side, side, classes])
        let mask = maskLoss(logits: ml, labels: positiveLabels, targets: maskTargets, dLoss: Float(c.config["d_mask"]!))
        XCTAssertEqual(mask.loss, loss[2], accuracy: 1e-6 * max(1, loss[2]))
        assertParity(relativeError(LayoutConversion.nchw(mask.dLogits), c.tensor("dmask_logits").data), 1e-6, "mask d logits")
    }

    /// Without an injected draw the sampler takes its own: 64 samples, at most 16 positive, the
    /// same for the same stream.
    func testOwnDraw() {
        guard let c = detectionFixture("roi_training").first else { return XCTFail("roi_training.json has no case") }
        let run = { (index: UInt64) in
            selectTrainingSamples(proposals: c.tensor("proposals0").data, gtBoxes: c.tensor("gt_boxes0").data,
                                  gtLabels: self.ints(c.tensor("gt_labels0")), batchSize: 64, rng: Philox(seed: 3, purpose: .test, index: index))
        }
        let a = run(0)
        XCTAssertEqual(a.count, 64)
        XCTAssertLessThanOrEqual(a.labels.filter { $0 > 0 }.count, 16)
        XCTAssertEqual(run(0), a)
        XCTAssertNotEqual(run(1).proposals, a.proposals)
    }
}
