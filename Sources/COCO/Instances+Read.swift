import Foundation

extension Instances {
    /// The largest image side (and RLE side) accepted: bounds every allocation a file can ask for.
    public static let maxSide = 100_000

    /// Reads an instances file (`images`, `annotations`, `categories`; other keys skipped).
    /// - Throws: `COCOError.io` for a file that cannot be read, `.syntax` for broken JSON
    ///   (with the byte offset, and the annotation it is in), `.format` for a value of the wrong
    ///   type or range, naming the annotation id (or image/category index) and the key.
    public static func read(_ url: URL) throws -> Instances {
        let map = try MappedFile(url)
        // The cursor points into the map: keep it mapped until the parse ends.
        return try withExtendedLifetime(map) {
            var reader = InstancesReader(map: map)
            return try reader.read()
        }
    }

    /// Reads instances from JSON bytes in memory (tests; `name` stands for the file in messages).
    public static func parse(_ bytes: [UInt8], name: String) throws -> Instances {
        try bytes.withUnsafeBytes { raw in
            guard raw.count > 0 else { throw COCOError.io(file: name, reason: "the file is empty; expected COCO JSON") }
            var reader = InstancesReader(bytes: raw, file: name, map: nil)
            return try reader.read()
        }
    }
}

/// The instances file's reader: one pass, values stored straight into the columns.
struct InstancesReader {
    var cursor: JSONCursor
    let map: MappedFile?
    var out: Instances
    /// One polygon's values while it is read (reused).
    var ring: [Double] = []

    init(map: MappedFile) { self.init(bytes: map.bytes, file: map.path, map: map) }

    init(bytes: UnsafeRawBufferPointer, file: String, map: MappedFile?) {
        cursor = JSONCursor(bytes, file: file)
        self.map = map
        out = Instances(file: file)
    }

    var file: String { cursor.file }

    mutating func read() throws -> Instances {
        guard try cursor.peek() == .object else {
            throw COCOError.format(file: file, at: "top level", problem: "expected a JSON object with images, annotations and categories, found \(try cursor.peek())")
        }
        try cursor.beginObject()
        var first = true
        var seen = Set<String>()
        while let key = try cursor.nextKey(first: &first) {
            let name = String(decoding: key, as: UTF8.self)
            switch name {
            case "images", "annotations", "categories":
                guard seen.insert(name).inserted else { throw COCOError.format(file: file, at: "top level", problem: "'\(name)' appears twice") }
                guard try cursor.peek() == .array else {
                    throw COCOError.format(file: file, at: "top level", problem: "'\(name)' must be an array, found \(try cursor.peek())")
                }
                try cursor.beginArray()
                var firstElement = true
                var index = 0
                while try cursor.nextElement(first: &firstElement) {
                    switch name {
                    case "images": try readImage(index)
                    case "categories": try readCategory(index)
                    default: try readAnnotation(index)
                    }
                    index += 1
                    if index & 0x3FFF == 0 { map?.release(upTo: cursor.pos) }
                }
            default:
                try cursor.skipValue()
            }
        }
        try cursor.end()
        for required in ["images", "annotations", "categories"] where !seen.contains(required) {
            throw COCOError.format(file: file, at: "top level", problem: "no '\(required)' array; an instances file has images, annotations and categories")
        }
        return out
    }

    // MARK: typed reads naming the key

    func wrongType(_ at: String, _ key: String, _ expected: String, _ found: JSONCursor.Kind) -> COCOError {
        .format(file: file, at: at, problem: "'\(key)' must be \(expected), found \(found)")
    }

