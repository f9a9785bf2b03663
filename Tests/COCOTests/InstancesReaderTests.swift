import Foundation
import XCTest
@testable import COCO

/// The instances reader: values as Python's json reads them, the notebook's targets, and hostile
/// files (wrong types, huge numbers, deep nesting, truncation) as errors naming the file and the
/// annotation, never a crash.
final class InstancesReaderTests: XCTestCase {
    func parse(_ text: String) throws -> Instances { try Instances.parse(Array(text.utf8), name: "x.json") }

    static let valid = """
    {"info": {"year": 2017, "nested": [[{"a": null}], true, false, "s\\u00e9\\n"]}, "licenses": [],
     "images": [{"id": 3, "file_name": "000000000003.jpg", "height": 40, "width": 50, "license": 1}],
     "annotations": [
      {"segmentation": [[1.5, 2.25, 30, 2, 30.75, 20]], "area": 250.5, "iscrowd": 0, "image_id": 3,
       "bbox": [1.5, 2, 29.25, 18], "category_id": 18, "id": 1768},
      {"segmentation": {"size": [40, 50], "counts": [100, 20, 1880]}, "area": 20, "iscrowd": 1, "image_id": 3,
       "bbox": [2, 20, 1, 20], "category_id": 1, "id": 9},
      {"segmentation": {"size": [40, 50], "counts": "0`n1"}, "area": 2000, "iscrowd": false, "image_id": 3,
       "bbox": [0, 0, 50, 40], "category_id": 91, "id": -4, "extra": {"deep": [1, [2, [3]]]}}],
     "categories": [{"id": 1, "name": "person", "supercategory": "person"}, {"id": 18, "name": "dog"}]}
    """

    func testReadsColumnsAndSkipsUnknownKeys() throws {
        let i = try parse(Self.valid)
        XCTAssertEqual(i.images, [.init(id: 3, fileName: "000000000003.jpg", height: 40, width: 50)])
        XCTAssertEqual(i.categories.map(\.name), ["person", "dog"])
        XCTAssertEqual(i.ids, [1768, 9, -4])
        XCTAssertEqual(i.isCrowd, [false, true, false])
        XCTAssertEqual(i.areas, [250.5, 20, 2000])
        XCTAssertEqual(i.box(0), [1.5, 2, 29.25, 18])
        XCTAssertEqual(i.segmentationKinds, [.polygons, .uncompressedRLE, .compressedRLE])
        XCTAssertEqual(i.polygons(0), [[1.5, 2.25, 30, 2, 30.75, 20]])
        XCTAssertEqual(i.coordinateSlots.count, 6, "two-decimal values are stored as hundredths")
        XCTAssertEqual(try i.rle(1, height: 40, width: 50)?.counts, [100, 20, 1880])
        XCTAssertEqual(try i.rle(2, height: 40, width: 50)?.area, 2000)
    }

    /// Polygon values come back as the exact doubles parsed, whether stored as hundredths or not.
    func testPolygonStorageKeepsEveryDouble() throws {
        let values = ["473.07", "0.01", "-0.0", "-12.5", "99999.999", "-99999.99", "0.001", "1e-300", "123.456", "99999.99", "0.3", "1e2"]
        let rings = "[[" + values.joined(separator: ", ") + "], [1.25, 2.5, 3.75], [0.1, 0.2, 1e-9]]"
        let i = try parse("{\"images\": [], \"categories\": [], \"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"iscrowd\": 0, \"area\": 1, \"bbox\": [0, 0, 1, 1], \"segmentation\": \(rings)}]}")
        let p = i.polygons(0)
        XCTAssertEqual(p[0].map(\.bitPattern), values.map { strtod($0, nil).bitPattern })
        XCTAssertEqual(p[1], [1.25, 2.5, 3.75])
        XCTAssertEqual(p[2].map(\.bitPattern), [0.1, 0.2, 1e-9].map(\.bitPattern))
        XCTAssertEqual(i.coordinateCount, 18)
        XCTAssertEqual(i.coordinateSlots.count, 2 * 12 + 3 + 2 * 3, "rings with a value that is not whole hundredths keep Doubles")
    }

