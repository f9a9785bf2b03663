import Foundation

/// One image's ground truth in a detection parity file, in the image's own pixels.
public struct DetectionParityTarget: Equatable, Sendable {
    /// (G, 4) as (x1, y1, x2, y2).
    public var boxes: [Float]
    /// (G) classes ≥ 1.
    public var labels: [Int64]
    /// (G, H, W) 0/1 masks.
    public var masks: ShapedArray<UInt8>

    public init(boxes: [Float], labels: [Int64], masks: ShapedArray<UInt8>) {
        self.boxes = boxes; self.labels = labels; self.masks = masks
    }
}

/// One image's random choices of a detection training step: the RPN's sampled anchors (indices
/// into the image's anchors, all levels concatenated in torchvision's order) and the box head's
/// sampled candidates (indices into the proposals followed by the ground-truth boxes).
public struct DetectionParityDraw: Equatable, Sendable {
    public var rpnPositive: [Int64], rpnNegative: [Int64], roi: [Int64]
    /// (k, 4) the sampled candidates' boxes in the resized image's pixels (written with the draws
    /// used; ignored in an input).
    public var roiBoxes: [Float]

    public init(rpnPositive: [Int64], rpnNegative: [Int64], roi: [Int64], roiBoxes: [Float] = []) {
        self.rpnPositive = rpnPositive; self.rpnNegative = rpnNegative; self.roi = roi; self.roiBoxes = roiBoxes
    }
}

/// The input of `forward` for a detector: images of any sizes, and for `--grad` their targets
/// and optionally the draws to use.
public struct DetectionParityInput: Equatable, Sendable {
    /// Each (3, H, W) float32, pixels in [0, 1] as the detector receives them (before its transform).
    public var images: [ShapedArray<Float>]
    public var targets: [DetectionParityTarget]?
    public var draws: [DetectionParityDraw]?

    public init(images: [ShapedArray<Float>], targets: [DetectionParityTarget]? = nil, draws: [DetectionParityDraw]? = nil) {
        self.images = images; self.targets = targets; self.draws = draws
    }
}

/// One image's detections as torchvision's eval `MaskRCNN` returns them.
public struct DetectionParityDetections: Equatable, Sendable {
    /// (D, 4) in the original image's pixels.
    public var boxes: [Float]
    public var scores: [Float]
    public var labels: [Int64]
    /// (D, 1, H, W) mask probabilities in the original image.
    public var masks: ShapedArray<Float>

    public init(boxes: [Float], scores: [Float], labels: [Int64], masks: ShapedArray<Float>) {
        self.boxes = boxes; self.scores = scores; self.labels = labels; self.masks = masks
    }
}

/// What `forward` writes for a detector: eval mode the detections per image; `--grad` the five
/// losses under torchvision's names, every parameter gradient and the draws used.
public struct DetectionParityOutput: Equatable, Sendable {
    public var detections: [DetectionParityDetections] = []
    /// (torchvision's loss name, value), in torchvision's order.
    public var losses: [(name: String, value: Float)] = []
    public var grads: [WeightEntry] = []
    public var draws: [DetectionParityDraw] = []

    public init() {}

    public static func == (a: Self, b: Self) -> Bool {
        a.detections == b.detections && a.losses.map(\.name) == b.losses.map(\.name) && a.losses.map(\.value) == b.losses.map(\.value)
            && a.grads == b.grads && a.draws == b.draws
    }
}

