import XCTest
@testable import Detection
import Engine
import TestSupport

/// Mask R-CNN in eval mode from the body's outputs on, against torchvision's `MaskRCNN`
/// (Fixtures/detector.json: small widths, the reference's anchors, 5 classes, 10 detections per
/// image, two images of different sizes): the RPN's proposals, then the detections' labels, boxes,
/// scores and pasted masks in the original image sizes. Tolerances 1e-5 (masks 1e-4): the fixture
/// also records how far torch's own float32 result is from its float64 result on this network
/// (printed as `DRIFT`; ≤ 2e-7, masks ≤ 2e-6 at the fixture's weight scale), the error any float32
/// implementation has; ours is held to a few times that.
final class DetectorTests: XCTestCase {
    func testEvalPathMatchesTorchvision() throws {
        guard let c = detectionFixture("detector").first else { return XCTFail("detector.json has no case") }
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
        heads.boxSettings.nmsDevice = .cpu
        heads.boxSettings.detectionsPerImage = c.int("detections")
        let features = (0..<4).map { engineTensor(c.tensor("feature\($0)")) }
        let s = c.tensor("image_sizes").data.map { Int($0) }
        let sizes = [(height: s[0], width: s[1]), (height: s[2], width: s[3])]
        let padded = (height: c.int("padded_h"), width: c.int("padded_w"))

        for k in ["proposals", "boxes", "scores", "masks"] { print("DRIFT torch float32 vs float64 \(k) \(c.config["f64_\(k)"] ?? .nan)") }
        let maps = try fpn.forward(features, mode: .eval)
        let proposals = try heads.proposals(maps, paddedSize: padded, imageSizes: sizes, mode: .eval)
        for i in 0..<2 {
            XCTAssertEqual(proposals[i].count * 4, c.tensor("proposals\(i)").data.count, "image \(i) proposal count")
            if proposals[i].count * 4 == c.tensor("proposals\(i)").data.count {
                assertParity(relativeError(proposals[i].boxes, c.tensor("proposals\(i)").data), 1e-5, "detector proposals image \(i)")
            }
        }

        let out = try heads.detect(features: features, paddedSize: padded, imageSizes: sizes, originalSizes: [(24, 30), (16, 24)])
        for (i, o) in out.enumerated() {
            XCTAssertEqual(o.detections.labels, c.tensor("labels\(i)").data.map { Int($0) }, "image \(i) labels")
            guard o.detections.labels.count == c.tensor("labels\(i)").data.count else { continue }
            assertParity(relativeError(o.detections.boxes, c.tensor("boxes\(i)").data), 1e-5, "detector boxes image \(i)")
            assertParity(relativeError(o.detections.scores, c.tensor("scores\(i)").data), 1e-5, "detector scores image \(i)")
            assertParity(relativeError(o.masks, c.tensor("masks\(i)").data), 1e-4, "detector masks image \(i)")
            XCTAssertEqual(o.masks.map { $0 > 0.5 }, c.tensor("masks\(i)").data.map { $0 > 0.5 }, "image \(i) masks at 0.5")
        }
    }
}

/// `multiScaleRoIAlign` and its backward against torchvision's `MultiScaleRoIAlign`
/// (Fixtures/multiscale.json: boxes of every level, two images of different sizes).
final class MultiScaleRoIAlignTests: XCTestCase {
    func testForwardAndBackwardMatchTorchvision() throws {
        guard let c = detectionFixture("multiscale").first else { return XCTFail("multiscale.json has no case") }
        let maps = (0..<4).map { engineTensor(c.tensor("map\($0)")) }
        let sizes = [(height: 64, width: 90), (height: 50, width: 96)]
        let y = try multiScaleRoIAlign(maps, boxes: [c.tensor("boxes0").data, c.tensor("boxes1").data], imageSizes: sizes, output: 7)
        XCTAssertGreaterThan(Set(y.levels).count, 2, "boxes should reach several levels")
        assertParity(relativeError(LayoutConversion.nchw(y.features), c.tensor("output").data), 1e-6, "multiscale output")
        let d = multiScaleRoIAlignBackward(engineTensor(c.tensor("dout")), shapes: maps.map(\.shape), levels: y.levels, rois: y.rois, scales: y.scales)
        for (i, g) in d.enumerated() {
            assertParity(relativeError(LayoutConversion.nchw(g), c.tensor("dmap\(i)").data), 1e-6, "multiscale dmap\(i)")
        }
    }
}
