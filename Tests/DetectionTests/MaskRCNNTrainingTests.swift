import XCTest
@testable import Detection
import Engine
import TestSupport
import Zoo

/// The whole detector from images: a small Mask R-CNN (ResNet-18 at 1/8 width with an RKAN block,
/// narrow FPN and heads) trained on one image by plain SGD lowers its loss, and runs in eval mode.
final class MaskRCNNTrainingTests: XCTestCase {
    func image(_ h: Int, _ w: Int, seed: UInt64) -> Tensor {
        Tensor(shape: [h, w, 3], values: testValues(h * w * 3, seed: seed).map { Float($0 + 1) / 2 })
    }

    func testSGDLowersTheLossOnOneImage() throws {
        let model = try MaskRCNN(backbone: ModelSpec(parsing: "resnet18(width=0.125)+rkan"), classes: 3, fpnChannels: 16,
                                 representation: 32, maskWidth: 16)
        model.transform.minSize = 64; model.transform.maxSize = 96
        model.initialize(seed: 1)
        let (h, w) = (48, 64)
        var masks = [Float](repeating: 0, count: 2 * h * w)
        for y in 8..<30 { for x in 6..<30 { masks[y * w + x] = 1 } }
        for y in 20..<44 { for x in 36..<60 { masks[h * w + y * w + x] = 1 } }
        let target = DetectionTarget(boxes: [6, 8, 30, 30, 36, 20, 60, 44], labels: [1, 2], masks: Tensor(shape: [2, h, w], values: masks))
        let img = image(h, w, seed: 3)
        var totals: [Float] = []
        for step in 0..<12 {
            model.store.zeroGrad()
            let (losses, _) = try model.trainingStep(images: [img], targets: [target], seed: 5, step: step)
            XCTAssertTrue(losses.total.isFinite, "step \(step): \(losses)")
            totals.append(losses.total)
            for p in model.store.parameters { for i in 0..<p.count { p.value[i] -= 0.02 * p.grad[i] } }
        }
        print("LOSS per step \(totals)")
        XCTAssertLessThan(totals.suffix(3).reduce(0, +) / 3, 0.8 * totals[0], "the loss should fall: \(totals)")
        let out = try model.detect(images: [img, image(40, 30, seed: 4)])
        XCTAssertEqual(out.count, 2)
        XCTAssertEqual(out[1].height, 40); XCTAssertEqual(out[1].width, 30)
        for o in out {
            XCTAssertEqual(o.masks.count, o.detections.count * o.height * o.width)
            XCTAssertTrue(o.detections.labels.allSatisfy { (1..<3).contains($0) })
        }
    }
}
