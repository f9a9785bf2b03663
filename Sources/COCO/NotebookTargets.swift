/// Training and evaluation targets as the reference notebook's `coco_transform` makes them
/// (withray/residualKAN 22e50367, training.ipynb), before augmentation.
///
/// Per image, in annotation order: an annotation is kept when `iscrowd == 0`, its category is
/// one of the 80 (`cocoCategoryIDs`, mapped to 1…80 in that order) and its box is wider and
/// taller than 2 pixels; the box becomes `[x, y, x + w, y + h]`; the mask is
/// `decode(merge(frPyObjects(polygons, h, w)))` for polygons, `decode(frPyObjects(rle))` for an
/// uncompressed RLE and `decode(rle)` for a compressed one, at the image's decoded size.
///
/// Where the notebook stops with an exception, rkan-repro goes on and `data check coco` reports
/// the annotation: a polygon list whose first polygon has 4 values (pycocotools takes it for a
/// box and fails) or fewer than 6, or an empty list, is rasterised polygon by polygon as
/// `frPoly` does (an empty list gives an empty mask); an annotation without a segmentation
/// gets an empty mask (the notebook would then stack fewer masks than boxes).
public enum NotebookTargets {
    /// The notebook's `coco_classes`: COCO's 80 category ids; label = position + 1.
    public static let cocoCategoryIDs: [Int64] = [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36,
        37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70,
        72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
    ]

    static let labelOf: [Int64: Int] = Dictionary(uniqueKeysWithValues: cocoCategoryIDs.enumerated().map { ($1, $0 + 1) })

    /// The label 1…80 of a COCO category id, nil for ids outside the 80.
    public static func label(ofCategory id: Int64) -> Int? { labelOf[id] }

    /// One image's targets.
    public struct Target: Sendable {
        public var imageID: Int64
        public var height: Int
        public var width: Int
        /// `(n, 4)` boxes `[x1, y1, x2, y2]`, row-major.
        public var boxes: [Double]
        /// Labels 1…80.
        public var labels: [Int]
        /// `(n, height, width)` masks of 0/1 bytes, row-major.
        public var masks: [UInt8]
        /// Indices (into the instances) of the annotations kept.
        public var annotations: [Int]
        public var count: Int { labels.count }
    }

    /// Whether the notebook keeps annotation `a`.
    public static func keeps(_ instances: Instances, _ a: Int) -> Bool {
        !instances.isCrowd[a] && labelOf[instances.categoryIDs[a]] != nil
            && instances.boxes[4 * a + 2] > 2 && instances.boxes[4 * a + 3] > 2
    }

    /// The targets of the image at position `i` of `instances.images`.
    /// - Parameters:
    ///   - height, width: the decoded image's size (the notebook rasterises at `img.shape`).
    /// - Throws: `COCOError.mask` naming the annotation for an RLE that is broken or of
    ///   another size than the image.
    public static func target(_ instances: Instances, index: Instances.ImageIndex, imageAt i: Int,
                              height: Int, width: Int) throws -> Target {
        var t = Target(imageID: instances.images[i].id, height: height, width: width, boxes: [], labels: [], masks: [], annotations: [])
        for a in index.annotations(ofImageAt: i) where keeps(instances, a) {
            let b = instances.box(a)
            t.boxes += [b[0], b[1], b[0] + b[2], b[1] + b[3]]
            t.labels.append(labelOf[instances.categoryIDs[a]]!)
            t.annotations.append(a)
            if let rle = try instances.rle(a, height: height, width: width) {
                guard rle.height == height && rle.width == width else {
                    throw COCOError.mask("\(instances.file): \(instances.label(a)): its RLE is \(rle.height)×\(rle.width) but the image is \(height)×\(width)")
                }
                t.masks += rle.decodeRowMajor()
            } else {
                t.masks += [UInt8](repeating: 0, count: height * width)
            }
        }
        return t
    }
}
