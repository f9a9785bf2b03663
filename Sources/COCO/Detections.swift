import Foundation

/// A detection's mask as results files give it.
public enum Segmentation: Sendable, Equatable {
    /// Polygons `[[x0, y0, …], …]`, rasterised at the image's size.
    case polygons([[Double]])
    /// An RLE (compressed strings are parsed and checked when read).
    case rle(RLE)

    /// The mask as pycocotools' `annToRLE` makes it for an image of `height × width`.
    public func rle(height: Int, width: Int) -> RLE {
        switch self {
        case let .polygons(p): return RLE(polygons: p, height: height, width: width)
        case let .rle(r): return r
        }
    }
}

/// Detections in COCO's results format: a JSON array of
/// `{"image_id", "category_id", "score", "bbox": [x, y, w, h], "segmentation": RLE}`.
public struct Detections: Sendable {
    public var imageIDs: [Int64] = []
    public var categoryIDs: [Int64] = []
    public var scores: [Double] = []
    /// `[x, y, w, h]` per detection, nil where the entry has none.
    public var boxes: [[Double]?] = []
    public var segmentations: [Segmentation?] = []
    /// Areas given with the detections (torchmetrics computes them itself), nil where the
    /// evaluator derives them as `loadRes` does.
    public var areas: [Double?] = []

    public init() {}

    public var count: Int { scores.count }

    /// Appends one detection.
    public mutating func append(imageID: Int64, categoryID: Int64, score: Double, box: [Double]?, segmentation: Segmentation? = nil,
                                area: Double? = nil) {
        precondition(box == nil || box!.count == 4, "Detections.append: a box has 4 values")
        imageIDs.append(imageID); categoryIDs.append(categoryID); scores.append(score)
        boxes.append(box); segmentations.append(segmentation); areas.append(area)
    }

    /// Reads a results file.
    /// - Throws: `COCOError` naming the file and the entry (`results[i]`) and key.
    public static func read(_ url: URL) throws -> Detections {
        let map = try MappedFile(url)
        // The cursor points into the map: keep it mapped until the parse ends.
        return try withExtendedLifetime(map) {
            var cursor = JSONCursor(map.bytes, file: map.path)
            return try parse(&cursor)
        }
    }

    /// Reads results from JSON bytes in memory (`name` stands for the file in messages).
    public static func parse(_ bytes: [UInt8], name: String) throws -> Detections {
        try bytes.withUnsafeBytes { raw in
            guard raw.count > 0 else { throw COCOError.io(file: name, reason: "the file is empty; expected a JSON array of detections") }
            var cursor = JSONCursor(raw, file: name)
            return try parse(&cursor)
        }
    }

    static func parse(_ cursor: inout JSONCursor) throws -> Detections {
        let file = cursor.file
        guard try cursor.peek() == .array else {
            throw COCOError.format(file: file, at: "top level", problem: "a results file is a JSON array of detections, found \(try cursor.peek())")
        }
        var reader = InstancesReader(bytes: UnsafeRawBufferPointer(start: cursor.base, count: cursor.count), file: file, map: nil)
        reader.cursor = cursor
        var out = Detections()
        try reader.cursor.beginArray()
        var first = true
        var index = 0
        while try reader.cursor.nextElement(first: &first) {
            let at = "results[\(index)]"
            guard try reader.cursor.peek() == .object else {
                throw COCOError.format(file: file, at: at, problem: "expected an object, found \(try reader.cursor.peek())")
            }
            try reader.cursor.beginObject()
            var firstKey = true
            var imageID: Int64?, categoryID: Int64?, score: Double?, box: [Double]?, seg: Segmentation?
            while let key = try reader.cursor.nextKey(first: &firstKey) {
                switch String(decoding: key, as: UTF8.self) {
                case "image_id": imageID = try reader.int(at, "image_id")
                case "category_id": categoryID = try reader.int(at, "category_id")
                case "score": score = try reader.number(at, "score")
                case "bbox": box = try reader.numberArray(at, "bbox", exactly: 4)
                case "segmentation":
                    // The reader's columns serve as scratch space for one segmentation.
                    reader.out = Instances(file: file)
                    let (kind, range, size) = try reader.readSegmentation(at)
                    switch kind {
                    case .polygons:
                        seg = .polygons(reader.out.rings(range))
                    case .uncompressedRLE:
                        let r = RLE(height: Int(size.0), width: Int(size.1), counts: reader.out.rleCounts[range])
                        try r.validate("\(file): \(at)")
                        seg = .rle(r)
                    case .compressedRLE:
                        let r = try RLE(compressed: reader.out.rleStrings[range], height: Int(size.0), width: Int(size.1), what: "\(file): \(at)")
                        try r.validate("\(file): \(at)")
                        seg = .rle(r)
                    case .none:
                        break
                    }
                default: try reader.cursor.skipValue()
                }
            }
            guard let imageID, let categoryID, let score else {
                let missing = [("image_id", imageID == nil), ("category_id", categoryID == nil), ("score", score == nil)].filter(\.1).map { "'\($0.0)'" }
                throw COCOError.format(file: file, at: at, problem: "missing \(missing.joined(separator: ", "))")
            }
            guard box != nil || seg != nil else { throw COCOError.format(file: file, at: at, problem: "a detection needs 'bbox' or 'segmentation'") }
            out.append(imageID: imageID, categoryID: categoryID, score: score, box: box, segmentation: seg)
            index += 1
        }
        try reader.cursor.end()
        return out
    }
}
