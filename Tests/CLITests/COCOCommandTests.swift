import Foundation
import XCTest

/// `rkan-repro data make shapes`, `data check coco` and `eval coco` end to end: stdout, stderr
/// and exit codes.
final class COCOCommandTests: XCTestCase {
    func testMakeCheckAndEvaluatePerfectDetections() throws {
        let dir = try CLI.tempFolder("shapes")
        defer { try? FileManager.default.removeItem(at: dir) }
        let make = try CLI.run(["data", "make", "shapes", "--out", dir.path, "--images", "10", "--size", "48", "--seed", "2"])
        XCTAssertEqual(make.code, 0, make.stderr)
        XCTAssertTrue(make.stdout.contains("10 train and 2 val images"), make.stdout)
        let again = try CLI.run(["data", "make", "shapes", "--out", dir.path, "--images", "10", "--size", "48"])
        XCTAssertEqual(again.code, 1)
        XCTAssertTrue(again.stderr.contains("already exists"), again.stderr)

        let check = try CLI.run(["data", "check", "coco", "--data", dir.path, "--decode"])
        XCTAssertEqual(check.code, 0, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("coco: OK"), check.stdout)

        // Perfect detections: every non-crowd ground truth as a detection (box and mask).
        let gtURL = dir.appendingPathComponent("annotations/instances_train2017.json")
        let gt = try JSONSerialization.jsonObject(with: Data(contentsOf: gtURL)) as! [String: Any]
        let anns = (gt["annotations"] as! [[String: Any]]).filter { ($0["iscrowd"] as! Int) == 0 }
        XCTAssertGreaterThan(anns.count, 5)
        let results: [[String: Any]] = anns.map { ["image_id": $0["image_id"]!, "category_id": $0["category_id"]!, "bbox": $0["bbox"]!, "score": 0.9] }
        let resultsURL = dir.appendingPathComponent("results.json")
        try JSONSerialization.data(withJSONObject: results).write(to: resultsURL)
        let e = try CLI.run(["eval", "coco", "--annotations", gtURL.path, "--results", resultsURL.path, "--json", "--per-class"])
        XCTAssertEqual(e.code, 0, e.stderr)
        let out = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any]
        let stats = out["stats"] as! [Double]
        XCTAssertEqual(stats.count, 12)
        XCTAssertEqual(stats[0], 1, accuracy: 1e-9, "perfect boxes: AP 1")
        XCTAssertEqual(stats[8], 1, accuracy: 1e-9, "AR@100 1")
        XCTAssertEqual((out["per_class"] as! [[String: Any]]).count, 6)

        let text = try CLI.run(["eval", "coco", "--annotations", gtURL.path, "--results", resultsURL.path])
        XCTAssertEqual(text.code, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains(" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000"), text.stdout)
    }

    func testBadInputsAreClearErrors() throws {
        let dir = try CLI.tempFolder("coco-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let usage = try CLI.run(["eval", "coco", "--annotations", "a.json", "--results", "r.json", "--iou-type", "keypoints"])
        XCTAssertEqual(usage.code, 64)
        XCTAssertTrue(usage.stderr.contains("--iou-type must be bbox or segm"), usage.stderr)

        let missing = try CLI.run(["eval", "coco", "--annotations", dir.appendingPathComponent("none.json").path, "--results", "r.json"])
        XCTAssertEqual(missing.code, 1)
        XCTAssertTrue(missing.stderr.contains("none.json: cannot open"), missing.stderr)

        let gt = dir.appendingPathComponent("gt.json"), res = dir.appendingPathComponent("res.json")
        try Data("{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"height\": 10, \"width\": 10}], \"annotations\": [], \"categories\": [{\"id\": 1, \"name\": \"a\"}]}".utf8).write(to: gt)
        try Data("[{\"image_id\": 2, \"category_id\": 1, \"score\": 1, \"bbox\": [0, 0, 1, 1]}]".utf8).write(to: res)
        let wrongImage = try CLI.run(["eval", "coco", "--annotations", gt.path, "--results", res.path])
        XCTAssertEqual(wrongImage.code, 1)
        XCTAssertTrue(wrongImage.stderr.contains("results[0]: image_id 2 is not an image of the ground truth"), wrongImage.stderr)

        try Data(String(repeating: "[", count: 1_000_000).utf8).write(to: res)
        let deep = try CLI.run(["eval", "coco", "--annotations", gt.path, "--results", res.path])
        XCTAssertEqual(deep.code, 1)
        XCTAssertFalse(deep.killedBySignal)
        XCTAssertTrue(deep.stderr.contains("res.json"), deep.stderr)

        let make = try CLI.run(["data", "make", "circles", "--out", dir.path])
        XCTAssertEqual(make.code, 64)
        let check = try CLI.run(["data", "check", "coco", "--data", dir.path])
        XCTAssertEqual(check.code, 1)
        XCTAssertTrue(check.stdout.contains("not in the official COCO 2017 layout"), check.stdout)
        let file = try CLI.run(["data", "check", "coco", "--data", gt.path])
        XCTAssertEqual(file.code, 1)
        XCTAssertTrue(file.stderr.contains("is a file, not a folder"), file.stderr)
    }
}