    mutating func int(_ at: String, _ key: String, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws -> Int64 {
        let kind = try cursor.peek()
        guard kind == .number else { throw wrongType(at, key, "an integer", kind) }
        let v = try cursor.readInt()
        guard range.contains(v) else { throw COCOError.format(file: file, at: at, problem: "'\(key)' is \(v), outside \(range.lowerBound)…\(range.upperBound)") }
        return v
    }

    mutating func number(_ at: String, _ key: String) throws -> Double {
        let kind = try cursor.peek()
        guard kind == .number else { throw wrongType(at, key, "a number", kind) }
        return try cursor.readDouble()
    }

    mutating func string(_ at: String, _ key: String) throws -> String {
        let kind = try cursor.peek()
        guard kind == .string else { throw wrongType(at, key, "a string", kind) }
        return try cursor.readString()
    }

    // MARK: images, categories

    mutating func readImage(_ index: Int) throws {
        var at = "images[\(index)]"
        guard try cursor.peek() == .object else { throw COCOError.format(file: file, at: at, problem: "expected an object, found \(try cursor.peek())") }
        try cursor.beginObject()
        var first = true
        var id: Int64?, name: String?, h: Int64?, w: Int64?
        while let key = try cursor.nextKey(first: &first) {
            switch String(decoding: key, as: UTF8.self) {
            case "id": id = try int(at, "id"); at = "image id \(id!) (images[\(index)])"
            case "file_name": name = try string(at, "file_name")
            case "height": h = try int(at, "height", in: 1...Int64(Instances.maxSide))
            case "width": w = try int(at, "width", in: 1...Int64(Instances.maxSide))
            default: try cursor.skipValue()
            }
        }
        guard let id, let name, let h, let w else {
            let missing = [("id", id == nil), ("file_name", name == nil), ("height", h == nil), ("width", w == nil)].filter(\.1).map(\.0)
            throw COCOError.format(file: file, at: at, problem: "missing \(missing.map { "'\($0)'" }.joined(separator: ", "))")
        }
        out.images.append(.init(id: id, fileName: name, height: Int(h), width: Int(w)))
    }

    mutating func readCategory(_ index: Int) throws {
        var at = "categories[\(index)]"
        guard try cursor.peek() == .object else { throw COCOError.format(file: file, at: at, problem: "expected an object, found \(try cursor.peek())") }
        try cursor.beginObject()
        var first = true
        var id: Int64?, name: String?, superName = ""
        while let key = try cursor.nextKey(first: &first) {
            switch String(decoding: key, as: UTF8.self) {
            case "id": id = try int(at, "id"); at = "category id \(id!) (categories[\(index)])"
            case "name": name = try string(at, "name")
            case "supercategory": superName = try string(at, "supercategory")
            default: try cursor.skipValue()
            }
        }
        guard let id, let name else { throw COCOError.format(file: file, at: at, problem: "missing \(id == nil ? "'id'" : "'name'")") }
        out.categories.append(.init(id: id, name: name, supercategory: superName))
    }

    // MARK: annotations

    mutating func readAnnotation(_ index: Int) throws {
        let start = cursor.pos
        do {
            try readAnnotationBody(index)
        } catch let COCOError.syntax(file, offset, problem) {
            throw COCOError.syntax(file: file, offset: offset, problem: "\(problem) (in \(annotationLabel(index, from: start)))")
        } catch let COCOError.format(file, at, problem) where at == "annotations[\(index)]" {
            throw COCOError.format(file: file, at: annotationLabel(index, from: start), problem: problem)
        }
    }

    /// `annotation id N (annotations[i])`, finding the id by a lenient second look at the
    /// object (only when there is an error to report).
    func annotationLabel(_ index: Int, from start: Int) -> String {
        var c = cursor
        c.rewind(to: start)
        if (try? c.beginObject()) != nil {
            var first = true
            while let key = try? c.nextKey(first: &first) {
                if key == Array("id".utf8), let v = try? c.readInt() { return "annotation id \(v) (annotations[\(index)])" }
                if (try? c.skipValue()) == nil { break }
            }
        }
        return "annotations[\(index)]"
    }

    /// Reads one annotation; its format errors say `annotations[i]`, which `readAnnotation`
    /// replaces with the annotation's id.
    mutating func readAnnotationBody(_ index: Int) throws {
        let here = "annotations[\(index)]"
        guard try cursor.peek() == .object else { throw COCOError.format(file: file, at: here, problem: "expected an object, found \(try cursor.peek())") }
        try cursor.beginObject()
        var first = true
        var id: Int64?, imageID: Int64?, categoryID: Int64?, crowd: Bool?, area: Double?
        var box: [Double]?
        var kind = Instances.SegmentationKind.none
        var range = 0..<0
        var size: (Int32, Int32) = (0, 0)
        var seen: UInt8 = 0
        while let key = try cursor.nextKeyToken(first: &first) {
            // Known keys by frequency of use; each may appear once.
            var bit: UInt8 = 0
            if cursor.key(key, is: "segmentation") {
                bit = 1
                (kind, range, size) = try readSegmentation(here)
            } else if cursor.key(key, is: "area") {
                bit = 2
                area = try number(here, "area")
            } else if cursor.key(key, is: "iscrowd") {
                bit = 4
                let k = try cursor.peek()
                if k == .bool { crowd = try cursor.readBool() } else if k == .number {
                    crowd = try int(here, "iscrowd", in: 0...1) == 1
                } else { throw wrongType(here, "iscrowd", "0 or 1", k) }
            } else if cursor.key(key, is: "image_id") {
                bit = 8
                imageID = try int(here, "image_id")
            } else if cursor.key(key, is: "bbox") {
                bit = 16
                box = try numberArray(here, "bbox", exactly: 4)
            } else if cursor.key(key, is: "category_id") {
                bit = 32
                categoryID = try int(here, "category_id")
            } else if cursor.key(key, is: "id") {
                bit = 64
                id = try int(here, "id")
            } else {
                try cursor.skipValue()
            }
            if bit != 0 {
                guard seen & bit == 0 else {
                    let names = [1: "segmentation", 2: "area", 4: "iscrowd", 8: "image_id", 16: "bbox", 32: "category_id", 64: "id"]
                    throw COCOError.format(file: file, at: here, problem: "'\(names[Int(bit)]!)' appears twice")
                }
                seen |= bit
            }
        }
        guard let id, let imageID, let categoryID, let crowd, let area, let box else {
            let missing = [("id", id == nil), ("image_id", imageID == nil), ("category_id", categoryID == nil),
                           ("iscrowd", crowd == nil), ("area", area == nil), ("bbox", box == nil)].filter(\.1).map { "'\($0.0)'" }
            throw COCOError.format(file: file, at: here, problem: "missing \(missing.joined(separator: ", "))")
        }
        out.ids.append(id)
        out.imageIDs.append(imageID)
        out.categoryIDs.append(categoryID)
        out.isCrowd.append(crowd)
        out.areas.append(area)
        out.boxes.append(contentsOf: box)
        out.segmentationKinds.append(kind)
        out.segmentationRanges.append(range)
        out.rleSizes.append(size)
    }

    mutating func numberArray(_ at: String, _ key: String, exactly n: Int) throws -> [Double] {
        let kind = try cursor.peek()
        guard kind == .array else { throw wrongType(at, key, "an array of \(n) numbers", kind) }
        try cursor.beginArray()
        var first = true
        var values: [Double] = []
        while try cursor.nextElement(first: &first) {
            guard values.count < n else { throw COCOError.format(file: file, at: at, problem: "'\(key)' has more than \(n) values") }
            values.append(try number(at, key))
        }
        guard values.count == n else { throw COCOError.format(file: file, at: at, problem: "'\(key)' has \(values.count) values, expected \(n)") }
        return values
    }

    /// Reads `segmentation` into the shared storage.
    mutating func readSegmentation(_ at: String) throws -> (Instances.SegmentationKind, Range<Int>, (Int32, Int32)) {
        switch try cursor.peek() {
        case .array:
            try cursor.beginArray()
            let ringStart = out.ringEnds.count
            var first = true
            while try cursor.nextElement(first: &first) {
                let k = try cursor.peek()
                guard k == .array else { throw wrongType(at, "segmentation", "a list of polygons (arrays of numbers) or an RLE object", k) }
                try cursor.beginArray()
                var firstValue = true
                ring.removeAll(keepingCapacity: true)
                while try cursor.nextElement(first: &firstValue) {
                    let kv = try cursor.peek()
                    guard kv == .number else { throw wrongType(at, "segmentation", "polygons of numbers", kv) }
                    let v = try cursor.readDouble()
                    guard abs(v) <= RLE.maxCoordinate else {
                        throw COCOError.format(file: file, at: at, problem: "polygon coordinate \(v) is outside ±\(Int(RLE.maxCoordinate))")
                    }
                    ring.append(v)
                }
                let walk = RLE.walkLength(ring)
                guard walk <= RLE.maxWalk else {
                    throw COCOError.format(file: file, at: at, problem: "a polygon whose outline is \(walk / 5) pixels long (at most \(RLE.maxWalk / 5))")
                }
                out.appendRing(ring)
            }
            return (.polygons, ringStart..<out.ringEnds.count, (0, 0))
        case .object:
            try cursor.beginObject()
            var first = true
            var size: (Int32, Int32)?
            var kind: Instances.SegmentationKind?
            var range = 0..<0
            while let keyBytes = try cursor.nextKey(first: &first) {
                switch String(decoding: keyBytes, as: UTF8.self) {
                case "size":
                    let s = try numberArray(at, "segmentation.size", exactly: 2)
                    guard s.allSatisfy({ $0 >= 0 && $0 <= Double(Instances.maxSide) && $0.rounded() == $0 }) else {
                        throw COCOError.format(file: file, at: at, problem: "'segmentation.size' must be two integers in 0…\(Instances.maxSide), found \(s)")
                    }
                    size = (Int32(s[0]), Int32(s[1]))
                case "counts":
                    guard kind == nil else { throw COCOError.format(file: file, at: at, problem: "'segmentation.counts' appears twice") }
                    let k = try cursor.peek()
                    if k == .string {
                        let bytes = try cursor.readStringBytes()
                        let lo = out.rleStrings.count
                        out.rleStrings.append(contentsOf: bytes)
                        range = lo..<out.rleStrings.count
                        kind = .compressedRLE
                    } else if k == .array {
                        try cursor.beginArray()
                        let lo = out.rleCounts.count
                        var firstCount = true
                        while try cursor.nextElement(first: &firstCount) {
                            out.rleCounts.append(UInt32(try int(at, "segmentation.counts", in: 0...Int64(UInt32.max))))
                        }
                        range = lo..<out.rleCounts.count
                        kind = .uncompressedRLE
                    } else {
                        throw wrongType(at, "segmentation.counts", "a string or an array of integers", k)
                    }
                default:
                    try cursor.skipValue()
                }
            }
            guard let size, let kind else {
                throw COCOError.format(file: file, at: at, problem: "an RLE 'segmentation' needs 'size' and 'counts'")
            }
            return (kind, range, size)
        case let k:
            throw wrongType(at, "segmentation", "a list of polygons or an RLE object", k)
        }
    }
}
