import Foundation
import XCTest
@testable import COCO

/// `TorchmetricsMAP` equals torchmetrics' MeanAveragePrecision as the reference notebook calls it:
/// `Fixtures/torchmetrics.json` (`Tools/coco/make_torchmetrics_fixtures.py`, torchmetrics 1.4.3)
/// holds its twelve numbers, per-class AP and AR@100 for bbox and segm on generated batches.
final class TorchmetricsParityTests: XCTestCase {
    func testNotebookMetricMatchesTorchmetrics() throws {
        let f = try FixtureFile.object("torchmetrics.json", regenerate: "python3 -m Tools.coco.make_torchmetrics_fixtures")
        let cases = f.objects("cases")
        XCTAssertGreaterThanOrEqual(cases.count, 50)
        var maxDiff = 0.0, compared = 0
        for c in cases {
            var samples: [TorchmetricsMAP.Sample] = []
            for s in c.objects("samples") {
                let h = s.int("h"), w = s.int("w")
                func masks(_ k: String) throws -> [RLE] {
                    try s.strings(k).map { try RLE(compressed: Array($0.utf8), height: h, width: w, what: k) }
                }
                samples.append(TorchmetricsMAP.Sample(
                    targetBoxes: s.strings("t_boxes").map { Float(hexDouble($0)) }, targetLabels: s.ints("t_labels"),
                    targetMasks: try masks("t_masks"),
                    boxes: s.strings("p_boxes").map { Float(hexDouble($0)) }, scores: s.strings("p_scores").map { Float(hexDouble($0)) },
                    labels: s.ints("p_labels"), masks: try masks("p_masks")))
            }
            for type in COCOEvaluator.IoUType.allCases {
                let want = c[type.rawValue] as! [String: Any]
                let e = try TorchmetricsMAP.evaluate(samples, iouType: type)
                XCTAssertEqual(e.categoryIDs.map(Int.init), want.ints("classes"), "\(c.string("name")) \(type): classes")
                let got = e.stats + e.perCategory.map(\.ap) + e.perCategory.map(\.ar100)
                let ref = (want.strings("stats") + want.strings("ap") + want.strings("ar")).map(hexDouble)
                XCTAssertEqual(got.count, ref.count)
                for (a, b) in zip(got, ref) {
                    // torchmetrics returns float32: compare after the same rounding.
                    maxDiff = max(maxDiff, abs(Double(Float(a)) - b))
                    compared += 1
                }
                let worst = zip(got, ref).map { abs(Double(Float($0)) - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 1e-6, "\(c.string("name")) \(type): ours \(e.stats) vs \(ref.prefix(12))")
            }
        }
        print("notebook metric vs torchmetrics 1.4.3: \(compared) numbers, max |Δ| = \(maxDiff)")
    }

    /// The thresholds torchmetrics passes differ from pycocotools' in the last bits, and that
    /// can move a match: an IoU of exactly 0.55 matches at pycocotools' threshold but not at
    /// torchmetrics' (float32 0.550000011920929).
    func testThresholdsAreTorchmetricsFloat32Values() {
        XCTAssertEqual(COCOEvaluator.Parameters.torchmetrics.iouThresholds[1], Double(Float(0.55)))
        XCTAssertEqual(COCOEvaluator.Parameters.pycocotools.iouThresholds[1], 0.55, accuracy: 1e-15)
        XCTAssertEqual(COCOEvaluator.Parameters.torchmetrics.recallThresholds.count, 101)
        XCTAssertEqual(COCOEvaluator.Parameters.torchmetrics.recallThresholds[100], 1)
        XCTAssertEqual(COCOEvaluator.Parameters.torchmetrics.iouThresholds[5], 0.75, "AP75 is found by equality")
    }
}