    /// Numbers parse to the doubles Python's `float()` gives (fast path and `strtod` path).
    func testNumbersAreCorrectlyRounded() throws {
        let values = ["0.1", "473.07", "239.97", "1e-7", "123456789012345678901234567890", "0.30000000000000004",
                      "2.2250738585072014e-308", "4.9e-324", "9007199254740993", "1.7976931348623157e308", "-0.0", "100.1",
                      "0.000000000000000000000000000001", "12345.678901234567890123"]
        for v in values {
            let text = "{\"images\": [], \"categories\": [], \"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 1, \"iscrowd\": 0, \"area\": \(v), \"bbox\": [0, 0, 1, 1]}]}"
            let got = try parse(text).areas[0]
            XCTAssertEqual(got.bitPattern, strtod(v, nil).bitPattern, v)
        }
    }

    func testNotebookTargetsMatchTheNotebook() throws {
        let f = try FixtureFile.object("targets.json", regenerate: "python3 -m Tools.coco.make_target_fixtures")
        let data = try JSONSerialization.data(withJSONObject: f["instances"]!)
        let instances = try Instances.parse(Array(data), name: "targets")
        let index = instances.imageIndex()
        let expected = f.objects("expected")
        var kept = 0
        for (i, e) in expected.enumerated() {
            let im = instances.images[i]
            XCTAssertEqual(im.id, Int64(e.int("image_id")))
            let t = try NotebookTargets.target(instances, index: index, imageAt: i, height: im.height, width: im.width)
            XCTAssertEqual(t.annotations.map { instances.ids[$0] }, e.ints("kept").map(Int64.init), "image \(im.id)")
            XCTAssertEqual(t.labels, e.ints("labels"), "image \(im.id)")
            XCTAssertEqual(t.boxes, (e["boxes"] as! [[String]]).flatMap { $0.map(hexDouble) }, "image \(im.id)")
            let sums = (e["masks"] as! [[NSNumber]]).map { $0.map(\.intValue) }
            let n = im.height * im.width
            for (k, want) in sums.enumerated() {
                var c = 0, s = 0, s2 = 0
                for p in 0..<n where t.masks[k * n + p] != 0 { c += 1; s += p; s2 += p * p }
                XCTAssertEqual([c, s, s2], want, "image \(im.id) mask \(k)")
            }
            kept += t.count
        }
        XCTAssertGreaterThan(kept, 20)
        XCTAssertLessThan(kept, instances.annotationCount, "some annotations are dropped (crowd, other categories, thin boxes)")
    }

    func testLabelsFollowTheNotebooksList() {
        XCTAssertEqual(NotebookTargets.cocoCategoryIDs.count, 80)
        XCTAssertEqual(NotebookTargets.label(ofCategory: 1), 1)
        XCTAssertEqual(NotebookTargets.label(ofCategory: 13), 12)
        XCTAssertEqual(NotebookTargets.label(ofCategory: 90), 80)
        XCTAssertNil(NotebookTargets.label(ofCategory: 12))
        XCTAssertNil(NotebookTargets.label(ofCategory: 91))
    }

