import Detection
import Engine
import Foundation
import RunStore
import TestSupport
import XCTest
import Zoo

/// `rkan-repro forward` for a detector spec on a width-scaled Mask R-CNN (ResNet-50 at 1/8 width
/// with an RKAN block; heads scaled alike): eval detections per image, train-mode losses,
/// gradients and draws, both weight namings, and refused input.
final class DetectionForwardTests: XCTestCase {
    static let spec = "maskrcnn(resnet50(width=0.125)+rkan)"
    static let classes = 5

    /// rkan-repro's state dict of the detector, or with `referenceNames` the same tensors as
    /// RKAN_RCNN's `state_dict()` names them (every alias, plus an unused `rkan_components.resnet`
    /// stem under the stored class's layout).
    static func weights(in folder: URL, seed: UInt64 = 3, referenceNames: Bool = false, classes: Int = classes) throws -> URL {
        let model = try MaskRCNN(spec: ModelSpec(parsing: spec), classes: classes)
        model.initialize(seed: seed)
        var entries: [WeightEntry] = []
        for e in model.store.weightEntries() {
            if !referenceNames { entries.append(e); continue }
            for name in MaskRCNN.referenceAliases(of: e.key) { var a = e; a.key = name; entries.append(a) }
        }
        if referenceNames {
            // The stored RKAN_RCNN's never-run ResNet: a different stem under rkan_components.resnet.
            let stem = try XCTUnwrap(entries.first { $0.key == "model.backbone.body.conv1.weight" })
            entries.append(WeightEntry(key: "rkan_components.resnet.conv1.weight", shape: stem.shape,
                                       floats: [Float](repeating: 7, count: stem.values.count)))
        }
        let url = folder.appendingPathComponent(referenceNames ? "w-ref.h5" : "w.h5")
        let f = try HDF5File.create(url.path)
        for e in entries {
            switch e.values {
            case let .float32(v): try f.write(v, shape: e.shape, to: "/weights/\(e.key)")
            case let .int64(v): try f.write(v, shape: e.shape, to: "/weights/\(e.key)")
            }
        }
        try f.close()
        return url
    }

    /// Two images of different sizes; with `targets` two objects in the first and one in the second.
    static func input(in folder: URL, name: String = "x.h5", targets: Bool = false, draws: [DetectionParityDraw]? = nil,
                      edit: (inout DetectionParityInput) -> Void = { _ in }) throws -> URL {
        let sizes = [(48, 64), (40, 30)]
        var x = DetectionParityInput(images: sizes.enumerated().map { i, s in
            ShapedArray(shape: [3, s.0, s.1], values: testValues(3 * s.0 * s.1, seed: UInt64(10 + i)).map { Float($0 + 1) / 2 })
        })
        if targets {
            func target(_ h: Int, _ w: Int, _ boxes: [(Int, Int, Int, Int)], _ labels: [Int64]) -> DetectionParityTarget {
                var m = [UInt8](repeating: 0, count: boxes.count * h * w)
                for (g, b) in boxes.enumerated() { for y in b.1..<b.3 { for x in b.0..<b.2 { m[g * h * w + y * w + x] = 1 } } }
                return DetectionParityTarget(boxes: boxes.flatMap { [Float($0.0), Float($0.1), Float($0.2), Float($0.3)] }, labels: labels,
                                             masks: ShapedArray(shape: [boxes.count, h, w], values: m))
            }
            x.targets = [target(48, 64, [(6, 8, 30, 30), (36, 20, 60, 44)], [1, 3]), target(40, 30, [(4, 5, 25, 33)], [2])]
        }
        x.draws = draws
        edit(&x)
        let url = folder.appendingPathComponent(name)
        try DetectionParityFile.writeInput(x, to: url)
        return url
    }

    func forward(_ w: URL, _ x: URL, _ y: URL, grad: Bool = false, extra: [String] = []) throws -> CLI.Result {
        let r = try CLI.run(["forward", "--model", Self.spec, "--classes", "\(Self.classes)", "--weights", w.path, "--input", x.path,
                             "--output", y.path] + (grad ? ["--grad"] : []) + extra)
        XCTAssertFalse(r.killedBySignal, r.stderr)
        return r
    }

