import XCTest
@testable import Engine
import TestSupport

/// The detection ops against torchvision (Fixtures/detection.json, written by
/// Tools/detection/make_fixtures.py with torch/torchvision's CPU kernels). Tolerances: integer
/// results (kept indices, levels, anchors, clipping) must be equal; float results are compared
/// with max-normalised error ≤ 1e-6 (the kernels evaluate torchvision's float32 formulas in the
/// same order; what remains is exp/log rounding and, for gradients, summation order).

/// Asserts a parity error against its tolerance and prints it (`PARITY <what> <error>`), so the
/// measured errors can be read off a test run.
func assertParity(_ error: Double, _ tolerance: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    print("PARITY \(what) \(error)")
    XCTAssertLessThanOrEqual(error, tolerance, what, file: file, line: line)
}

final class DetectionParityTests: XCTestCase {
    static let cases: [FixtureCase] = {
        (try? loadFixtureCases("detection")) ?? []
    }()

    func cases(_ prefix: String) -> [FixtureCase] {
        let c = Self.cases.filter { $0.name.hasPrefix(prefix) }
        XCTAssertFalse(c.isEmpty, "Fixtures/detection.json has no \(prefix) case: regenerate with python3 -m Tools.detection.make_fixtures")
        return c
    }

    func ints(_ t: FixtureTensor) -> [Int] { t.data.map { Int($0) } }

    func testEveryCaseIsChecked() {
        let known = ["roi_align", "multiscale", "level_mapper", "encode", "decode", "clip", "small", "batched_nms", "nms",
                     "anchors", "smooth_l1", "bce", "nearest", "conv_transpose", "max_pool_k1s2", "paste_masks"]
        XCTAssertGreaterThanOrEqual(Self.cases.count, 30, "Fixtures/detection.json missing or short")
        for c in Self.cases { XCTAssertTrue(known.contains { c.name.hasPrefix($0) }, "unchecked fixture case \(c.name)") }
    }

    func testRoIAlign() throws {
        for c in cases("roi_align") {
            let x = engineTensor(c.tensor("input")), rois = Tensor(shape: c.tensor("rois").shape, values: c.tensor("rois").data)
            let y = try roiAlign(x, rois: rois, outHeight: c.int("out_h"), outWidth: c.int("out_w"),
                                 spatialScale: Float(c.config["scale"]!), samplingRatio: c.int("sampling_ratio"))
            assertParity(relativeError(LayoutConversion.nchw(y), c.tensor("output").data), 1e-6, "output \(c.name)")
            let g = try RoIAlignGeometry.checked(featureShape: x.shape, outHeight: c.int("out_h"), outWidth: c.int("out_w"),
                                                 spatialScale: Float(c.config["scale"]!), samplingRatio: c.int("sampling_ratio"))
            let dx = Tensor(zeros: x.shape), dy = engineTensor(c.tensor("dout"))
            roiAlignBackward(dx.data, dy.data, rois.data, regions: rois.shape[0], g)
            assertParity(relativeError(LayoutConversion.nchw(dx), c.tensor("dinput").data), 1e-6, "dinput \(c.name)")
        }
    }

    /// MultiScaleRoIAlign from its parts: the scales and mapper set up from the maps and image
    /// sizes, each box pooled from its level's map with that map's scale.
    func testMultiScaleRoIAlign() throws {
        for c in cases("multiscale") {
            let feats = (0..<4).map { engineTensor(c.tensor("feature\($0)")) }
            let sizes = c.tensor("image_sizes").data
            let imageSizes = stride(from: 0, to: sizes.count, by: 2).map { (height: Int(sizes[$0]), width: Int(sizes[$0 + 1])) }
            let (scales, mapper) = LevelMapper.setup(featureHeights: feats.map { $0.shape[1] }, imageSizes: imageSizes)
            let boxes = c.tensor("boxes").data, counts = ints(c.tensor("counts"))
            let k = boxes.count / 4, out = c.int("out"), C = feats[0].shape[3]
            let levels = mapper.levels(boxes, count: k)
            var image: [Int] = []
            for (i, n) in counts.enumerated() { image += Array(repeating: i, count: n) }
            var result = [Float](repeating: 0, count: k * out * out * C)
            for level in 0..<4 {
                let members = (0..<k).filter { levels[$0] == level }
                if members.isEmpty { continue }
                let rois = Tensor(shape: [members.count, 5], values: members.flatMap { [Float(image[$0])] + boxes[(4 * $0)..<(4 * $0 + 4)] })
                let y = try roiAlign(feats[level], rois: rois, outHeight: out, outWidth: out, spatialScale: scales[level], samplingRatio: 2)
                for (j, m) in members.enumerated() {
                    for e in 0..<(out * out * C) { result[m * out * out * C + e] = y.data[j * out * out * C + e] }
                }
            }
            let yt = LayoutConversion.nchw(Tensor(shape: [k, out, out, C], values: result))
            assertParity(relativeError(yt, c.tensor("output").data), 1e-6, c.name)
            XCTAssertGreaterThan(Set(levels).count, 1, "\(c.name): boxes should reach several levels")
        }
    }