    /// Each hostile file gives a COCOError whose text names the file and, for an annotation, its
    /// id; nothing crashes, hangs or allocates without bound.
    func testHostileFilesAreClearErrors() {
        let base = { (ann: String) in
            "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"height\": 10, \"width\": 10}], \"categories\": [{\"id\": 1, \"name\": \"a\"}], \"annotations\": [\(ann)]}"
        }
        let good = "\"image_id\": 1, \"category_id\": 1, \"iscrowd\": 0, \"area\": 1, \"bbox\": [0, 0, 1, 1]"
        let cases: [(String, String, [String])] = [
            ("wrong type", base("{\"segmentation\": \"oops\", \(good), \"id\": 77}"), ["x.json", "annotation id 77", "'segmentation'", "found a string"]),
            ("bbox type", base("{\"bbox\": [0, \"1\", 2, 3], \"id\": 78, \"image_id\": 1, \"category_id\": 1, \"iscrowd\": 0, \"area\": 1}"), ["annotation id 78", "'bbox' must be a number"]),
            ("short bbox", base("{\"id\": 79, \"image_id\": 1, \"category_id\": 1, \"iscrowd\": 0, \"area\": 1, \"bbox\": [0, 0, 1]}"), ["annotation id 79", "3 values, expected 4"]),
            ("huge int id", base("{\(good), \"id\": 123456789012345678901234567890}"), ["x.json", "integer is out of range", "annotations[0]"]),
            ("float id", base("{\(good), \"id\": 1.5}"), ["expected an integer"]),
            ("huge number", base("{\"id\": 80, \"image_id\": 1, \"category_id\": 1, \"iscrowd\": 0, \"area\": 1e999, \"bbox\": [0, 0, 1, 1]}"), ["out of range", "annotation id 80"]),
            ("huge coordinate", base("{\"segmentation\": [[1e300, 0, 1, 1, 2, 2]], \(good), \"id\": 81}"), ["annotation id 81", "outside ±100000"]),
            ("long outline", base("{\"segmentation\": [[" + Array(repeating: "-99999, -99999, 99999, 99999", count: 40).joined(separator: ", ") + "]], \(good), \"id\": 91}"), ["annotation id 91", "outline is"]),
            ("long number", base("{\(good), \"id\": 82, \"x\": " + String(repeating: "1", count: 5000) + "}"), ["characters"]),
            ("deep nesting", base("{\(good), \"id\": 83, \"x\": " + String(repeating: "[", count: 100_000) + "}"), ["nested more than 256"]),
            ("truncated", String(base("{\(good), \"id\": 84}").prefix(150)), ["x.json", "truncated"]),
            ("truncated string", "{\"images\": [{\"id\": 1, \"file_name\": \"a.j", ["truncated"]),
            ("missing key", base("{\"id\": 85, \"image_id\": 1, \"category_id\": 1, \"iscrowd\": 0, \"bbox\": [0, 0, 1, 1]}"), ["annotation id 85", "missing 'area'"]),
            ("crowd 2", base("{\(good.replacingOccurrences(of: "\"iscrowd\": 0", with: "\"iscrowd\": 2")), \"id\": 86}"), ["annotation id 86", "'iscrowd' is 2"]),
            ("rle size", base("{\"segmentation\": {\"size\": [10, 1e9], \"counts\": \"0\"}, \(good), \"id\": 87}"), ["annotation id 87", "segmentation.size"]),
            ("rle count", base("{\"segmentation\": {\"size\": [2, 2], \"counts\": [1, -3]}, \(good), \"id\": 88}"), ["annotation id 88", "outside 0…4294967295"]),
            ("duplicate key", base("{\"id\": 89, \(good), \"bbox\": [0, 0, 1, 1]}"), ["annotation id 89", "'bbox' appears twice"]),
            ("not an object", "[1, 2]", ["top level", "found an array"]),
            ("bad literal", "{\"info\": tru}", ["x.json", "'true'"]),
            ("control char", "{\"images\": [{\"file_name\": \"a\u{01}\"}]}", ["control character"]),
            ("bad utf8", "{\"images\": [{\"file_name\": \"\\ud800\"}]}", ["surrogate"]),
            ("trailing", base("{\(good), \"id\": 90}") + " {}", ["text follows"]),
            ("no annotations", "{\"images\": [], \"categories\": []}", ["no 'annotations'"]),
            ("image size", "{\"images\": [{\"id\": 1, \"file_name\": \"a\", \"height\": 0, \"width\": 4}], \"annotations\": [], \"categories\": []}", ["image id 1", "'height' is 0"]),
        ]
        for (name, text, needles) in cases {
            XCTAssertThrowsError(try parse(text), name) { error in
                XCTAssertTrue(error is COCOError, "\(name): \(error)")
                for n in needles { XCTAssertTrue("\(error)".contains(n), "\(name): '\(n)' not in: \(error)") }
            }
        }
    }

    /// A compressed RLE that does not cover its size is refused when the mask is made.
    func testBrokenRLEIsAnErrorNamingTheAnnotation() throws {
        let i = try parse("{\"images\": [], \"categories\": [], \"annotations\": [{\"id\": 5, \"image_id\": 1, \"category_id\": 1, \"iscrowd\": 0, \"area\": 1, \"bbox\": [0, 0, 1, 1], \"segmentation\": {\"size\": [3, 3], \"counts\": \"12\"}}]}")
        XCTAssertThrowsError(try i.rle(0, height: 3, width: 3)) { e in
            XCTAssertTrue("\(e)".contains("annotation id 5") && "\(e)".contains("cover 3 pixels"), "\(e)")
        }
    }

    func testReadsFromAFileAndNamesIt() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rkan-coco-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(Self.valid.utf8).write(to: url)
        XCTAssertEqual(try Instances.read(url).annotationCount, 3)
        try Data().write(to: url)
        XCTAssertThrowsError(try Instances.read(url)) { XCTAssertTrue("\($0)".contains(url.path) && "\($0)".contains("empty"), "\($0)") }
        XCTAssertThrowsError(try Instances.read(url.appendingPathExtension("missing"))) { XCTAssertTrue("\($0)".contains("cannot open"), "\($0)") }
    }
}
