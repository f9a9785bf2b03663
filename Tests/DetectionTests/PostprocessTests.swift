import XCTest
@testable import Detection
import Engine
import TestSupport

/// The box head's inference path against torchvision (Fixtures/postprocess.json):
/// `RoIHeads.postprocess_detections` with few and with many candidate pairs (both sides of
/// batched_nms's CPU size rule), then `resize_boxes` to the original image. Labels must be equal,
/// boxes and scores within max-normalised 1e-6 (softmax and exp in another order).
final class PostprocessTests: XCTestCase {
    func testPostprocessMatchesTorchvision() {
        let cases = detectionFixture("postprocess")
        XCTAssertEqual(cases.count, 2)
        let sizes = [(60, 80), (50, 70)]
        for c in cases {
            let k = c.int("proposals"), classes = c.int("classes")
            var settings = BoxHeadSettings()
            settings.nmsDevice = .cpu
            let logits = c.tensor("logits").data, deltas = c.tensor("deltas").data, proposals = c.tensor("proposals").data
            for i in 0..<2 {
                let d = logits.withUnsafeBufferPointer { l in deltas.withUnsafeBufferPointer { dl in proposals.withUnsafeBufferPointer { p in
                    postprocessDetections(logits: l.baseAddress! + i * k * classes, deltas: dl.baseAddress! + i * k * 4 * classes,
                                          proposals: p.baseAddress! + i * k * 4, count: k, classes: classes,
                                          imageHeight: sizes[i].0, imageWidth: sizes[i].1, settings: settings)
                } } }
                XCTAssertEqual(d.labels, c.tensor("labels\(i)").data.map { Int($0) }, "\(c.name) image \(i) labels")
                assertParity(relativeError(d.boxes, c.tensor("boxes\(i)").data), 1e-6, "\(c.name) image \(i) boxes")
                assertParity(relativeError(d.scores, c.tensor("scores\(i)").data), 1e-6, "\(c.name) image \(i) scores")
                var original = d.boxes
                resizeBoxes(&original, from: (sizes[i].0, sizes[i].1), to: (97, 130))
                assertParity(relativeError(original, c.tensor("original_boxes\(i)").data), 1e-6, "\(c.name) image \(i) resized")
            }
        }
    }
}

/// `GeneralizedRCNNTransform` against torchvision (Fixtures/transform.json): the padded batch of
/// two normalised, resized images (max-normalised error ≤ 1e-6), their sizes, and the resized
/// sizes at the reference's 640 / 1066 for COCO-like shapes (equal).
final class TransformTests: XCTestCase {
    func testTransformMatchesTorchvision() throws {
        guard let c = detectionFixture("transform").first else { return XCTFail("transform.json has no case") }
        var t = RCNNTransform()
        t.minSize = c.int("min_size"); t.maxSize = c.int("max_size")
        func hwc(_ f: FixtureTensor) -> Tensor {   // (C, H, W) → (H, W, C)
            let (ch, h, w) = (f.shape[0], f.shape[1], f.shape[2])
            let x = Tensor(uninitialized: [h, w, ch])
            for k in 0..<ch { for p in 0..<(h * w) { x.data[p * ch + k] = f.data[k * h * w + p] } }
            return x
        }
        let (batch, sizes) = try t.batch([hwc(c.tensor("image0")), hwc(c.tensor("image1"))])
        XCTAssertEqual(batch.shape, engineTensor(c.tensor("batch")).shape)
        assertParity(relativeError(LayoutConversion.nchw(batch), c.tensor("batch").data), 1e-6, "transform batch")
        XCTAssertEqual(sizes.flatMap { [Float($0.height), Float($0.width)] }, c.tensor("image_sizes").data)
        let shapes = c.tensor("shapes").data.map { Int($0) }, expected = c.tensor("sizes_640").data.map { Int($0) }
        let reference = RCNNTransform()
        XCTAssertEqual(reference.maxSize, 1066)
        for i in 0..<(shapes.count / 2) {
            let s = reference.resizedSize(height: shapes[2 * i], width: shapes[2 * i + 1])
            XCTAssertEqual([s.height, s.width], [expected[2 * i], expected[2 * i + 1]], "\(shapes[2 * i])×\(shapes[2 * i + 1])")
        }
        XCTAssertThrowsError(try t.batch([Tensor(zeros: [4, 4, 1])]))
        // Training targets resized with their images.
        for i in 0..<2 {
            let m = c.tensor("masks\(i)")
            let target = DetectionTarget(boxes: c.tensor("boxes\(i)").data, labels: Array(repeating: 1, count: m.shape[0]),
                                         masks: Tensor(shape: m.shape, values: m.data))
            let r = try t.resize(target, from: (m.shape[1], m.shape[2]), to: sizes[i])
            assertParity(relativeError(r.boxes, c.tensor("resized_boxes\(i)").data), 1e-6, "resized boxes \(i)")
            XCTAssertEqual(r.masks.array, c.tensor("resized_masks\(i)").data, "resized masks \(i)")
            XCTAssertEqual(r.masks.shape, c.tensor("resized_masks\(i)").shape)
        }
        XCTAssertThrowsError(try t.resize(DetectionTarget(boxes: [0, 0, 1, 1], labels: [1], masks: Tensor(zeros: [1, 3, 3])), from: (4, 4), to: (8, 8)))
    }
}
