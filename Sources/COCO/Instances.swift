/// A COCO instances file (`instances_{train,val}2017.json`) in columns.
///
/// One array per field instead of one object per annotation: 860k annotations are a handful of
/// flat arrays (no per-object allocation), and the polygon coordinates of all of them share one
/// column. Coordinates keep their exact doubles because pycocotools rasterises the parsed doubles
/// (`Int(5·v + 0.5)`): a Float would move some vertices across a rounding boundary.
public struct Instances: Sendable {
    public struct Image: Equatable, Sendable {
        public var id: Int64
        public var fileName: String
        public var height: Int
        public var width: Int
        public init(id: Int64, fileName: String, height: Int, width: Int) {
            self.id = id; self.fileName = fileName; self.height = height; self.width = width
        }
    }

    public struct Category: Equatable, Sendable {
        public var id: Int64
        public var name: String
        public var supercategory: String
        public init(id: Int64, name: String, supercategory: String = "") {
            self.id = id; self.name = name; self.supercategory = supercategory
        }
    }

    /// How an annotation's mask is given.
    public enum SegmentationKind: UInt8, Sendable {
        /// No `segmentation` key.
        case none = 0
        /// A list of polygons `[[x0, y0, x1, y1, …], …]`.
        case polygons = 1
        /// `{"size": [h, w], "counts": [n0, n1, …]}` (COCO's crowd regions).
        case uncompressedRLE = 2
        /// `{"size": [h, w], "counts": "…"}`.
        case compressedRLE = 3
    }

    /// The file the instances were read from (for messages).
    public var file: String
    public var images: [Image] = []
    public var categories: [Category] = []

    // Annotations, one entry per annotation in file order.
    public var ids: [Int64] = []
    public var imageIDs: [Int64] = []
    public var categoryIDs: [Int64] = []
    public var isCrowd: [Bool] = []
    public var areas: [Double] = []
    /// `[x, y, w, h]` of annotation i at `4i..<4i+4`.
    public var boxes = Column<Double>()
    public var segmentationKinds: [SegmentationKind] = []
    /// Polygons: a range of `ringEnds`; RLEs: a range of `rleCounts` or `rleStrings`.
    public var segmentationRanges: [Range<Int>] = []
    /// RLE size `(h, w)` as given in the file (0, 0 for polygons).
    public var rleSizes: [(Int32, Int32)] = []

    /// Polygon storage, one ring (polygon) after another. A ring whose values are all whole
    /// hundredths is stored as `Int32` hundredths: COCO's coordinates have two decimals, and
    /// `Double(n) / 100` is exactly the double that parsing `"473.07"` gives (both are the
    /// correctly rounded value of the same number; `appendRing` checks each value), so the
    /// rasteriser sees the same doubles in half the memory. Other rings keep each Double's bits
    /// in two slots.
    public private(set) var coordinateSlots = Column<Int32>()
    /// End slot of each ring, with `exactRing` set for a ring stored as Doubles.
    public private(set) var ringEnds = Column<Int>()
    /// Polygon coordinates stored, in all.
    public private(set) var coordinateCount = 0
    static let exactRing = 1 << 62
    public var rleCounts = Column<UInt32>()
    public var rleStrings = Column<UInt8>()

    public init(file: String) { self.file = file }

    public var annotationCount: Int { ids.count }

    /// Annotation i's box `[x, y, w, h]`.
    public func box(_ i: Int) -> [Double] { boxes[4 * i..<4 * i + 4] }

    /// Annotation i's polygons (empty unless its kind is `.polygons`).
    public func polygons(_ i: Int) -> [[Double]] {
        guard segmentationKinds[i] == .polygons else { return [] }
        return rings(segmentationRanges[i])
    }

    /// Rings `r` of the polygon storage.
    public func rings(_ r: Range<Int>) -> [[Double]] { r.map(ring) }

    /// Ring `r` of the polygon storage.
    public func ring(_ r: Int) -> [Double] {
        let start = r == 0 ? 0 : ringEnds[r - 1] & ~Self.exactRing
        let end = ringEnds[r]
        let slots = coordinateSlots[start..<(end & ~Self.exactRing)]
        if end & Self.exactRing == 0 { return slots.map { Double($0) / 100 } }
        return stride(from: 0, to: slots.count, by: 2).map {
            Double(bitPattern: UInt64(UInt32(bitPattern: slots[$0])) | UInt64(UInt32(bitPattern: slots[$0 + 1])) << 32)
        }
    }

    /// Appends one polygon to the storage (as hundredths when every value is one exactly).
    /// - Returns: the ring's index.
    @discardableResult
    public mutating func appendRing<C: Collection>(_ values: C) -> Int where C.Element == Double {
        let hundredths = values.allSatisfy { v in
            let n = (v * 100).rounded()
            return abs(n) <= Double(Int32.max) && (Double(Int32(n)) / 100).bitPattern == v.bitPattern   // −0.0 stays a Double
        }
        let start = ringEnds.last.map { $0 & ~Self.exactRing } ?? 0
        if hundredths {
            for v in values { coordinateSlots.append(Int32((v * 100).rounded())) }
            ringEnds.append(start + values.count)
        } else {
            for v in values {
                coordinateSlots.append(Int32(bitPattern: UInt32(truncatingIfNeeded: v.bitPattern)))
                coordinateSlots.append(Int32(bitPattern: UInt32(truncatingIfNeeded: v.bitPattern >> 32)))
            }
            ringEnds.append((start + 2 * values.count) | Self.exactRing)
        }
        coordinateCount += values.count
        return ringEnds.count - 1
    }

    /// Where an annotation is, for messages: `annotation id 1768 (annotations[5])`.
    public func label(_ i: Int) -> String { "annotation id \(ids[i]) (annotations[\(i)])" }

    /// Annotation i's mask as an RLE for an image of `height × width`, as pycocotools'
    /// `annToRLE` makes it: polygons rasterised and merged, an uncompressed RLE compressed
    /// (its own size kept), a compressed one parsed. Nil when the annotation has none.
    /// - Throws: `COCOError.mask` naming the annotation for a compressed string that is broken
    ///   or counts that do not cover the RLE's size.
    public func rle(_ i: Int, height: Int, width: Int) throws -> RLE? {
        switch segmentationKinds[i] {
        case .none:
            return nil
        case .polygons:
            return RLE(polygons: polygons(i), height: height, width: width)
        case .uncompressedRLE:
            let r = RLE(height: Int(rleSizes[i].0), width: Int(rleSizes[i].1), counts: rleCounts[segmentationRanges[i]])
            try r.validate("\(file): \(label(i))")
            return r
        case .compressedRLE:
            let r = try RLE(compressed: rleStrings[segmentationRanges[i]], height: Int(rleSizes[i].0), width: Int(rleSizes[i].1),
                            what: "\(file): \(label(i))")
            try r.validate("\(file): \(label(i))")
            return r
        }
    }
}
