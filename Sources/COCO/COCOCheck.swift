import Datasets
import Foundation

/// `rkan-repro data check coco`: the official COCO 2017 layout, every image reference and every
/// annotation, with errors naming the file and the annotation id.
///
/// Errors (the check fails): a missing folder or file, broken JSON, repeated image, annotation or
/// category ids, an annotation on an image or category the file does not have, a box that is
/// not finite or has a negative side, an RLE whose size is not its image's or whose counts do
/// not cover it, a broken compressed RLE, a missing image file, and with `--decode` an image
/// that does not decode or whose size is not the one in the file. Warnings (reported, the check
/// passes): what the reference notebook cannot read though COCO allows it (a polygon list that
/// is empty or starts with a polygon of fewer than 6 values), a box reaching more than one pixel
/// outside its image, and annotations without a segmentation.
public enum COCOCheck {
    public struct Report: Sendable, CustomStringConvertible {
        public var lines: [String] = []
        public var errors = 0
        public var warnings = 0
        public var ok: Bool { errors == 0 }
        public var description: String { lines.joined(separator: "\n") }
    }

    /// Problems of one kind, listed up to a limit and counted beyond it.
    struct Tally {
        var shown: [String] = []
        var count = 0
        mutating func add(_ s: @autoclosure () -> String) {
            count += 1
            if shown.count < 20 { shown.append(s()) }
        }
    }

    /// The folder holding `annotations/`: `root/coco` when that is one, else `root`.
    public static func locate(_ root: URL) -> URL {
        let sub = root.appendingPathComponent("coco", isDirectory: true)
        return DataRoot.isDirectory(sub.appendingPathComponent("annotations")) ? sub : root
    }

    /// Checks `root` (or `root/coco`).
    public static func run(root: URL, decode: Bool) -> Report {
        var report = Report()
        let dir = locate(root)
        let required = ["annotations/instances_train2017.json", "annotations/instances_val2017.json", "train2017/", "val2017/"]
        let absent = required.filter { entry in
            let u = dir.appendingPathComponent(entry)
            return entry.hasSuffix("/") ? !DataRoot.isDirectory(u) : !DataRoot.isFile(u)
        }
        if !absent.isEmpty {
            report.errors += 1
            report.lines.append("coco: \(dir.path) is not in the official COCO 2017 layout: missing \(absent.joined(separator: ", ")); "
                                + "download COCO 2017 (train2017, val2017 and annotations_trainval2017) into it, or make the generated shapes set with `rkan-repro data make shapes --out DIR`")
            return report
        }
        report.lines.append("coco: \(dir.path)")
        for split in ["train2017", "val2017"] {
            check(dir: dir, split: split, decode: decode, into: &report)
        }
        report.lines.append(report.ok ? "coco: OK (\(report.warnings) warnings)" : "coco: \(report.errors) errors, \(report.warnings) warnings")
        return report
    }