    func testEvalGivesDetectionsAndMasksPerImageInTheOriginalPixels() throws {
        let root = try CLI.tempFolder("det-eval")
        let w = try Self.weights(in: root), x = try Self.input(in: root)
        let y1 = root.appendingPathComponent("y1.h5"), y2 = root.appendingPathComponent("y2.h5")
        let r = try forward(w, x, y1)
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("detections per image"), r.stdout)
        let out = try DetectionParityFile.readOutput(y1)
        XCTAssertEqual(out.detections.count, 2)
        for (d, (h, w)) in zip(out.detections, [(48, 64), (40, 30)]) {
            let n = d.scores.count
            XCTAssertEqual(d.masks.shape, [n, 1, h, w])
            XCTAssertEqual(d.boxes.count, 4 * n); XCTAssertEqual(d.labels.count, n)
            XCTAssertTrue(d.labels.allSatisfy { (1..<Int64(Self.classes)).contains($0) })
            XCTAssertTrue(d.scores.allSatisfy { $0 > 0.05 && $0 <= 1 })
            XCTAssertTrue(d.masks.values.allSatisfy { $0 >= 0 && $0 <= 1 })
            for b in 0..<n {
                XCTAssertTrue(d.boxes[4 * b] >= 0 && d.boxes[4 * b + 2] <= Float(w) && d.boxes[4 * b + 1] >= 0 && d.boxes[4 * b + 3] <= Float(h))
            }
        }
        XCTAssertGreaterThan(out.detections.map(\.scores.count).reduce(0, +), 0, "random heads over 5 classes leave detections above 0.05")
        XCTAssertEqual(try forward(w, x, y2, extra: ["--threads", "2"]).code, 0)
        XCTAssertEqual(try Data(contentsOf: y1), try Data(contentsOf: y2), "same bytes for 1 and 2 threads")
    }

    func testGradWritesTheFiveLossesEveryGradientAndTheDrawsWhichReplayBitwise() throws {
        let root = try CLI.tempFolder("det-grad")
        let w = try Self.weights(in: root), x = try Self.input(in: root, targets: true)
        let y = root.appendingPathComponent("y.h5")
        let r = try forward(w, x, y, grad: true)
        XCTAssertEqual(r.code, 0, r.stderr)
        let out = try DetectionParityFile.readOutput(y)
        XCTAssertEqual(out.losses.map(\.name).sorted(), ["loss_box_reg", "loss_classifier", "loss_mask", "loss_objectness", "loss_rpn_box_reg"])
        XCTAssertTrue(out.losses.allSatisfy { $0.value.isFinite && $0.value > 0 }, "\(out.losses)")
        let model = try MaskRCNN(spec: ModelSpec(parsing: Self.spec), classes: Self.classes)
        XCTAssertEqual(out.grads.map(\.key), model.store.parameters.map(\.name))
        XCTAssertEqual(out.grads.map(\.shape), model.store.parameters.map(\.shape), "PyTorch layout")
        XCTAssertTrue(out.grads.contains { $0.key.hasPrefix("rkan_components.kan_conv1.3.") && $0.values.floats!.contains { $0 != 0 } })
        XCTAssertTrue(out.grads.contains { $0.key.hasPrefix("roi_heads.mask_predictor.") && $0.values.floats!.contains { $0 != 0 } })
        XCTAssertEqual(out.draws.count, 2)
        for d in out.draws {
            XCTAssertGreaterThan(d.rpnPositive.count, 0); XCTAssertEqual(d.rpnPositive.count + d.rpnNegative.count, 256)
            XCTAssertEqual(d.roi, d.roi.sorted())
            XCTAssertEqual(d.roiBoxes.count, 4 * d.roi.count, "the sampled candidates' boxes come with their indices")
        }
        // The draws written, injected again, give the same bytes: another implementation can be held to them.
        let x2 = try Self.input(in: root, name: "x2.h5", targets: true, draws: out.draws)
        let y2 = root.appendingPathComponent("y2.h5")
        XCTAssertEqual(try forward(w, x2, y2, grad: true).code, 0)
        XCTAssertEqual(try Data(contentsOf: y), try Data(contentsOf: y2))
        // A different draw changes the losses.
        var other = out.draws
        other[0].rpnNegative = Array(other[0].rpnNegative.dropLast())
        let x3 = try Self.input(in: root, name: "x3.h5", targets: true, draws: other)
        let y3 = root.appendingPathComponent("y3.h5")
        XCTAssertEqual(try forward(w, x3, y3, grad: true).code, 0)
        XCTAssertNotEqual(try DetectionParityFile.readOutput(y3).losses.map(\.value), out.losses.map(\.value))
    }

    func testRKANRCNNsOwnKeysGiveTheSameOutput() throws {
        let root = try CLI.tempFolder("det-keys")
        let w = try Self.weights(in: root), wr = try Self.weights(in: root, referenceNames: true), x = try Self.input(in: root)
        let y1 = root.appendingPathComponent("y1.h5"), y2 = root.appendingPathComponent("y2.h5")
        XCTAssertEqual(try forward(w, x, y1).code, 0)
        let r = try forward(wr, x, y2)
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("RKAN_RCNN's other names"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: y1), try Data(contentsOf: y2))
    }

    func testBadInputIsAnErrorNamingTheCause() throws {
        let root = try CLI.tempFolder("det-bad")
        let w = try Self.weights(in: root), y = root.appendingPathComponent("y.h5")
        func refused(_ x: URL, grad: Bool = false, weights: URL? = nil, extra: [String] = [], words: [String], line: UInt = #line) throws {
            let r = try forward(weights ?? w, x, y, grad: grad, extra: extra)
            XCTAssertEqual(r.code, 1, "\(r.stdout) \(r.stderr)", line: line)
            for word in words { XCTAssertTrue(r.stderr.contains(word), "no '\(word)' in \(r.stderr)", line: line) }
            XCTAssertFalse(FileManager.default.fileExists(atPath: y.path), "nothing written", line: line)
        }
        try refused(try Self.input(in: root, name: "a.h5"), grad: true, words: ["/targets", "--grad"])
        try refused(try Self.input(in: root, name: "b.h5", targets: true) { $0.targets![1].masks = ShapedArray(shape: [1, 40, 31], values: .init(repeating: 0, count: 40 * 31)) },
                    grad: true, words: ["/targets/1/masks", "(1, 40, 30)"])
        try refused(try Self.input(in: root, name: "c.h5", targets: true) { $0.targets![0].labels[1] = 0 }, grad: true, words: ["/targets/0/labels", "≥ 1"])
        try refused(try Self.input(in: root, name: "d.h5", targets: true) { $0.targets![0].boxes[2] = 1 }, grad: true, words: ["/targets/0/boxes", "x2 > x1"])
        let outOfRange = DetectionParityDraw(rpnPositive: [1 << 40], rpnNegative: [0], roi: [0])
        try refused(try Self.input(in: root, name: "e.h5", targets: true, draws: [outOfRange, outOfRange]), grad: true, words: ["RPN draw", "anchor"])
        let badROI = DetectionParityDraw(rpnPositive: [], rpnNegative: [0], roi: [100_000])
        try refused(try Self.input(in: root, name: "f.h5", targets: true, draws: [badROI, badROI]), grad: true, words: ["box-head draw", "100000"])
        try refused(try Self.input(in: root, name: "g.h5", draws: [badROI, badROI]), words: ["/draws", "--grad"])
        try refused(try Self.input(in: root, name: "h.h5"), weights: try Self.weights(in: try CLI.tempFolder("det-w81"), classes: 81),
                    words: ["roi_heads.box_predictor.cls_score.weight", "--classes"])
        try refused(try Self.input(in: root, name: "i.h5"), extra: ["--in-channels", "1"], words: ["--in-channels", "RGB"])
        let classifierInput = root.appendingPathComponent("j.h5")
        let f = try HDF5File.create(classifierInput.path)
        try f.write([Float](repeating: 0.5, count: 3 * 32 * 32), shape: [1, 3, 32, 32], to: "/input")
        try f.close()
        try refused(classifierInput, words: ["/images", "detector"])
        let gap = root.appendingPathComponent("m.h5")
        let h = try HDF5File.create(gap.path)
        try h.write([Float](repeating: 0.5, count: 3 * 8 * 8), shape: [3, 8, 8], to: "/images/1")
        try h.close()
        try refused(gap, words: ["/images", "named 0"])
        let flat = root.appendingPathComponent("n.h5")
        let k = try HDF5File.create(flat.path)
        try k.write([Float](repeating: 0.5, count: 3 * 8 * 8), shape: [3, 8, 8], to: "/images")
        try k.close()
        try refused(flat, words: ["/images", "a group"])
        try refused(try Self.input(in: root, name: "o.h5"), extra: ["--classes", "1"], words: ["--classes", "from 2"])
        let empty = root.appendingPathComponent("k.h5")
        let g = try HDF5File.create(empty.path)
        try g.createGroup("/weights")
        try g.close()
        try refused(try Self.input(in: root, name: "l.h5"), weights: empty, words: ["missing", "backbone.body.conv1.weight"])
    }

    func testAClassifierStillNeedsClasses() throws {
        let r = try CLI.run(["forward", "--model", "resnet18", "--weights", "w.h5", "--input", "x.h5", "--output", "y.h5"])
        XCTAssertEqual(r.code, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("--classes"), r.stderr)
    }
}
