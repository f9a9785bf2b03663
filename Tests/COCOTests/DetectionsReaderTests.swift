import XCTest
@testable import COCO

/// The results reader and `loadRes`' rules.
final class DetectionsReaderTests: XCTestCase {
    func parse(_ text: String) throws -> Detections { try Detections.parse(Array(text.utf8), name: "r.json") }

    func testReadsBoxesMasksAndPolygons() throws {
        let d = try parse("""
        [{"image_id": 1, "category_id": 2, "score": 0.5, "bbox": [1, 2, 3, 4], "id": 9, "area": 1},
         {"image_id": 1, "category_id": 2, "score": 0.25, "segmentation": {"size": [2, 2], "counts": "04"}},
         {"image_id": 3, "category_id": 1, "score": 1e-3, "segmentation": [[0, 0, 4, 0, 4, 4]], "bbox": [0, 0, 4, 4]},
         {"image_id": 3, "category_id": 1, "score": 0, "segmentation": {"size": [2, 2], "counts": [1, 3]}}]
        """)
        XCTAssertEqual(d.count, 4)
        XCTAssertEqual(d.scores, [0.5, 0.25, 1e-3, 0])
        XCTAssertEqual(d.boxes[0], [1, 2, 3, 4])
        XCTAssertNil(d.boxes[1])
        XCTAssertEqual(d.segmentations[1], .rle(RLE(height: 2, width: 2, counts: [0, 4])))
        XCTAssertEqual(d.segmentations[2], .polygons([[0, 0, 4, 0, 4, 4]]))
        XCTAssertEqual(d.segmentations[3], .rle(RLE(height: 2, width: 2, counts: [1, 3])))
        XCTAssertEqual(d.areas, [nil, nil, nil, nil], "a results file's own 'area' is not used (loadRes recomputes it)")
    }

    func testHostileResultsAreClearErrors() {
        let cases: [(String, String)] = [
            ("{}", "a results file is a JSON array"),
            ("[1]", "results[0]: expected an object"),
            ("[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0, 0, 1, 1]}]", "results[0]: missing 'score'"),
            ("[{\"image_id\": 1, \"category_id\": 1, \"score\": 1}]", "needs 'bbox' or 'segmentation'"),
            ("[{\"image_id\": 1, \"category_id\": 1, \"score\": \"high\", \"bbox\": [0, 0, 1, 1]}]", "'score' must be a number"),
            ("[{\"image_id\": 1, \"category_id\": 1, \"score\": 1, \"segmentation\": {\"size\": [2, 2], \"counts\": \"0\"}}]", "cover 0 pixels"),
            ("[{\"image_id\": 1, \"category_id\": 1, \"score\": 1, \"bbox\": [0, 0, 1, 1]}", "truncated"),
            ("[{\"image_id\": 1.5, \"category_id\": 1, \"score\": 1, \"bbox\": [0, 0, 1, 1]}]", "expected an integer"),
        ]
        for (text, needle) in cases {
            XCTAssertThrowsError(try parse(text), text) { e in
                XCTAssertTrue("\(e)".contains("r.json") && "\(e)".contains(needle), "'\(needle)' not in: \(e)")
            }
        }
    }

    /// A box-only result evaluated as segm is rasterised as its polygon; a box too far out to
    /// rasterise is an error naming the entry, not a crash.
    func testHugeBoxInSegmIsAnError() throws {
        var gt = Instances(file: "gt")
        gt.images = [.init(id: 1, fileName: "a", height: 10, width: 10)]
        gt.categories = [.init(id: 1, name: "a")]
        var dt = Detections()
        dt.append(imageID: 1, categoryID: 1, score: 1, box: [0, 0, 4, 4])
        dt.append(imageID: 1, categoryID: 1, score: 1, box: [0, 0, 1e9, 1e9])
        XCTAssertThrowsError(try COCOEvaluator.evaluate(groundTruth: gt, detections: dt, iouType: .segm, resultsFile: "r.json")) { e in
            XCTAssertTrue("\(e)".contains("r.json: results[1]: bbox"), "\(e)")
        }
        XCTAssertNoThrow(try COCOEvaluator.evaluate(groundTruth: gt, detections: dt, iouType: .bbox))
    }

    /// loadRes: when the first result has a box, detection areas are box areas even for segm,
    /// which decides which detections the area ranges ignore.
    func testBoxPathAreaDecidesAreaRanges() throws {
        var gt = Instances(file: "gt")
        gt.images = [.init(id: 1, fileName: "a", height: 100, width: 100)]
        gt.categories = [.init(id: 1, name: "a")]
        // One small ground truth (area 100).
        gt.ids = [1]; gt.imageIDs = [1]; gt.categoryIDs = [1]; gt.isCrowd = [false]; gt.areas = [100]
        gt.boxes.append(contentsOf: [0, 0, 10, 10])
        gt.segmentationKinds = [.polygons]; gt.segmentationRanges = [0..<1]; gt.rleSizes = [(0, 0)]
        gt.appendRing([0, 0, 10, 0, 10, 10, 0, 10])
        // A high-scored unmatched detection (a 10×10 mask far away, a large box: area 2500) and an
        // exact one.
        let far = RLE(polygons: [[50, 50, 60, 50, 60, 60, 50, 60]], height: 100, width: 100)
        let exact = RLE(polygons: [[0, 0, 10, 0, 10, 10, 0, 10]], height: 100, width: 100)
        var withBox = Detections()
        withBox.append(imageID: 1, categoryID: 1, score: 0.9, box: [40, 40, 50, 50], segmentation: .rle(far))
        withBox.append(imageID: 1, categoryID: 1, score: 0.5, box: [0, 0, 10, 10], segmentation: .rle(exact))
        var maskOnly = Detections()
        maskOnly.append(imageID: 1, categoryID: 1, score: 0.9, box: nil, segmentation: .rle(far))
        maskOnly.append(imageID: 1, categoryID: 1, score: 0.5, box: nil, segmentation: .rle(exact))
        let a = try COCOEvaluator.evaluate(groundTruth: gt, detections: withBox, iouType: .segm)
        let b = try COCOEvaluator.evaluate(groundTruth: gt, detections: maskOnly, iouType: .segm)
        // Area "small": with boxes the far detection's area is 2500, outside the range, so it is
        // ignored and AP is 1; without, its area is its mask's 100 and it is a false positive
        // ranked first: precision 1/2 at every recall.
        XCTAssertEqual(a.stats[3], 1, accuracy: 1e-12)
        XCTAssertEqual(b.stats[3], 0.5, accuracy: 1e-12)
        // Area "all" counts it either way.
        XCTAssertEqual(a.stats[0], b.stats[0])
    }
}
