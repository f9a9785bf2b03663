import Datasets
import Engine
import Foundation

/// The shapes detection data set: COCO-format data that rkan-repro makes from a seed, so the
/// detection path (reader, targets, training, evaluation) runs without downloading COCO.
///
/// Layout as COCO 2017: `DIR/train2017/*.jpg`, `DIR/val2017/*.jpg`,
/// `DIR/annotations/instances_{train,val}2017.json`. Each image has a textured background and
/// 1–6 shapes of six categories (ids 1–6, all among the notebook's 80, so they map to labels
/// 1–6), of many sizes, rotated, overlapping. A shape drawn whole is annotated with its polygon;
/// one partly hidden by a later shape with a compressed RLE of its visible pixels; about one
/// image in six has a crowd region (a cluster of small dots, `iscrowd: 1`, uncompressed RLE).
/// Masks are pycocotools' rasterisation of the polygons (`RLE(polygon:)`), so pixels, masks,
/// areas and boxes agree exactly. Boxes are the visible mask's box, areas its pixel count.
///
/// Deterministic: image i draws from its own Philox stream keyed by (seed, image), so the same
/// seed gives the same files (JPEG by libjpeg at quality 90), whatever the thread count. The
/// pixel values use only +, −, ×, ÷ and rounding (no `sin`), so they do not depend on the C
/// library either.
public enum ShapesDataset {
    /// Categories (id, name).
    public static let categories: [(Int64, String)] = [(1, "circle"), (2, "square"), (3, "triangle"), (4, "star"), (5, "ellipse"), (6, "cross")]
    /// Philox stream purpose byte of this generator (above `RandomPurpose`'s values, so its
    /// streams never meet the engine's).
    static let streamPurpose: UInt64 = 0x53

    /// What `generate` made.
    public struct Summary: Sendable, CustomStringConvertible {
        public var trainImages = 0, valImages = 0, annotations = 0, crowd = 0, polygons = 0, rles = 0
        public var description: String {
            "\(trainImages) train and \(valImages) val images, \(annotations) annotations (\(polygons) polygons, \(rles) partly hidden as compressed RLE, \(crowd) crowd regions as uncompressed RLE)"
        }
    }

    /// Writes the data set under `out`.
    /// - Parameters:
    ///   - images: train images; val gets `max(1, images / 5)` more.
    ///   - size: the side of the square images, 32…1024.
    /// - Throws: `COCOError.io` when `out` already holds a data set or a file cannot be written.
    public static func generate(out: URL, seed: UInt64, images: Int, size: Int) throws -> Summary {
        precondition(images >= 1 && (32...1024).contains(size), "ShapesDataset.generate: images ≥ 1, size 32…1024")
        let fm = FileManager.default
        let annotations = out.appendingPathComponent("annotations")
        for f in ["instances_train2017.json", "instances_val2017.json"] where fm.fileExists(atPath: annotations.appendingPathComponent(f).path) {
            throw COCOError.io(file: annotations.appendingPathComponent(f).path, reason: "already exists; choose an empty --out folder (nothing is overwritten)")
        }
        var summary = Summary()
        let splits = [("train2017", 0, images), ("val2017", images, max(1, images / 5))]
        do {
            try fm.createDirectory(at: annotations, withIntermediateDirectories: true)
            for (name, first, count) in splits {
                let folder = out.appendingPathComponent(name)
                try fm.createDirectory(at: folder, withIntermediateDirectories: true)
                var made = [ShapesImage?](repeating: nil, count: count)
                try made.withUnsafeMutableBufferPointer { slots in
                    var failure: Error?
                    let lock = NSLock()
                    Parallel.forEach(count) { j in
                        let image = ShapesImage.make(seed: seed, index: first + j, size: size)
                        do {
                            try Data(image.jpeg).write(to: folder.appendingPathComponent(image.fileName))
                        } catch {
                            lock.lock(); failure = failure ?? error; lock.unlock()
                        }
                        slots[j] = image
                    }
                    if let failure { throw failure }
                }
                let list = made.map { $0! }
                let json = InstancesWriter.json(images: list, categories: categories)
                try Data(json.utf8).write(to: annotations.appendingPathComponent("instances_\(name).json"), options: .atomic)
                if name == "train2017" { summary.trainImages = count } else { summary.valImages = count }
                for im in list {
                    summary.annotations += im.annotations.count
                    for a in im.annotations {
                        if a.crowd { summary.crowd += 1 } else if a.polygon != nil { summary.polygons += 1 } else { summary.rles += 1 }
                    }
                }
            }
        } catch let e as COCOError {
            throw e
        } catch {
            throw COCOError.io(file: out.path, reason: "cannot write the data set: \((error as NSError).localizedDescription)")
        }
        return summary
    }
}