/// The HDF5 files of `forward` for detectors (docs/design.md, parity files). Per image `i`
/// (`0`, `1`, … in order, no gaps):
///
///     input   /images/i                 float32 (3, H_i, W_i)
///             /targets/i/boxes          float32 (G, 4)        (--grad)
///             /targets/i/labels         int64 (G)
///             /targets/i/masks          uint8 (G, H_i, W_i)
///             /draws/i/rpn_positive, rpn_negative, roi   int64 (k)   (optional)
///     output  /detections/i/boxes (D, 4), scores (D), labels int64 (D), masks (D, 1, H_i, W_i)
///             /losses/<torchvision name> float32 scalars, /grads/<key>, /draws/i/…   (--grad),
///             the draws with /draws/i/roi_boxes float32 (k, 4)
public enum DetectionParityFile {
    /// Reads images, and targets and draws when present.
    /// - Parameter requireTargets: throw when `/targets` is absent (for `--grad`).
    /// - Throws: `RunStoreError.missingObject`, `.wrongType` (a dataset of the wrong type or shape,
    ///   members not named 0…N−1), `.invalidValue` (a mask not 0/1, a label below 1).
    public static func readInput(_ url: URL, requireTargets: Bool = false) throws -> DetectionParityInput {
        let file = try HDF5File.openReadOnly(url.path)
        defer { try? file.close() }
        let n = try indexedMembers(file, "/images")
        guard n > 0 else {
            throw RunStoreError.wrongType(path: url.path, object: "/images", expected: "one dataset per image, named 0, 1, …", found: "an empty group")
        }
        var result = DetectionParityInput(images: [])
        for i in 0..<n {
            let x = try file.read(Float.self, at: "/images/\(i)")
            guard x.shape.count == 3, x.shape[0] == 3, x.shape[1] > 0, x.shape[2] > 0 else {
                throw RunStoreError.wrongType(path: url.path, object: "/images/\(i)", expected: "shape (3, H, W) with H, W ≥ 1", found: "shape \(x.shape)")
            }
            result.images.append(x)
        }
        if try file.exists("/targets") {
            guard try indexedMembers(file, "/targets") == n else {
                throw RunStoreError.wrongType(path: url.path, object: "/targets", expected: "one group per image (\(n))", found: "\(try file.members(of: "/targets").count) members")
            }
            result.targets = try (0..<n).map { i in try readTarget(file, i, height: result.images[i].shape[1], width: result.images[i].shape[2]) }
        } else if requireTargets {
            throw RunStoreError.missingObject(path: url.path, object: "/targets (per image boxes, labels and masks, needed for --grad)")
        }
        if try file.exists("/draws") {
            guard try indexedMembers(file, "/draws") == n else {
                throw RunStoreError.wrongType(path: url.path, object: "/draws", expected: "one group per image (\(n))", found: "\(try file.members(of: "/draws").count) members")
            }
            result.draws = try (0..<n).map { try readDraw(file, group: "/draws/\($0)") }
        }
        return result
    }

    /// Writes an input file (tests and tools write them with h5py the same way).
    public static func writeInput(_ input: DetectionParityInput, to url: URL) throws {
        try AtomicFile.write(to: url) { file in
            for (i, x) in input.images.enumerated() { try file.write(x, to: "/images/\(i)") }
            for (i, t) in (input.targets ?? []).enumerated() {
                try file.write(t.boxes, shape: [t.labels.count, 4], to: "/targets/\(i)/boxes")
                try file.write(t.labels, shape: [t.labels.count], to: "/targets/\(i)/labels")
                try file.write(t.masks, to: "/targets/\(i)/masks")
            }
            for (i, d) in (input.draws ?? []).enumerated() { try writeDraw(d, group: "/draws/\(i)", to: file) }
        }
    }

    /// Reads an output file.
    public static func readOutput(_ url: URL) throws -> DetectionParityOutput {
        let file = try HDF5File.openReadOnly(url.path)
        defer { try? file.close() }
        var out = DetectionParityOutput()
        if try file.exists("/detections") {
            for i in 0..<(try indexedMembers(file, "/detections")) {
                let g = "/detections/\(i)"
                out.detections.append(DetectionParityDetections(
                    boxes: try file.read(Float.self, at: g + "/boxes").values, scores: try file.read(Float.self, at: g + "/scores").values,
                    labels: try file.read(Int64.self, at: g + "/labels").values, masks: try file.read(Float.self, at: g + "/masks")))
            }
        }
        if try file.exists("/losses") {
            out.losses = try file.members(of: "/losses").map { ($0, try file.readScalar(Float.self, at: "/losses/\($0)")) }
        }
        if try file.exists("/grads") { out.grads = try RunLayout.readEntries(group: "/grads", from: file) }
        if try file.exists("/draws") {
            out.draws = try (0..<(try indexedMembers(file, "/draws"))).map { try readDraw(file, group: "/draws/\($0)", includeBoxes: true) }
        }
        return out
    }

    /// Writes the output atomically.
    /// - Throws: `RunStoreError.cannotWrite`, `.invalidValue` (bad keys), `.hdf5`.
    public static func writeOutput(_ output: DetectionParityOutput, to url: URL) throws {
        try AtomicFile.write(to: url) { file in
            for (i, d) in output.detections.enumerated() {
                let g = "/detections/\(i)"
                try file.write(d.boxes, shape: [d.scores.count, 4], to: g + "/boxes")
                try file.write(d.scores, shape: [d.scores.count], to: g + "/scores")
                try file.write(d.labels, shape: [d.labels.count], to: g + "/labels")
                try file.write(d.masks, to: g + "/masks")
            }
            for l in output.losses { try file.writeScalar(l.value, to: "/losses/\(l.name)") }
            if !output.grads.isEmpty { try RunLayout.writeEntries(output.grads, group: "/grads", to: file) }
            for (i, d) in output.draws.enumerated() { try writeDraw(d, group: "/draws/\(i)", to: file) }
        }
    }