    static func check(dir: URL, split: String, decode: Bool, into report: inout Report) {
        let file = dir.appendingPathComponent("annotations/instances_\(split).json")
        let started = Date()
        let instances: Instances
        do { instances = try Instances.read(file) } catch {
            report.errors += 1
            report.lines.append("  \(split): \(error)")
            return
        }
        let seconds = Date().timeIntervalSince(started)
        var errors: [String: Tally] = [:], warnings: [String: Tally] = [:]
        let f = file.path

        // Images.
        var imageSize: [Int64: (Int, Int)] = [:]
        var names = Set<String>()
        for (i, im) in instances.images.enumerated() {
            if imageSize[im.id] != nil { errors["image ids", default: .init()].add("\(f): images[\(i)]: image id \(im.id) is used twice") }
            imageSize[im.id] = (im.height, im.width)
            if !names.insert(im.fileName).inserted { errors["file names", default: .init()].add("\(f): image id \(im.id): file_name \(im.fileName) is used twice") }
            if im.fileName.contains("/") || im.fileName.hasPrefix(".") {
                errors["file names", default: .init()].add("\(f): image id \(im.id): file_name '\(im.fileName)' is not a plain file name")
                continue
            }
            let url = dir.appendingPathComponent(split).appendingPathComponent(im.fileName)
            if !DataRoot.isFile(url) {
                errors["image files", default: .init()].add("\(url.path): missing (image id \(im.id) in \(f))")
            } else if decode {
                do {
                    let data = try DataRoot.read(url)
                    let (w, h) = try data.withUnsafeBytes { raw in try JPEG.decode(raw, name: url.path) { _, w, h in (w, h) } }
                    if w != im.width || h != im.height {
                        errors["image sizes", default: .init()].add("\(url.path): decodes to \(w)×\(h) but \(f) says \(im.width)×\(im.height) (image id \(im.id))")
                    }
                } catch {
                    errors["image files", default: .init()].add("\(error)")
                }
            }
        }
        // Categories.
        var categories = Set<Int64>()
        for (i, c) in instances.categories.enumerated() where !categories.insert(c.id).inserted {
            errors["category ids", default: .init()].add("\(f): categories[\(i)]: category id \(c.id) is used twice")
        }
        // Annotations.
        var ids = Set<Int64>()
        ids.reserveCapacity(instances.annotationCount)
        var crowd = 0, kept = 0
        for a in 0..<instances.annotationCount {
            let label = "\(f): \(instances.label(a))"
            if !ids.insert(instances.ids[a]).inserted { errors["annotation ids", default: .init()].add("\(label): the id is used twice") }
            if instances.isCrowd[a] { crowd += 1 }
            if NotebookTargets.keeps(instances, a) { kept += 1 }
            guard let (h, w) = imageSize[instances.imageIDs[a]] else {
                errors["image refs", default: .init()].add("\(label): image_id \(instances.imageIDs[a]) is not in 'images'")
                continue
            }
            if !categories.contains(instances.categoryIDs[a]) {
                errors["category refs", default: .init()].add("\(label): category_id \(instances.categoryIDs[a]) is not in 'categories'")
            }
            let b = instances.box(a)
            if !b.allSatisfy(\.isFinite) || b[2] < 0 || b[3] < 0 {
                errors["boxes", default: .init()].add("\(label): bbox \(b) must be finite with width and height ≥ 0")
            } else if b[0] < -1 || b[1] < -1 || b[0] + b[2] > Double(w) + 1 || b[1] + b[3] > Double(h) + 1 {
                warnings["boxes outside the image", default: .init()].add("\(label): bbox \(b) reaches outside its \(w)×\(h) image")
            }
            if !instances.areas[a].isFinite || instances.areas[a] < 0 {
                errors["areas", default: .init()].add("\(label): area \(instances.areas[a]) must be finite and ≥ 0")
            }
            switch instances.segmentationKinds[a] {
            case .none:
                warnings["no segmentation", default: .init()].add("\(label): no 'segmentation' (its mask target is empty)")
            case .polygons:
                let polygons = instances.polygons(a)
                if polygons.isEmpty {
                    warnings["polygons pycocotools cannot read", default: .init()].add("\(label): an empty polygon list (pycocotools' frPyObjects fails on it; rkan-repro gives an empty mask)")
                } else if polygons[0].count < 6 {
                    warnings["polygons pycocotools cannot read", default: .init()].add("\(label): its first polygon has \(polygons[0].count) values (pycocotools' frPyObjects fails below 6; rkan-repro rasterises it as frPoly does)")
                }
            case .uncompressedRLE, .compressedRLE:
                do {
                    if let r = try instances.rle(a, height: h, width: w), r.height != h || r.width != w {
                        errors["masks", default: .init()].add("\(label): its RLE is \(r.height)×\(r.width) but its image is \(h)×\(w)")
                    }
                } catch {
                    errors["masks", default: .init()].add("\(error)")
                }
            }
        }
        let errorCount = errors.values.reduce(0) { $0 + $1.count }, warningCount = warnings.values.reduce(0) { $0 + $1.count }
        report.errors += errorCount
        report.warnings += warningCount
        report.lines.append("  \(split): \(instances.images.count) images, \(instances.annotationCount) annotations (\(crowd) crowd), "
                            + "\(instances.categories.count) categories; \(kept) annotations kept by the notebook's filter; "
                            + "JSON read in \(String(format: "%.2f", seconds)) s" + (decode ? "; every image decoded" : ""))
        for (kind, tally) in errors.sorted(by: { $0.key < $1.key }) {
            report.lines.append("  \(split): error: \(kind): \(tally.count)" + (tally.count > tally.shown.count ? " (the first \(tally.shown.count) listed)" : "") + ":")
            report.lines += tally.shown.map { "    \($0)" }
        }
        for (kind, tally) in warnings.sorted(by: { $0.key < $1.key }) {
            report.lines.append("  \(split): warning: \(kind): \(tally.count)" + (tally.count > 5 ? " (the first 5 listed)" : "") + ":")
            report.lines += tally.shown.prefix(5).map { "    \($0)" }
        }
    }
}