/// One generated image with its annotations.
struct ShapesImage {
    struct Annotation {
        var category: Int64
        var crowd: Bool
        /// The polygon when the shape is wholly visible, else nil (then `rle`).
        var polygon: [Double]?
        var rle: RLE
        var area: Int
        var box: [Double]
    }

    var id: Int64
    var fileName: String
    var size: Int
    var jpeg: [UInt8]
    var annotations: [Annotation]

    /// Sequential draws from one Philox stream.
    struct Draws {
        let philox: Philox
        var i: UInt64 = 0
        mutating func uniform() -> Double { defer { i += 1 }; return philox.uniform(i) }
        mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }
        mutating func below(_ n: Int) -> Int { defer { i += 1 }; return philox.below(n, i) }
    }

    /// Unit shapes (centred, radius about 1), rounded to 1e-9 so that they are the same bytes
    /// wherever `cos`/`sin` differ in the last bit.
    static let unitShapes: [[(Double, Double)]] = {
        func ring(_ n: Int, _ radius: (Int) -> Double, phase: Double = 0) -> [(Double, Double)] {
            (0..<n).map { k in
                let a = phase + 2 * Double.pi * Double(k) / Double(n)
                return (((radius(k) * cos(a)) * 1e9).rounded() / 1e9, ((radius(k) * sin(a)) * 1e9).rounded() / 1e9)
            }
        }
        let circle = ring(24, { _ in 1 })
        let square = [(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)]
        let triangle = ring(3, { _ in 1 }, phase: -Double.pi / 2)
        let star = ring(10, { $0 % 2 == 0 ? 1 : 0.45 }, phase: -Double.pi / 2)
        let ellipse = circle.map { ($0.0, $0.1 * 0.5) }
        let w = 0.3
        let cross = [(-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1), (-w, 1), (-w, w), (-1, w), (-1, -w), (-w, -w)]
        return [circle, square, triangle, star, ellipse, cross]
    }()

    static func make(seed: UInt64, index: Int, size: Int) -> ShapesImage {
        var r = Draws(philox: Philox(seed: seed, stream: (ShapesDataset.streamPurpose << 56) ^ UInt64(index)))
        let n = size * size
        var pixels = [UInt8](repeating: 0, count: n * 3)
        // Background: two triangle waves per channel plus noise.
        var base = [Double](repeating: 0, count: 3), amp = base
        for c in 0..<3 { base[c] = r.uniform(40, 215); amp[c] = r.uniform(10, 40) }
        let fx = r.uniform(0.02, 0.15), fy = r.uniform(0.02, 0.15), gx = r.uniform(0.05, 0.3), gy = r.uniform(-0.3, 0.3)
        func tri(_ v: Double) -> Double { let f = v - v.rounded(.down); return 4 * abs(f - 0.5) - 1 }   // −1…1
        // Pixel noise from draws far beyond the sequential ones (the stream's blocks 2^38 on).
        let noise = r.philox
        for y in 0..<size {
            for x in 0..<size {
                let p = y * size + x
                let t = 0.6 * tri(fx * Double(x) + fy * Double(y)) + 0.4 * tri(gx * Double(x) + gy * Double(y))
                let e = Double(noise.bits((1 << 40) + UInt64(p)) & 15) - 7.5
                for c in 0..<3 { pixels[p * 3 + c] = UInt8(clamping: Int((base[c] + amp[c] * t * (c == 1 ? -1 : 1) + e).rounded())) }
            }
        }
        // Shapes, drawn in order; owner[p] = the last one covering pixel p.
        var owner = [Int16](repeating: -1, count: n)
        var drawn: [(category: Int64, crowd: Bool, polygon: [Double]?, mask: [UInt8])] = []
        func paint(_ mask: [UInt8], color: [Double], shade: Double) {
            let k = Int16(drawn.count)
            for p in 0..<n where mask[p] != 0 {
                owner[p] = k
                let y = Double(p / size), s = 1 + shade * (y / Double(size) - 0.5)
                for c in 0..<3 { pixels[p * 3 + c] = UInt8(clamping: Int((color[c] * s).rounded())) }
            }
        }
        if r.uniform() < 1.0 / 6 {
            // A crowd: small dots of one category in a region.
            let category = ShapesDataset.categories[r.below(ShapesDataset.categories.count)].0
            let cx = r.uniform(0.2, 0.8) * Double(size), cy = r.uniform(0.2, 0.8) * Double(size)
            let spread = r.uniform(0.08, 0.2) * Double(size)
            var dots: [RLE] = []
            for _ in 0..<(5 + r.below(8)) {
                let dx = cx + r.uniform(-spread, spread), dy = cy + r.uniform(-spread, spread), rad = r.uniform(1.5, 3)
                dots.append(RLE(polygon: unitShapes[0].flatMap { [round2(dx + rad * $0.0), round2(dy + rad * $0.1)] }, height: size, width: size))
            }
            let color = (0..<3).map { _ in r.uniform(0, 255) }
            let mask = RLE.merge(dots).decodeRowMajor()
            paint(mask, color: color, shade: 0)
            drawn.append((category, true, nil, mask))
        }
        for _ in 0..<(1 + r.below(6)) {
            let shape = r.below(ShapesDataset.categories.count)
            let radius = r.uniform(0.06, 0.35) * Double(size)
            let cx = r.uniform(0, 1) * Double(size), cy = r.uniform(0, 1) * Double(size)
            let aspect = shape == 0 ? 1 : r.uniform(0.7, 1.3)
            // A rotation with rational cos/sin: t ∈ [−1, 1] covers ±90°.
            let t = r.uniform(-1, 1)
            let cosA = (1 - t * t) / (1 + t * t), sinA = 2 * t / (1 + t * t)
            var polygon: [Double] = []
            for (ux, uy) in unitShapes[shape] {
                let px = ux * radius * aspect, py = uy * radius / aspect
                polygon += [round2(cx + cosA * px - sinA * py), round2(cy + sinA * px + cosA * py)]
            }
            let mask = RLE(polygon: polygon, height: size, width: size).decodeRowMajor()
            let color = (0..<3).map { _ in r.uniform(0, 255) }
            paint(mask, color: color, shade: r.uniform(0, 0.5))
            drawn.append((ShapesDataset.categories[shape].0, false, polygon, mask))
        }
        // Annotations of what is visible.
        var annotations: [Annotation] = []
        for (k, d) in drawn.enumerated() {
            var visible = [UInt8](repeating: 0, count: n)
            var area = 0, whole = true
            for p in 0..<n where d.mask[p] != 0 {
                if owner[p] == Int16(k) { visible[p] = 1; area += 1 } else { whole = false }
            }
            if area < 12 { continue }
            let rle = RLE(rowMajor: visible, height: size, width: size)
            annotations.append(Annotation(category: d.category, crowd: d.crowd, polygon: whole && !d.crowd ? d.polygon : nil,
                                          rle: rle, area: area, box: rle.boundingBox))
        }
        let id = Int64(index + 1)
        let jpeg = JPEG.encode(pixels, width: size, height: size, components: 3, quality: 90)
        return ShapesImage(id: id, fileName: String(format: "%012lld.jpg", id), size: size, jpeg: jpeg, annotations: annotations)
    }

    static func round2(_ v: Double) -> Double { (v * 100).rounded() / 100 }
}