    func testLevelMapper() {
        for c in cases("level_mapper") {
            let (scales, mapper) = LevelMapper.setup(featureHeights: [200, 100, 50, 25], imageSizes: [(800, 1000), (760, 990)])
            XCTAssertEqual(scales, c.tensor("scales").data, c.name)
            XCTAssertEqual([mapper.kMin, mapper.kMax], [c.int("k_min"), c.int("k_max")])
            let boxes = c.tensor("boxes").data
            XCTAssertEqual(mapper.levels(boxes, count: boxes.count / 4), ints(c.tensor("levels")), c.name)
        }
    }

    func testBoxCoder() {
        func coder(_ c: FixtureCase) -> BoxCoder {
            BoxCoder(weights: (Float(c.config["wx"]!), Float(c.config["wy"]!), Float(c.config["ww"]!), Float(c.config["wh"]!)))
        }
        for c in cases("encode") {
            let p = c.tensor("proposals").data
            var t = [Float](repeating: 0, count: p.count)
            coder(c).encode(&t, matched: c.tensor("matched").data, proposals: p, count: p.count / 4)
            assertParity(relativeError(t, c.tensor("targets").data), 1e-6, c.name)
        }
        for c in cases("decode") {
            let b = c.tensor("boxes").data, classes = c.int("classes")
            var out = [Float](repeating: 0, count: b.count * classes)
            coder(c).decode(&out, deltas: c.tensor("deltas").data, boxes: b, count: b.count / 4, classes: classes)
            assertParity(relativeError(out, c.tensor("decoded").data), 1e-6, c.name)
        }
    }

    func testClipAndSmallBoxes() {
        for c in cases("clip") {
            var b = c.tensor("boxes").data
            clipBoxes(&b, count: b.count / 4, height: c.int("height"), width: c.int("width"))
            XCTAssertEqual(b, c.tensor("clipped").data, c.name)
        }
        for c in cases("small") {
            let b = c.tensor("boxes").data
            XCTAssertEqual(removeSmallBoxes(b, count: b.count / 4, minSize: Float(c.config["min_size"]!)), ints(c.tensor("keep")), c.name)
        }
    }

    func testNMS() {
        for c in cases("nms") {
            let b = c.tensor("boxes").data, s = c.tensor("scores").data
            XCTAssertEqual(nms(b, s, count: s.count, iouThreshold: c.config["iou"]!), ints(c.tensor("keep")), c.name)
        }
        for c in cases("batched_nms") {
            let b = c.tensor("boxes").data, s = c.tensor("scores").data, groups = ints(c.tensor("groups"))
            XCTAssertEqual(batchedNMS(b, s, groups: groups, count: s.count, iouThreshold: c.config["iou"]!, strategy: .coordinateOffsets),
                           ints(c.tensor("keep_offsets")), "\(c.name) offsets")
            let perGroup = batchedNMS(b, s, groups: groups, count: s.count, iouThreshold: c.config["iou"]!, strategy: .perGroup)
            let expected = ints(c.tensor("keep_per_group"))
            if c.int("ties") == 0 {
                XCTAssertEqual(perGroup, expected, "\(c.name) per group")
            } else {
                // torchvision orders the kept boxes with a non-stable sort: among equal scores its
                // order is the sort's. Same boxes, same score sequence; ties in index order here.
                XCTAssertEqual(Set(perGroup), Set(expected), "\(c.name) per group: kept boxes")
                XCTAssertEqual(perGroup.map { s[$0] }, expected.map { s[$0] }, "\(c.name) per group: score order")
            }
        }
    }

    func testAnchors() {
        for c in cases("anchors") {
            let gen = c.name.hasSuffix("reference") ? AnchorGenerator.reference()
                : AnchorGenerator(sizes: [[32], [64], [128], [256], [512]], aspectRatios: Array(repeating: [0.5, 1, 2], count: 5))
            XCTAssertEqual(gen.anchorsPerLocation(0), c.int("per_location"))
            XCTAssertEqual((0..<5).flatMap { gen.cellAnchors($0) }, c.tensor("cell_anchors").data, "\(c.name) cell anchors")
            let fs = ints(c.tensor("feature_sizes"))
            let sizes = (0..<5).map { (height: fs[2 * $0], width: fs[2 * $0 + 1]) }
            let (boxes, _) = gen.anchors(imageHeight: c.int("padded_h"), imageWidth: c.int("padded_w"), featureSizes: sizes)
            XCTAssertEqual(boxes, c.tensor("anchors").data, c.name)
        }
    }

