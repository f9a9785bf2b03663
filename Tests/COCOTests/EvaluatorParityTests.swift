import Foundation
import XCTest
@testable import COCO

/// The evaluator equals pycocotools' COCOeval: `Fixtures/eval.json`
/// (`Tools/coco/make_eval_fixtures.py`) holds hundreds of generated ground truths and results
/// with pycocotools' twelve `stats` and per-category AP / AR@100, for bbox and segm.
final class EvaluatorParityTests: XCTestCase {
    static let regenerate = "python3 -m Tools.coco.make_eval_fixtures"
    static let tolerance = 1e-6

    func testTwelveStatsAndPerCategoryMatchPycocotools() throws {
        let f = try FixtureFile.object("eval.json", regenerate: Self.regenerate)
        let cases = f.objects("cases")
        XCTAssertGreaterThanOrEqual(cases.count, 200, "hundreds of cases")
        var maxDiff = 0.0, compared = 0, failures = 0
        var names = Set<String>()
        for c in cases {
            let name = c.string("name")
            names.insert(String(name.split(separator: ":").last!))
            let gtJSON = try JSONSerialization.data(withJSONObject: c["gt"]!)
            let dtJSON = try JSONSerialization.data(withJSONObject: c["dt"]!)
            let gt = try Instances.parse(Array(gtJSON), name: "\(name) gt")
            let dt = try Detections.parse(Array(dtJSON), name: "\(name) results")
            for type in COCOEvaluator.IoUType.allCases {
                let expected = c[type.rawValue] as! [String: Any]
                let e = try COCOEvaluator.evaluate(groundTruth: gt, detections: dt, iouType: type)
                let want = expected.strings("stats").map(hexDouble)
                let perClass = e.perCategory
                let wantAP = expected.strings("ap").map(hexDouble), wantAR = expected.strings("ar").map(hexDouble)
                XCTAssertEqual(perClass.count, wantAP.count, "\(name) \(type): categories")
                let got = e.stats + perClass.map(\.ap) + perClass.map(\.ar100)
                let ref = want + wantAP + wantAR
                guard got.count == ref.count else { failures += 1; continue }
                var worst = 0.0
                for (a, b) in zip(got, ref) { worst = max(worst, abs(a - b)) }
                maxDiff = max(maxDiff, worst)
                compared += got.count
                if worst > Self.tolerance {
                    failures += 1
                    if failures <= 5 {
                        XCTFail("\(name) \(type): max |Δ| \(worst)\n  ours        \(e.stats)\n  pycocotools \(want)\n  AP ours \(perClass.map(\.ap)) vs \(wantAP)")
                    }
                }
            }
        }
        XCTAssertEqual(failures, 0)
        XCTAssertGreaterThan(compared, 5000)
        XCTAssertTrue(names.isSuperset(of: ["no-detections", "no-gt", "missing-category", "over-100", "mask-only", "box-only"]), "\(names)")
        print("COCO evaluator vs pycocotools: \(compared) numbers over \(cases.count) cases × 2 iou types, max |Δ| = \(maxDiff)")
    }

    /// A hand-checkable case: one image, two ground truths, three detections.
    func testHandWorkedCase() throws {
        var gt = Instances(file: "gt")
        gt.images = [.init(id: 1, fileName: "a.jpg", height: 100, width: 100)]
        gt.categories = [.init(id: 1, name: "a")]
        for (id, box) in [(1, [10.0, 10, 20, 20]), (2, [50.0, 50, 40, 40])] {
            gt.ids.append(Int64(id)); gt.imageIDs.append(1); gt.categoryIDs.append(1); gt.isCrowd.append(false)
            gt.areas.append(box[2] * box[3]); gt.boxes.append(contentsOf: box)
            gt.segmentationKinds.append(.none); gt.segmentationRanges.append(0..<0); gt.rleSizes.append((0, 0))
        }
        var dt = Detections()
        dt.append(imageID: 1, categoryID: 1, score: 0.9, box: [10, 10, 20, 20])   // TP for gt 1
        dt.append(imageID: 1, categoryID: 1, score: 0.8, box: [0, 0, 5, 5])       // FP
        dt.append(imageID: 1, categoryID: 1, score: 0.7, box: [50, 50, 40, 40])   // TP for gt 2
        let e = try COCOEvaluator.evaluate(groundTruth: gt, detections: dt, iouType: .bbox)
        // Precision after monotone interpolation: 1 up to recall 0.5, then 2/3 up to 1.
        let ap = (51.0 * 1 + 50 * (2.0 / 3.0)) / 101
        XCTAssertEqual(e.stats[1], ap, accuracy: 1e-12)
        XCTAssertEqual(e.stats[0], ap, accuracy: 1e-12, "exact boxes match at every threshold")
        XCTAssertEqual(e.stats[6], 0.5, "AR@1: the best-scored detection finds one of two")
        XCTAssertEqual(e.stats[8], 1)
        XCTAssertEqual(e.stats[5], -1, "no large objects (areas 400 and 1600 are small and medium)")
    }
}
