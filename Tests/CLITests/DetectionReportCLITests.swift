import Foundation
import XCTest
import TestSupport
import RunStore
import Harness

/// `report` and `check` of a detection suite through the binary, on run files written in the
/// detection layout (docs/design.md, "Detection run files").
final class DetectionReportCLITests: XCTestCase {
    private static let yaml = """
        suite: det
        title: Detection CLI fixture
        source: hand-made values
        dataset: {name: coco, resolution: 64}
        protocol:
          epochs: 2
          batch_size: 2
          optimizer: {name: sgd, lr: 0.01, momentum: 0.9, weight_decay: 1.0e-4}
          schedule: {name: multistep, milestones: [1], gamma: 0.1}
        profiles:
          nightly: {train_subset: 8, test_subset: 4, resolution: 64, width: 0.125}
        seeds: [0, 1]
        experiments:
          - id: rkan
            model: maskrcnn(resnet18+rkan)
            baseline: base
            paper: {ap_box: 36.13, ap50_box: 54.30, ap_mask: 32.29, ap50_mask: 51.38, img_s: 97.2}
          - id: base
            model: maskrcnn(resnet18)
            role: baseline
            paper: {ap_box: 35.59, ap50_box: 53.58, ap_mask: 31.94, ap50_mask: 50.79, img_s: 118.2}
        """

    /// Writes every nightly run: box AP [10, 20 + seed] (+ `box` for the row), mask AP
    /// [8, 15 + seed], AP50 twice the AP, the official evaluation one point lower.
    private func writeRuns(_ suites: URL, _ out: URL, box: [String: Double] = [:]) throws {
        let suite = try SuiteLibrary.find("det", in: suites)
        for c in try suite.runs(profile: "nightly") {
            let b = [10, 20 + Double(c.seed) + (box[c.experiment] ?? 0)], m = [8, 15 + Double(c.seed)]
            var metrics: [String: [Double]] = ["val_bbox_ap": b, "val_bbox_ap50": b.map { $0 * 2 }, "val_segm_ap": m,
                                               "val_segm_ap50": m.map { $0 * 2 }, "skipped_batches": [0, 0],
                                               "train_loss": [2, 1], "lr": [0.01, 0.001], "epoch_seconds": [1, 1]]
            for (name, values) in metrics where name.hasPrefix("val_") {
                metrics["official_" + name.dropFirst(4)] = values.map { $0 - 1 }
            }
            var bench = [BenchEntry(name: "infer_fps", values: [c.experiment == "rkan" ? 8 : 10], batch: 1, size: 64)]
            if c.experiment == "rkan" { bench.append(BenchEntry(name: "infer_fps_ratio_vs_baseline", values: [0.78, 0.8, 0.82], batch: 1, size: 64)) }
            let attrs = RunAttributes(suite: "det", experiment: c.experiment, model: c.model.description, seed: c.seed, profile: "nightly",
                                      config: c.canonicalJSON, gitCommit: "abc1234", blasCore: "Zen", threads: 1, host: "h", status: .finished)
            try RunFile.write(RunRecord(attributes: attrs, weights: [WeightEntry(key: "w", shape: [1], floats: [Float(c.seed)])],
                                        state: RunState(epoch: 2, step: 8), metrics: metrics, bench: bench),
                              to: RunTree(out: out).file(for: c.slot))
        }
    }

    func testReportAndCheckOfADetectionSuite() throws {
        let suites = try CLI.tempFolder("det-cli-suites"), out = try CLI.tempFolder("det-cli-runs")
        try Self.yaml.write(to: suites.appendingPathComponent("det.yaml"), atomically: true, encoding: .utf8)
        try writeRuns(suites, out)
        let readme = out.appendingPathComponent("README.md")
        try Data("<!-- rkan-repro:det -->\n<!-- /rkan-repro:det -->\n".utf8).write(to: readme)
        let md = out.appendingPathComponent("Reports/det-nightly.md")
        let report = try CLI.run(["report", "det", "--profile", "nightly", "--suites", suites.path, "--runs", out.path,
                                  "--out", md.path, "--readme", readme.path, "--date", "2026-12-07"])
        XCTAssertEqual(report.code, 0, report.stderr)
        for name in ["det-nightly.md", "det-nightly-curves.svg", "det-nightly-mask-curves.svg", "det-nightly-deltas.svg"] {
            XCTAssertTrue(report.stdout.contains("wrote \(out.appendingPathComponent("Reports/\(name)").path)"), report.stdout)
        }
        // AP box: RKAN [20, 21] vs base [20, 21] → Δ 0 ± 0; FPS ratio median of six rounds 0.78…0.82.
        let text = try String(contentsOf: md, encoding: .utf8)
        XCTAssertTrue(text.contains("| `rkan` | `maskrcnn(resnet18+rkan)` | 20.50 ± 0.71 (n=2) | 36.13 | 41.00 ± 1.41 (n=2) | 54.30 "), text)
        XCTAssertNotNil(text.range(of: #"\| `rkan` \| [0-9,]+ \| 8\.0 \| 97\.2 \| 0\.80 \(0\.78–0\.82, 6 rounds\) \| 0\.82 \| – \|"#,
                                   options: .regularExpression), text)
        XCTAssertTrue(try String(contentsOf: readme, encoding: .utf8).contains("| `rkan` | 20.50 (36.13) | 15.50 (32.29) |"))

        let baseline = out.appendingPathComponent("det-nightly.json")
        let common = ["check", "det", "--suites", suites.path, "--runs", out.path, "--baseline", baseline.path]
        XCTAssertEqual(try CLI.run(common + ["--profile", "nightly", "--update-baseline"]).code, 0)
        let pass = try CLI.run(common)
        XCTAssertEqual(pass.code, 0, pass.stdout + pass.stderr)
        XCTAssertTrue(pass.stdout.contains("check passed"), pass.stdout)

        // RKAN's box AP 4 points lower: band 20.5 − 3 · max(0.71, 0.5) = 18.38 > 16.5.
        let worse = try CLI.tempFolder("det-cli-worse")
        try writeRuns(suites, worse, box: ["rkan": -4])
        let fail = try CLI.run(["check", "det", "--suites", suites.path, "--runs", worse.path, "--baseline", baseline.path])
        XCTAssertEqual(fail.code, 1, fail.stdout + fail.stderr)
        XCTAssertTrue(fail.stdout.contains("FAIL rkan ap_box: best AP box 16.50% vs band ≥ 18.38%"), fail.stdout)
        XCTAssertFalse(fail.stdout.contains("FAIL base"), fail.stdout)
        XCTAssertFalse(fail.stdout.contains("FAIL rkan ap_mask"), fail.stdout)
    }
}