    func testLosses() {
        for c in cases("smooth_l1") {
            let p = c.tensor("pred").data, t = c.tensor("target").data
            let (beta, div) = (Float(c.config["beta"]!), Float(c.config["divisor"]!))
            XCTAssertEqual(smoothL1LossForward(p, t, count: p.count, beta: beta, divisor: div), c.tensor("loss").data[0], accuracy: 1e-6)
            var d = [Float](repeating: 0, count: p.count)
            smoothL1LossBackward(&d, p, t, count: p.count, beta: beta, divisor: div, dloss: Float(c.config["dloss"]!))
            assertParity(relativeError(d, c.tensor("dpred").data), 1e-6, c.name)
        }
        for c in cases("bce") {
            let x = c.tensor("logits").data, y = c.tensor("targets").data
            XCTAssertEqual(bceWithLogitsForward(x, y, count: x.count), c.tensor("loss").data[0], accuracy: 1e-5)
            var d = [Float](repeating: 0, count: x.count)
            bceWithLogitsBackward(&d, x, y, count: x.count, dloss: Float(c.config["dloss"]!))
            assertParity(relativeError(d, c.tensor("dlogits").data), 1e-6, c.name)
        }
    }

    func testNearestUpsample() throws {
        for c in cases("nearest") {
            let x = engineTensor(c.tensor("input"))
            let y = try nearestUpsample(x, outHeight: c.int("out_h"), outWidth: c.int("out_w"))
            XCTAssertEqual(LayoutConversion.nchw(y), c.tensor("output").data, c.name)
            let dx = Tensor(uninitialized: x.shape), dy = engineTensor(c.tensor("dout"))
            nearestUpsampleBackward(dx.data, dy.data, batch: x.shape[0], height: x.shape[1], width: x.shape[2], channels: x.shape[3],
                                    outHeight: c.int("out_h"), outWidth: c.int("out_w"))
            assertParity(relativeError(LayoutConversion.nchw(dx), c.tensor("dinput").data), 1e-6, c.name)
        }
    }

    func testConvTranspose() throws {
        for c in cases("conv_transpose") {
            let x = engineTensor(c.tensor("input")), w = c.tensor("weight")
            let store = ParameterStore()
            let layer = ConvTranspose2d(store: store, name: "t", inChannels: w.shape[0], outChannels: w.shape[1], kernel: c.int("kernel"), weightInit: .zeros)
            store.finalize()
            layer.weight.setTorchValues(w.data)
            layer.bias!.setTorchValues(c.tensor("bias").data)
            let y = try layer.forward(x, mode: .train)
            assertParity(relativeError(LayoutConversion.nchw(y), c.tensor("output").data), 1e-6, "output \(c.name)")
            let dx = layer.backward(engineTensor(c.tensor("dout")))
            assertParity(relativeError(LayoutConversion.nchw(dx), c.tensor("dinput").data), 1e-6, "dinput \(c.name)")
            assertParity(relativeError(layer.weight.torchGrad(), c.tensor("dweight").data), 1e-6, "dweight \(c.name)")
            assertParity(relativeError(layer.bias!.torchGrad(), c.tensor("dbias").data), 1e-6, "dbias \(c.name)")
        }
    }

    /// The FPN's LastLevelMaxPool is `max_pool2d(x, 1, 2, 0)`: the engine's MaxPool2d with kernel 1.
    func testMaxPoolKernel1Stride2() throws {
        for c in cases("max_pool_k1s2") {
            let pool = MaxPool2d(kernel: 1, stride: 2, padding: 0)
            let y = try pool.forward(engineTensor(c.tensor("input")), mode: .train)
            XCTAssertEqual(LayoutConversion.nchw(y), c.tensor("output").data, c.name)
            XCTAssertEqual(LayoutConversion.nchw(pool.backward(engineTensor(c.tensor("dout")))), c.tensor("dinput").data, c.name)
        }
    }

    func testPasteMasks() {
        for c in cases("paste_masks") {
            let (h, w, m) = (c.int("height"), c.int("width"), c.int("side"))
            let boxes = c.tensor("boxes").data, k = boxes.count / 4
            var out = [Float](repeating: .nan, count: k * h * w)
            pasteMasksInImage(&out, masks: c.tensor("masks").data, boxes: boxes, count: k, side: m, imageHeight: h, imageWidth: w)
            assertParity(relativeError(out, c.tensor("output").data), 1e-6, c.name)
            XCTAssertEqual(out.map { $0 > 0.5 }, c.tensor("output").data.map { $0 > 0.5 }, "\(c.name): masks at 0.5")
        }
    }
}
