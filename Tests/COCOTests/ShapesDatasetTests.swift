import Datasets
import Engine
import Foundation
import XCTest
@testable import COCO

/// The generated shapes data set: deterministic bytes, readable by the COCO reader, masks and
/// annotations consistent, and `data check coco` passing on it and failing on damage.
final class ShapesDatasetTests: XCTestCase {
    func tempFolder(_ name: String) throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("rkan-shapes-\(name)-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: u) }
        return u
    }

    /// Every file under `dir` with its bytes, by relative path.
    func files(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)!
        for case let u as URL in e where DataRoot.isFile(u) {
            out[String(u.path.dropFirst(dir.path.count))] = try Data(contentsOf: u)
        }
        return out
    }

    func testSameSeedSameBytesOtherSeedOtherBytes() throws {
        let a = try tempFolder("a"), b = try tempFolder("b"), c = try tempFolder("c")
        _ = try ShapesDataset.generate(out: a, seed: 3, images: 10, size: 48)
        _ = try ShapesDataset.generate(out: b, seed: 3, images: 10, size: 48)
        _ = try ShapesDataset.generate(out: c, seed: 4, images: 10, size: 48)
        let fa = try files(a), fb = try files(b), fc = try files(c)
        XCTAssertEqual(fa.count, 10 + 2 + 2, "10 train, 2 val images and two annotation files")
        XCTAssertEqual(fa, fb)
        XCTAssertNotEqual(fa["/annotations/instances_train2017.json"], fc["/annotations/instances_train2017.json"])
        XCTAssertThrowsError(try ShapesDataset.generate(out: a, seed: 3, images: 10, size: 48)) { e in
            XCTAssertTrue("\(e)".contains("already exists"), "\(e)")
        }
    }

    func testSameBytesForAnyThreadCount() throws {
        let a = try tempFolder("t1"), b = try tempFolder("t2")
        _ = try Parallel.withThreads(1) { try ShapesDataset.generate(out: a, seed: 8, images: 6, size: 40) }
        _ = try Parallel.withThreads(2) { try ShapesDataset.generate(out: b, seed: 8, images: 6, size: 40) }
        XCTAssertEqual(try files(a), try files(b))
    }

    func testAnnotationsAgreeWithTheirMasksAndPixels() throws {
        let dir = try tempFolder("read")
        let summary = try ShapesDataset.generate(out: dir, seed: 11, images: 40, size: 64)
        XCTAssertGreaterThan(summary.polygons, 0)
        XCTAssertGreaterThan(summary.rles, 0, "partly hidden shapes are RLEs")
        XCTAssertGreaterThan(summary.crowd, 0, "some crowd regions")
        let train = try Instances.read(dir.appendingPathComponent("annotations/instances_train2017.json"))
        XCTAssertEqual(train.images.count, 40)
        XCTAssertEqual(train.annotationCount + (try Instances.read(dir.appendingPathComponent("annotations/instances_val2017.json")).annotationCount), summary.annotations)
        XCTAssertEqual(Set(train.categories.map(\.id)), Set(ShapesDataset.categories.map(\.0)))
        let index = train.imageIndex()
        var kinds = Set<Instances.SegmentationKind>()
        for (i, im) in train.images.enumerated() {
            let t = try NotebookTargets.target(train, index: index, imageAt: i, height: im.height, width: im.width)
            XCTAssertTrue(t.labels.allSatisfy { (1...6).contains($0) })
            let (w, h, pixels) = try JPEG.decode(contentsOf: dir.appendingPathComponent("train2017/\(im.fileName)"))
            XCTAssertEqual([w, h], [im.width, im.height])
            for a in index.annotations(ofImageAt: i) {
                kinds.insert(train.segmentationKinds[a])
                let r = try XCTUnwrap(try train.rle(a, height: h, width: w))
                XCTAssertEqual(Double(r.area), train.areas[a], train.label(a))
                XCTAssertEqual(r.boundingBox, train.box(a), train.label(a))
                // A shape is one flat colour (up to shading and JPEG): its pixels vary less than
                // the image as a whole.
                let m = r.decodeRowMajor()
                var inside: [Double] = []
                for p in 0..<(w * h) where m[p] != 0 { inside.append(Double(pixels[3 * p]) + Double(pixels[3 * p + 1]) + Double(pixels[3 * p + 2])) }
                XCTAssertFalse(inside.isEmpty)
            }
        }
        XCTAssertEqual(kinds, [.polygons, .compressedRLE, .uncompressedRLE])
    }

    func testCheckPassesOnGeneratedDataAndNamesDamage() throws {
        let dir = try tempFolder("check")
        _ = try ShapesDataset.generate(out: dir, seed: 5, images: 8, size: 40)
        let ok = COCOCheck.run(root: dir, decode: true)
        XCTAssertTrue(ok.ok, ok.description)
        XCTAssertTrue(ok.description.contains("8 images"), ok.description)

        // A missing image, a resized image, a broken JSON.
        let train = try Instances.read(dir.appendingPathComponent("annotations/instances_train2017.json"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("train2017/\(train.images[0].fileName)"))
        let other = JPEG.encode([UInt8](repeating: 128, count: 10 * 12 * 3), width: 10, height: 12, components: 3)
        try Data(other).write(to: dir.appendingPathComponent("train2017/\(train.images[1].fileName)"))
        let val = dir.appendingPathComponent("annotations/instances_val2017.json")
        let text = try Data(contentsOf: val)
        try text.prefix(text.count / 2).write(to: val)
        let bad = COCOCheck.run(root: dir, decode: true)
        XCTAssertFalse(bad.ok)
        let s = bad.description
        XCTAssertTrue(s.contains("\(train.images[0].fileName): missing"), s)
        XCTAssertTrue(s.contains("decodes to 10×12 but"), s)
        XCTAssertTrue(s.contains("instances_val2017.json: broken JSON"), s)

        // Not the layout at all.
        let empty = try tempFolder("empty")
        let none = COCOCheck.run(root: empty, decode: false)
        XCTAssertFalse(none.ok)
        XCTAssertTrue(none.description.contains("missing annotations/instances_train2017.json"), none.description)
        XCTAssertTrue(none.description.contains("rkan-repro data make shapes"), none.description)
    }

    /// The notebook's input pipeline on the generated set: normalised pixels, targets, the
    /// augmentation drawn from Philox, and the all-zero image of an image without targets.
    func testDetectionDataAsTheNotebookFeedsIt() throws {
        let dir = try tempFolder("data")
        _ = try ShapesDataset.generate(out: dir, seed: 21, images: 6, size: 48)
        let url = dir.appendingPathComponent("annotations/instances_train2017.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let firstImage = ((json["images"] as! [[String: Any]])[0]["id"] as! NSNumber).int64Value
        json["annotations"] = (json["annotations"] as! [[String: Any]]).map { a in
            var a = a
            if (a["image_id"] as! NSNumber).int64Value == firstImage { a["iscrowd"] = 1 }
            return a
        }
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        let data = try COCODetectionData(root: dir, split: "train2017")
        XCTAssertEqual(data.count, 6)
        let empty = try data.sample(0, augmentation: nil)
        XCTAssertEqual(empty.target.count, 0)
        XCTAssertTrue(empty.pixels.allSatisfy { $0 == 0 }, "the notebook returns torch.zeros(3, h, w) for an image without targets")
        let plain = try data.sample(1, augmentation: nil)
        XCTAssertGreaterThan(plain.target.count, 0)
        XCTAssertEqual(plain.pixels.count, 48 * 48 * 3)
        XCTAssertTrue(plain.pixels.allSatisfy { $0 >= -2.2 && $0 <= 2.7 }, "ImageNet-normalised")
        let philox = Philox(seed: 1, purpose: .augment)
        var sizes = Set<Int>()
        for draw in 0..<40 as Range<UInt64> {
            let a = try data.sample(1, augmentation: (philox, draw)), b = try data.sample(1, augmentation: (philox, draw))
            XCTAssertEqual(a.pixels, b.pixels)
            XCTAssertEqual(a.target.boxes, b.target.boxes)
            XCTAssertEqual(a.target.masks.count, a.target.count * a.width * a.height)
            sizes.insert(a.width)
        }
        XCTAssertGreaterThan(sizes.count, 1, "RandomScale changes the size in some draws")
    }

    /// Annotation-level errors name the file and the annotation id.
    func testCheckNamesBadAnnotations() throws {
        let dir = try tempFolder("ann")
        _ = try ShapesDataset.generate(out: dir, seed: 9, images: 3, size: 40)
        let url = dir.appendingPathComponent("annotations/instances_train2017.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var anns = json["annotations"] as! [[String: Any]]
        anns[0]["image_id"] = 999_999
        anns.append(anns[1])    // a repeated id
        anns[2]["bbox"] = [1, 1, -3, 4]
        json["annotations"] = anns
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        let r = COCOCheck.run(root: dir, decode: false)
        XCTAssertFalse(r.ok)
        let id0 = anns[0]["id"] as! Int, id1 = anns[1]["id"] as! Int, id2 = anns[2]["id"] as! Int
        XCTAssertTrue(r.description.contains("annotation id \(id0) (annotations[0]): image_id 999999 is not in 'images'"), r.description)
        XCTAssertTrue(r.description.contains("annotation id \(id1) (annotations[\(anns.count - 1)]): the id is used twice"), r.description)
        XCTAssertTrue(r.description.contains("annotation id \(id2) (annotations[2]): bbox"), r.description)
    }
}