    /// The number of members of `group`, which must be named 0…N−1.
    static func indexedMembers(_ file: HDF5File, _ group: String) throws -> Int {
        guard try file.exists(group) else { throw RunStoreError.missingObject(path: file.path, object: group) }
        guard try file.isGroup(group) else {
            throw RunStoreError.wrongType(path: file.path, object: group, expected: "a group", found: "a dataset")
        }
        let names = try file.members(of: group)
        guard Set(names) == Set((0..<names.count).map(String.init)) else {
            throw RunStoreError.wrongType(path: file.path, object: group, expected: "members named 0…\(max(names.count - 1, 0)), one per image",
                                          found: "members \(names.prefix(8).joined(separator: ", "))")
        }
        return names.count
    }

    static func readTarget(_ file: HDF5File, _ i: Int, height: Int, width: Int) throws -> DetectionParityTarget {
        let g = "/targets/\(i)"
        let labels = try file.read(Int64.self, at: g + "/labels")
        guard labels.shape.count == 1 else {
            throw RunStoreError.wrongType(path: file.path, object: g + "/labels", expected: "shape (G)", found: "shape \(labels.shape)")
        }
        let count = labels.shape[0]
        let boxes = try file.read(Float.self, at: g + "/boxes")
        guard boxes.shape == [count, 4] else {
            throw RunStoreError.wrongType(path: file.path, object: g + "/boxes", expected: "shape (\(count), 4) (one box per label)", found: "shape \(boxes.shape)")
        }
        let masks = try file.read(UInt8.self, at: g + "/masks")
        guard masks.shape == [count, height, width] else {
            throw RunStoreError.wrongType(path: file.path, object: g + "/masks", expected: "shape (\(count), \(height), \(width)) (one mask per label, the image's size)",
                                          found: "shape \(masks.shape)")
        }
        if let bad = labels.values.first(where: { $0 < 1 }) {
            throw RunStoreError.invalidValue(path: file.path, object: g + "/labels", detail: "label \(bad): object classes are ≥ 1 (0 is the background)")
        }
        if masks.values.contains(where: { $0 > 1 }) {
            throw RunStoreError.invalidValue(path: file.path, object: g + "/masks", detail: "masks hold 0 or 1")
        }
        for b in 0..<count {
            let box = boxes.values[(4 * b)..<(4 * b + 4)]
            guard box.allSatisfy(\.isFinite), box[4 * b + 2] > box[4 * b], box[4 * b + 3] > box[4 * b + 1] else {
                throw RunStoreError.invalidValue(path: file.path, object: g + "/boxes",
                                                 detail: "box \(b) is \(Array(box)); boxes are finite (x1, y1, x2, y2) with x2 > x1 and y2 > y1")
            }
        }
        return DetectionParityTarget(boxes: boxes.values, labels: labels.values, masks: masks)
    }

    static func readDraw(_ file: HDF5File, group g: String, includeBoxes: Bool = false) throws -> DetectionParityDraw {
        func vector(_ name: String) throws -> [Int64] {
            let v = try file.read(Int64.self, at: "\(g)/\(name)")
            guard v.shape.count == 1 else {
                throw RunStoreError.wrongType(path: file.path, object: "\(g)/\(name)", expected: "shape (k)", found: "shape \(v.shape)")
            }
            if let bad = v.values.first(where: { $0 < 0 }) {
                throw RunStoreError.invalidValue(path: file.path, object: "\(g)/\(name)", detail: "index \(bad) is negative")
            }
            return v.values
        }
        var d = DetectionParityDraw(rpnPositive: try vector("rpn_positive"), rpnNegative: try vector("rpn_negative"), roi: try vector("roi"))
        if includeBoxes, try file.exists(g + "/roi_boxes") { d.roiBoxes = try file.read(Float.self, at: g + "/roi_boxes").values }
        return d
    }

    static func writeDraw(_ d: DetectionParityDraw, group g: String, to file: HDF5File) throws {
        if !d.roiBoxes.isEmpty { try file.write(d.roiBoxes, shape: [d.roiBoxes.count / 4, 4], to: g + "/roi_boxes") }
        try file.write(d.rpnPositive, shape: [d.rpnPositive.count], to: g + "/rpn_positive")
        try file.write(d.rpnNegative, shape: [d.rpnNegative.count], to: g + "/rpn_negative")
        try file.write(d.roi, shape: [d.roi.count], to: g + "/roi")
    }
}
