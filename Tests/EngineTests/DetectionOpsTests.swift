import XCTest
@testable import Engine
import TestSupport

/// The differentiable detection ops (RoIAlign, nearest resize, transposed conv, smooth L1, BCE
/// with logits): Double references against central finite differences, Float kernels against
/// the references, thread-count independence; and properties of the box ops.
final class DetectionOpsTests: XCTestCase {
    /// Regions (K, 5) over an image of `h`×`w` pixels with images in 0..<batch: some inside,
    /// some spilling over the border, one below a pixel, one wholly outside.
    static func regions(_ k: Int, batch: Int, h: Double, w: Double, seed: UInt64) -> [Double] {
        let v = testValues(5 * k, seed: seed)
        var r: [Double] = []
        for i in 0..<k {
            let cx = (v[5 * i] * 0.6 + 0.5) * w, cy = (v[5 * i + 1] * 0.6 + 0.5) * h
            let bw = (v[5 * i + 2] * 0.45 + 0.55) * w, bh = (v[5 * i + 3] * 0.45 + 0.55) * h
            r += [Double(i % batch), cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
        }
        r.replaceSubrange(0..<5, with: [0, 0.3 * w, 0.4 * h, 0.3 * w + 0.2, 0.4 * h + 0.1])
        if k > 1 { r.replaceSubrange(5..<10, with: [Double(1 % batch), w + 3, h + 2, w + 9, h + 7]) }
        // Keep corners on the float grid so the Float kernel samples where the Double reference does.
        return r.map { Double(Float($0)) }
    }

    static let roiGeometries: [RoIAlignGeometry] = [
        .init(batch: 2, height: 6, width: 7, channels: 3, outHeight: 3, outWidth: 3, spatialScale: 0.5, samplingRatio: 2),
        .init(batch: 1, height: 5, width: 8, channels: 2, outHeight: 2, outWidth: 4, spatialScale: 1, samplingRatio: 0),
        .init(batch: 2, height: 4, width: 4, channels: 19, outHeight: 7, outWidth: 7, spatialScale: 0.25, samplingRatio: 2),
    ]

    func testRoIAlignReferenceMatchesFiniteDifferences() {
        for (i, g) in Self.roiGeometries.enumerated() {
            let rois = Self.regions(5, batch: g.batch, h: Double(g.height) / Double(g.spatialScale),
                                    w: Double(g.width) / Double(g.spatialScale), seed: UInt64(10 + i))
            let x = testValues(g.inputShape.reduce(1, *), seed: UInt64(20 + i))
            let r = testValues(g.outputShape(regions: 5).reduce(1, *), seed: UInt64(30 + i))
            let numeric = numericalGradient(x) { zip(ReferenceDetection.roiAlignForward(x: $0, rois: rois, g), r).reduce(0) { $0 + $1.0 * $1.1 } }
            assertClose(ReferenceDetection.roiAlignBackward(dy: r, rois: rois, g), numeric, rtol: 1e-6, atol: 1e-8, "roi_align geometry \(i)")
        }
    }

    func testRoIAlignFloatMatchesReferenceForAnyThreadCount() throws {
        for (i, g) in Self.roiGeometries.enumerated() {
            let rois = Self.regions(5, batch: g.batch, h: Double(g.height) / Double(g.spatialScale),
                                    w: Double(g.width) / Double(g.spatialScale), seed: UInt64(10 + i))
            let x = testValues(g.inputShape.reduce(1, *), seed: UInt64(20 + i)).map { Double(Float($0)) }
            let dy = testValues(g.outputShape(regions: 5).reduce(1, *), seed: UInt64(30 + i)).map { Double(Float($0)) }
            let (xt, rt) = (Tensor(shape: g.inputShape, values: x.map(Float.init)), Tensor(shape: [5, 5], values: rois.map(Float.init)))
            var grads: [[Float]] = []
            for threads in [1, 2] {
                let (y, dx) = try Parallel.withThreads(threads) { () throws -> (Tensor, Tensor) in
                    let y = try roiAlign(xt, rois: rt, outHeight: g.outHeight, outWidth: g.outWidth,
                                         spatialScale: g.spatialScale, samplingRatio: g.samplingRatio)
                    let dx = Tensor(zeros: g.inputShape)
                    let dyt = Tensor(shape: y.shape, values: dy.map(Float.init))
                    roiAlignBackward(dx.data, dyt.data, rt.data, regions: 5, g)
                    return (y, dx)
                }
                assertClose(y.array, ReferenceDetection.roiAlignForward(x: x, rois: rois, g).map(Float.init), rtol: 1e-5, atol: 1e-6, "y geometry \(i)")
                assertClose(dx.array, ReferenceDetection.roiAlignBackward(dy: dy, rois: rois, g).map(Float.init), rtol: 1e-5, atol: 1e-6, "dx geometry \(i)")
                grads.append(dx.array)
            }
            XCTAssertEqual(grads[0].map(\.bitPattern), grads[1].map(\.bitPattern), "dx bytes, 1 vs 2 threads, geometry \(i)")
        }
    }

    func testRoIAlignRejectsBadRegions() {
        let x = Tensor(zeros: [1, 4, 4, 2])
        XCTAssertThrowsError(try roiAlign(x, rois: Tensor(shape: [1, 5], values: [1, 0, 0, 2, 2]), outHeight: 2, outWidth: 2,
                                          spatialScale: 1, samplingRatio: 2)) { e in
            XCTAssertTrue("\(e)".contains("image 0..<1"), "\(e)")
        }
        XCTAssertThrowsError(try roiAlign(x, rois: Tensor(shape: [1, 4], values: [0, 0, 2, 2]), outHeight: 2, outWidth: 2,
                                          spatialScale: 1, samplingRatio: 2))
        XCTAssertThrowsError(try roiAlign(x, rois: Tensor(shape: [1, 5], values: [0, .nan, 0, 2, 2]), outHeight: 2, outWidth: 2,
                                          spatialScale: 1, samplingRatio: 2))
    }

    func testNearestUpsampleReferenceAndFloat() throws {
        for (i, (h, w, oh, ow)) in [(3, 4, 6, 8), (3, 4, 5, 7), (4, 3, 7, 5), (3, 3, 3, 3)].enumerated() {
            let x = testValues(2 * h * w * 3, seed: UInt64(40 + i))
            let r = testValues(2 * oh * ow * 3, seed: UInt64(50 + i))
            let f = { (x: [Double]) in ReferenceDetection.nearestForward(x: x, batch: 2, height: h, width: w, channels: 3, outHeight: oh, outWidth: ow) }
            let ref = ReferenceDetection.nearestBackward(dy: r, batch: 2, height: h, width: w, channels: 3, outHeight: oh, outWidth: ow)
            assertClose(ref, numericalGradient(x) { zip(f($0), r).reduce(0) { $0 + $1.0 * $1.1 } }, rtol: 1e-6, atol: 1e-8, "nearest \(h)x\(w)→\(oh)x\(ow)")
            let y = try nearestUpsample(Tensor(shape: [2, h, w, 3], values: x.map(Float.init)), outHeight: oh, outWidth: ow)
            XCTAssertEqual(y.array, f(x.map { Double(Float($0)) }).map(Float.init))
            let dx = Tensor(uninitialized: [2, h, w, 3]), dy = Tensor(shape: [2, oh, ow, 3], values: r.map(Float.init))
            nearestUpsampleBackward(dx.data, dy.data, batch: 2, height: h, width: w, channels: 3, outHeight: oh, outWidth: ow)
            assertClose(dx.array, ref.map(Float.init), rtol: 1e-6, atol: 1e-6, "nearest dx")
        }
    }

    func testConvTransposeReferenceAndFloat() throws {
        let g = ConvTranspose2dGeometry(batch: 2, height: 3, width: 2, inChannels: 4, outChannels: 3, kernel: 2)
        let x = testValues(g.inputShape.reduce(1, *), seed: 60), w = testValues(4 * 3 * 4, seed: 61), b = testValues(3, seed: 62)
        let r = testValues(g.outputShape.reduce(1, *), seed: 63)
        let dot = { (y: [Double]) in zip(y, r).reduce(0) { $0 + $1.0 * $1.1 } }
        let ref = ReferenceDetection.convTransposeBackward(dy: r, x: x, w: w, g)
        assertClose(ref.dx, numericalGradient(x) { dot(ReferenceDetection.convTransposeForward(x: $0, w: w, b: b, g)) }, rtol: 1e-6, atol: 1e-8, "dx")
        assertClose(ref.dw, numericalGradient(w) { dot(ReferenceDetection.convTransposeForward(x: x, w: $0, b: b, g)) }, rtol: 1e-6, atol: 1e-8, "dw")
        assertClose(ref.db, numericalGradient(b) { dot(ReferenceDetection.convTransposeForward(x: x, w: w, b: $0, g)) }, rtol: 1e-6, atol: 1e-8, "db")

        let store = ParameterStore()
        let layer = ConvTranspose2d(store: store, name: "up", inChannels: 4, outChannels: 3, kernel: 2, weightInit: .zeros)
        store.finalize()
        layer.weight.setTorchValues(w.map(Float.init))
        layer.bias!.setTorchValues(b.map(Float.init))
        let xf = x.map { Double(Float($0)) }, wf = w.map { Double(Float($0)) }, bf = b.map { Double(Float($0)) }
        let y = try layer.forward(Tensor(shape: g.inputShape, values: x.map(Float.init)), mode: .train)
        assertClose(y.array, ReferenceDetection.convTransposeForward(x: xf, w: wf, b: bf, g).map(Float.init), rtol: 1e-5, atol: 1e-6, "y")
        let dx = layer.backward(Tensor(shape: g.outputShape, values: r.map(Float.init)))
        let rf = ReferenceDetection.convTransposeBackward(dy: r.map { Double(Float($0)) }, x: xf, w: wf, g)
        assertClose(dx.array, rf.dx.map(Float.init), rtol: 1e-5, atol: 1e-6, "dx")
        assertClose(layer.weight.torchGrad(), rf.dw.map(Float.init), rtol: 1e-5, atol: 1e-6, "dw")
        assertClose(layer.bias!.torchGrad(), rf.db.map(Float.init), rtol: 1e-5, atol: 1e-6, "db")
    }

    func testLossesMatchFiniteDifferencesAndFloat() {
        let beta = 1.0 / 9
        // Differences kept away from the kink at |d| = β, where the derivative jumps.
        var pred = testValues(40, seed: 70).map { $0 * 0.4 }
        let target = testValues(40, seed: 71).map { $0 * 0.4 }
        for i in pred.indices where abs(abs(pred[i] - target[i]) - beta) < 1e-3 { pred[i] += 0.01 }
        assertClose(ReferenceDetection.smoothL1Gradient(pred: pred, target: target, beta: beta, divisor: 7),
                    numericalGradient(pred) { ReferenceDetection.smoothL1(pred: $0, target: target, beta: beta, divisor: 7) }, rtol: 1e-6, atol: 1e-9, "smooth L1")
        let (pf, tf) = (pred.map(Float.init), target.map(Float.init))
        let lossF = smoothL1LossForward(pf, tf, count: 40, beta: Float(beta), divisor: 7)
        XCTAssertEqual(Double(lossF), ReferenceDetection.smoothL1(pred: pf.map(Double.init), target: tf.map(Double.init), beta: Double(Float(beta)), divisor: 7), accuracy: 1e-6)
        var dpred = [Float](repeating: 0, count: 40)
        smoothL1LossBackward(&dpred, pf, tf, count: 40, beta: Float(beta), divisor: 7, dloss: 1)
        assertClose(dpred, ReferenceDetection.smoothL1Gradient(pred: pf.map(Double.init), target: tf.map(Double.init), beta: Double(Float(beta)), divisor: 7).map(Float.init),
                    rtol: 1e-5, atol: 1e-7, "smooth L1 Float")

        let logits = testValues(30, seed: 72).map { $0 * 6 }
        let targets = testValues(30, seed: 73).map { ($0 + 1) / 2 }
        assertClose(ReferenceDetection.bceWithLogitsGradient(logits: logits, targets: targets),
                    numericalGradient(logits) { ReferenceDetection.bceWithLogits(logits: $0, targets: targets) }, rtol: 1e-6, atol: 1e-9, "BCE")
        let (lf, yf) = (logits.map(Float.init), targets.map(Float.init))
        XCTAssertEqual(Double(bceWithLogitsForward(lf, yf, count: 30)),
                       ReferenceDetection.bceWithLogits(logits: lf.map(Double.init), targets: yf.map(Double.init)), accuracy: 1e-6)
        var dl = [Float](repeating: 0, count: 30)
        bceWithLogitsBackward(&dl, lf, yf, count: 30, dloss: 1)
        assertClose(dl, ReferenceDetection.bceWithLogitsGradient(logits: lf.map(Double.init), targets: yf.map(Double.init)).map(Float.init), rtol: 1e-5, atol: 1e-7, "BCE Float")
        // Saturated logits stay finite (log σ(x) without overflow).
        let big: [Float] = [100, -100, 88, -88]
        XCTAssertTrue(bceWithLogitsForward(big, [0, 1, 1, 0], count: 4).isFinite)
    }

    /// decode(encode(box)) gives the box back (the two are inverse maps while dw, dh stay under the clip).
    func testBoxCoderRoundTrip() {
        for coder in [BoxCoder.rpn, BoxCoder.roiHeads] {
            let v = testValues(4 * 20, seed: 80)
            var proposals: [Float] = [], matched: [Float] = []
            for k in 0..<20 {
                let (x, y) = (Float(v[4 * k] + 1) * 200, Float(v[4 * k + 1] + 1) * 150)
                let (w, h) = (Float(v[4 * k + 2] + 1.2) * 40, Float(v[4 * k + 3] + 1.2) * 30)
                proposals += [x, y, x + w, y + h]
                matched += [x + 0.1 * w, y - 0.2 * h, x + 1.3 * w, y + 0.9 * h]
            }
            var deltas = [Float](repeating: 0, count: 80), back = [Float](repeating: 0, count: 80)
            coder.encode(&deltas, matched: matched, proposals: proposals, count: 20)
            coder.decode(&back, deltas: deltas, boxes: proposals, count: 20)
            assertClose(back, matched, rtol: 1e-5, atol: 1e-3, "round trip weights \(coder.wx)")
        }
    }

    /// NMS keeps no two boxes of a group above the threshold, and every dropped box overlaps a
    /// kept box of its group that ranks before it.
    func testBatchedNMSInvariants() {
        let v = testValues(4 * 200, seed: 90)
        var boxes: [Float] = []
        for k in 0..<200 {
            let (x, y) = (Float(v[4 * k] + 1) * 50, Float(v[4 * k + 1] + 1) * 50)
            boxes += [x, y, x + 10 + Float(v[4 * k + 2] + 1) * 20, y + 10 + Float(v[4 * k + 3] + 1) * 20]
        }
        let scores = testValues(200, seed: 91).map { Float(($0 * 4).rounded()) }   // many ties
        let groups = testValues(200, seed: 92).map { Int(($0 + 1) * 1.5) }
        var iou = [Float](repeating: 0, count: 200 * 200)
        boxIoU(&iou, boxes, count: 200, boxes, count: 200)
        for strategy in [BatchedNMSStrategy.coordinateOffsets, .perGroup] {
            let keep = batchedNMS(boxes, scores, groups: groups, count: 200, iouThreshold: 0.5, strategy: strategy)
            let kept = Set(keep)
            for (a, i) in keep.enumerated() {
                for j in keep[(a + 1)...] where groups[i] == groups[j] { XCTAssertLessThanOrEqual(iou[i * 200 + j], 0.5 + 1e-6, "\(strategy) kept \(i), \(j)") }
                if a > 0 { XCTAssertGreaterThanOrEqual(scores[keep[a - 1]], scores[i], "\(strategy) order") }
            }
            let order = stableDescendingOrder(scores, count: 200)
            let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
            for j in 0..<200 where !kept.contains(j) {
                XCTAssertTrue(keep.contains { groups[$0] == groups[j] && rank[$0]! < rank[j]! && iou[$0 * 200 + j] > 0.5 - 1e-6 },
                              "\(strategy): box \(j) dropped without a kept box over it")
            }
        }
    }

    func testStableOrderAndEmptyInputs() {
        XCTAssertEqual(stableDescendingOrder([1, 3, 3, .nan, 2], count: 5), [3, 1, 2, 4, 0])
        XCTAssertEqual(nms([], [], count: 0, iouThreshold: 0.5), [])
        XCTAssertEqual(batchedNMS([], [], groups: [], count: 0, iouThreshold: 0.5, strategy: .perGroup), [])
        XCTAssertEqual(BatchedNMSStrategy.torchvision(count: 1000, device: .cpu), .coordinateOffsets)
        XCTAssertEqual(BatchedNMSStrategy.torchvision(count: 1001, device: .cpu), .perGroup)
        XCTAssertEqual(BatchedNMSStrategy.torchvision(count: 5000, device: .cuda), .coordinateOffsets)
        XCTAssertEqual(BatchedNMSStrategy.torchvision(count: 5001, device: .cuda), .perGroup)
    }

    func testReferenceAnchorsHaveFifteenPerLocation() {
        let gen = AnchorGenerator.reference()
        XCTAssertEqual(gen.anchorsPerLocation(0), 15)
        let (boxes, perLevel) = gen.anchors(imageHeight: 64, imageWidth: 64, featureSizes: [(16, 16), (8, 8), (4, 4), (2, 2), (1, 1)])
        XCTAssertEqual(perLevel, [16 * 16 * 15, 8 * 8 * 15, 4 * 4 * 15, 2 * 2 * 15, 15])
        XCTAssertEqual(boxes.count, 4 * perLevel.reduce(0, +))
        // Ratio 1, size 32 on level 0 at location (0, 0): (−16, −16, 16, 16).
        XCTAssertEqual(Array(boxes[(4 * 5)..<(4 * 6)]), [-16, -16, 16, 16])
    }
}
