import Foundation
import XCTest
import TestSupport
import RunStore
import Engine
import Zoo
@testable import Harness

/// A detection suite (dataset coco, `maskrcnn(…)` rows) with run files written by `RunFile.write`
/// in the detection layout (docs/design.md, "Detection run files") and hand-computed numbers.
enum DetectionFixture {
    static let yaml = """
        suite: det
        title: Detection fixture
        source: hand-made values
        dataset: {name: coco, resolution: 64}
        protocol:
          epochs: 3
          batch_size: 2
          optimizer: {name: sgd, lr: 0.01, momentum: 0.9, nesterov: true, weight_decay: 1.0e-4}
          schedule: {name: multistep, milestones: [2], gamma: 0.1}
        profiles:
          t: {train_subset: 8, test_subset: 4, resolution: 64, width: 0.125}
        seeds: [0, 1, 2]
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

    /// Notebook evaluation per (row, seed), three epochs each: box AP, box AP50, mask AP, mask AP50.
    /// Base seed 1 ties its best box AP at epochs 2 and 3 (the first counts, so AP50 box is 36, not
    /// 99); base seed 2 has pycocotools' −1 at epoch 2.
    static let notebook: [String: [Int: [[Double]]]] = [
        "base": [
            0: [[10, 20, 19], [20, 35, 34], [9, 17, 18], [18, 30, 31]],
            1: [[11, 21, 21], [22, 36, 99], [10, 19, 16], [20, 32, 30]],
            2: [[12, -1, 22], [23, -1, 37], [11, -1, 17], [21, -1, 29]],
        ],
        "rkan": [
            0: [[12, 22, 21], [24, 38, 37], [10, 19, 20], [20, 33, 34]],
            1: [[13, 23, 22], [25, 39, 38], [11, 21, 19], [22, 35, 33]],
            2: [[14, 20, 25], [26, 36, 41], [12, 18, 18.5], [23, 31, 32]],
        ],
    ]

    /// Per-round FPS ratios of each RKAN seed.
    static let ratios: [Int: [Double]] = [0: [0.80, 0.90, 0.85], 1: [0.86, 0.84, 0.88], 2: [0.82, 0.87, 0.83]]

    /// Writes the suite into `folder/det.yaml`.
    static func suites() throws -> URL {
        let folder = try makeTempFolder("det-suites")
        try yaml.write(to: folder.appendingPathComponent("det.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    /// The per-epoch metrics of one run: the notebook values, `boxShift`/`maskShift` added to
    /// every defined box/mask AP and AP50 (a worse run), the official evaluation = notebook − 1
    /// (box) and − 0.5 (mask), but 90 at epoch 1 (never a best epoch here, so reading the official
    /// values anywhere but at the notebook's best epochs shows).
    static func metrics(_ id: String, seed: Int, boxShift: Double = 0, maskShift: Double = 0) -> [String: [Double]] {
        let v = notebook[id]![seed]!
        func shifted(_ xs: [Double], _ d: Double) -> [Double] { xs.map { $0 < 0 ? $0 : $0 + d } }
        func official(_ xs: [Double], _ d: Double) -> [Double] { [90] + xs.dropFirst().map { $0 < 0 ? $0 : $0 - d } }
        let box = shifted(v[0], boxShift), box50 = shifted(v[1], boxShift)
        let mask = shifted(v[2], maskShift), mask50 = shifted(v[3], maskShift)
        var m: [String: [Double]] = [
            "val_bbox_ap": box, "val_bbox_ap50": box50, "val_segm_ap": mask, "val_segm_ap50": mask50,
            "official_bbox_ap": official(box, 1), "official_bbox_ap50": official(box50, 2),
            "official_segm_ap": official(mask, 0.5), "official_segm_ap50": official(mask50, 1),
            "skipped_batches": [0, 1, 0], "lr": [0.01, 0.001, 0.001], "epoch_seconds": [5, 5, 5],
        ]
        for name in ["train_loss", "train_loss_classifier", "train_loss_box_reg", "train_loss_mask",
                     "train_loss_objectness", "train_loss_rpn_box_reg"] {
            m[name] = [1.5, 1.2, 1.1]
        }
        for e in ["val_", "official_"] {
            for t in ["bbox", "segm"] {
                for s in DetectionMetrics.summaryNames where m["\(e)\(t)_\(s)"] == nil { m["\(e)\(t)_\(s)"] = [-1, -1, -1] }
            }
        }
        return m
    }

    /// Writes every run of profile `t` under `out` (finished, the same tiny weights).
    static func writeRuns(suites: URL, out: URL, boxShift: [String: Double] = [:], maskShift: [String: Double] = [:]) throws {
        let suite = try SuiteLibrary.find("det", in: suites)
        for c in try suite.runs(profile: "t") {
            let attrs = RunAttributes(suite: "det", experiment: c.experiment, model: c.model.description, seed: c.seed, profile: "t",
                                      config: c.canonicalJSON, gitCommit: "abc1234", blasCore: "Zen", threads: 1, host: "test-host",
                                      status: .finished)
            var bench = [BenchEntry(name: DetectionMetrics.inferFPS, values: c.experiment == "rkan" ? [9, 9.5, 10] : [10, 12, 11],
                                    batch: 1, size: 64),
                         BenchEntry(name: "train_img_s", values: [c.experiment == "rkan" ? 4 : 5], batch: 2, size: 64)]
            if c.experiment == "rkan" {
                bench.append(BenchEntry(name: DetectionMetrics.inferFPSRatio, values: ratios[c.seed]!, batch: 1, size: 64))
            }
            let record = RunRecord(attributes: attrs, weights: [WeightEntry(key: "w", shape: [2], floats: [1, Float(c.seed)])],
                                   state: RunState(epoch: 3, step: 12, extraJSON: #"{"start_weights":"imagenet","start_weights_sha256":"00"}"#),
                                   metrics: metrics(c.experiment, seed: c.seed, boxShift: boxShift[c.experiment] ?? 0,
                                                    maskShift: maskShift[c.experiment] ?? 0),
                                   bench: bench)
            try RunFile.write(record, to: RunTree(out: out).file(for: c.slot))
        }
    }
}

final class DetectionReportTests: XCTestCase {
    private func lines(_ text: String) -> [String] { text.components(separatedBy: "\n") }

    func testSuiteIsDetectionAndDecodesThePublishedAP() throws {
        let suite = try Suite.decode(yaml: DetectionFixture.yaml, file: "det.yaml")
        XCTAssertTrue(suite.isDetection)
        XCTAssertEqual(suite.experiment("base")?.paper,
                       PaperValues(imgPerSec: 118.2, apBox: 35.59, ap50Box: 53.58, apMask: 31.94, ap50Mask: 50.79))
        XCTAssertFalse(try Suite.decode(yaml: demoYAML, file: "demo.yaml").isDetection)
        // A maskrcnn row makes a suite a detection suite whatever its dataset.
        let wrapped = DetectionFixture.yaml.replacingOccurrences(of: "{name: coco, resolution: 64}", with: "{name: cifar100}")
        XCTAssertTrue(try Suite.decode(yaml: wrapped, file: "det.yaml").isDetection)
    }

    func testAPOfTheOtherKindOfSuiteIsRefused() throws {
        let withTop1 = DetectionFixture.yaml.replacingOccurrences(of: "paper: {ap_box: 35.59,", with: "paper: {top1: 80, ap_box: 35.59,")
        XCTAssertThrowsError(try Suite.decode(yaml: withTop1, file: "det.yaml")) { e in
            XCTAssertTrue("\(e)".contains("not both"), "\(e)")
        }
        let top1Only = DetectionFixture.yaml.replacingOccurrences(
            of: "paper: {ap_box: 35.59, ap50_box: 53.58, ap_mask: 31.94, ap50_mask: 50.79, img_s: 118.2}", with: "paper: {top1: 80}")
        XCTAssertThrowsError(try Suite.decode(yaml: top1Only, file: "det.yaml")) { e in
            XCTAssertTrue("\(e)".contains("top1 in a detection suite"), "\(e)")
        }
        let classification = demoYAML.replacingOccurrences(of: "top1: 84.00", with: "ap_mask: 30")
        XCTAssertNotEqual(classification, demoYAML, "the demo suite's baseline row should publish top1: 84.00")
        XCTAssertThrowsError(try Suite.decode(yaml: classification, file: "demo.yaml")) { e in
            XCTAssertTrue("\(e)".contains("ap_mask in a classification suite"), "\(e)")
        }
        let outOfRange = DetectionFixture.yaml.replacingOccurrences(of: "ap_mask: 31.94", with: "ap_mask: 131.94")
        XCTAssertThrowsError(try Suite.decode(yaml: outOfRange, file: "det.yaml"))
    }

    /// The notebook's rule: best box AP (first epoch reaching it) with its epoch's AP50, best mask
    /// AP separately; −1 never counts; the official values at the same epochs.
    func testScoresFollowTheNotebooksBestEpochs() throws {
        let tie = try XCTUnwrap(DetectionScores(metrics: DetectionFixture.metrics("base", seed: 1)))
        XCTAssertEqual(tie.boxEpoch, 2)
        XCTAssertEqual(tie.apBox, 21)
        XCTAssertEqual(tie.ap50Box, 36)
        XCTAssertEqual(tie.maskEpoch, 2)
        XCTAssertEqual(tie.apMask, 19)
        XCTAssertEqual(tie.ap50Mask, 32)
        XCTAssertEqual(tie.officialAPBox, 20)
        XCTAssertEqual(tie.officialAP50Box, 34)
        XCTAssertEqual(tie.officialAPMask, 18.5)
        XCTAssertEqual(tie.officialAP50Mask, 31)
        let undefined = try XCTUnwrap(DetectionScores(metrics: DetectionFixture.metrics("base", seed: 2)))
        XCTAssertEqual(undefined.boxEpoch, 3)
        XCTAssertEqual(undefined.apBox, 22)
        XCTAssertEqual(undefined.maskEpoch, 3)
        XCTAssertEqual(undefined.apMask, 17)
        XCTAssertNil(DetectionScores(metrics: ["val_bbox_ap": [-1, .nan]]))
        let boxOnly = try XCTUnwrap(DetectionScores(metrics: ["val_bbox_ap": [3, 4], "val_segm_ap": [-1, -1]]))
        XCTAssertEqual(boxOnly.apBox, 4)
        XCTAssertNil(boxOnly.maskEpoch)
        XCTAssertNil(boxOnly.apMask)
    }

    private func writeReport(readme: Bool = true) throws -> (folder: URL, markdown: String, readme: String?) {
        let suites = try DetectionFixture.suites(), out = try makeTempFolder("det-runs")
        try DetectionFixture.writeRuns(suites: suites, out: out)
        let md = out.appendingPathComponent("Reports/det-t.md")
        let readmeURL = out.appendingPathComponent("README.md")
        try Data("# R\n<!-- rkan-repro:det -->\nold\n<!-- /rkan-repro:det -->\n".utf8).write(to: readmeURL)
        let written = try ReportGenerator.write(ReportRequest(suite: "det", profile: "t", suitesFolder: suites, runsFolder: out, out: md,
                                                              readme: readme ? readmeURL : nil, date: "2026-12-07",
                                                              command: "rkan-repro report det --profile t"))
        XCTAssertEqual(written.map(\.lastPathComponent), ["det-t.md", "det-t-curves.svg", "det-t-mask-curves.svg", "det-t-deltas.svg"]
                       + (readme ? ["README.md"] : []))
        return (md.deletingLastPathComponent(), try String(contentsOf: md, encoding: .utf8),
                readme ? try String(contentsOf: readmeURL, encoding: .utf8) : nil)
    }

    func testReportRowsDeltasOfficialAndSpeedMatchHandValues() throws {
        let (_, markdown, _) = try writeReport(readme: false)
        let lines = lines(markdown)
        // RKAN AP box [22, 23, 25], baseline [20, 21, 22]: Δ per seed 2, 2, 3 → mean 2.333,
        // s = 0.57735, t(0.975, 2) = 4.302653 → half width 4.302653 · 0.57735 / √3 = 1.43422 →
        // [+0.90, +3.77]. AP mask [20, 21, 18.5] vs [18, 19, 17]: Δ 2, 2, 1.5 → 1.833, half width
        // 4.302653 · 0.288675 / √3 = 0.71711 → [+1.12, +2.55]. Published Δ: 36.13 − 35.59, 32.29 − 31.94.
        XCTAssertTrue(lines.contains(
            "| `rkan` | `maskrcnn(resnet18+rkan)` | 23.33 ± 1.53 (n=3) | 36.13 | 39.33 ± 1.53 (n=3) | 54.30 | 19.83 ± 1.26 (n=3) | 32.29 "
            + "| 33.67 ± 1.53 (n=3) | 51.38 | +2.33 [+0.90, +3.77] (n=3) | +0.54 | no | +1.83 [+1.12, +2.55] (n=3) | +0.35 | no | 3/3 finished |"),
            markdown)
        XCTAssertTrue(lines.contains(
            "| `base` | `maskrcnn(resnet18)` | 21.00 ± 1.00 (n=3) | 35.59 | 36.00 ± 1.00 (n=3) | 53.58 | 18.00 ± 1.00 (n=3) | 31.94 "
            + "| 30.67 ± 1.53 (n=3) | 50.79 | – | – | – | – | – | – | 3/3 finished |"), markdown)
        // Official = notebook − 1 (box) and − 0.5 (mask) at the notebook's epochs; 90 at epoch 1 is never read.
        XCTAssertTrue(lines.contains(
            "| `rkan` | 22.33 ± 1.53 (n=3) | 37.33 ± 1.53 (n=3) | 19.33 ± 1.26 (n=3) | 32.67 ± 1.53 (n=3) "
            + "| +2.33 [+0.90, +3.77] (n=3) | +1.83 [+1.12, +2.55] (n=3) | +1.00 [+1.00, +1.00] (n=3) | +0.50 [+0.50, +0.50] (n=3) |"),
            markdown)
        // FPS: median of each run's rounds (9.5, 11); ratio: median of the nine rounds 0.80…0.90;
        // published 97.2 / 118.2 = 0.822.
        // params: the whole detector at full width, declared as `run` builds it.
        func params(_ spec: String) throws -> String {
            ReportFormat.grouped(try DetectorBuild.make(ModelSpec(parsing: spec), size: 64, context: EngineContext()).store.parameterCount)
        }
        let rkanParams = try params("maskrcnn(resnet18+rkan)"), baseParams = try params("maskrcnn(resnet18)")
        XCTAssertNotEqual(rkanParams, baseParams)
        XCTAssertTrue(lines.contains("| model | params | FPS (batch 1, 3×64×64) | published FPS | FPS ratio vs baseline | published FPS ratio | train img/s |"),
                      markdown)
        XCTAssertTrue(lines.contains("| `rkan` | \(rkanParams) | 9.5 | 97.2 | 0.85 (0.80–0.90, 9 rounds) | 0.82 | 4.0 |"), markdown)
        XCTAssertTrue(lines.contains("| `base` | \(baseParams) | 11.0 | 118.2 | – | – | 5.0 |"), markdown)
        // Per run: chosen epochs (the tie at epoch 2), official values there, skipped batches summed.
        XCTAssertTrue(lines.contains("| `base` | 1 | finished | 3 | 2 | 21.00 | 36.00 | 2 | 19.00 | 32.00 | 20.00 | 18.50 | 1 | 11.0 |"), markdown)
        XCTAssertTrue(lines.contains("| `base` | 2 | finished | 3 | 3 | 22.00 | 37.00 | 3 | 17.00 | 29.00 | 21.00 | 16.50 | 1 | 11.0 |"), markdown)
        // The pair table, seed by seed.
        XCTAssertTrue(lines.contains("| 2 | 22.00 | 25.00 | +3.00 | 17.00 | 18.50 | +1.50 | finished / finished |"), markdown)
        for heading in ["## Results (notebook evaluation)", "## Official COCO evaluation", "## Speed", "### rkan vs base",
                        "![Validation mask AP per epoch (notebook evaluation)](det-t-mask-curves.svg)"] {
            XCTAssertTrue(lines.contains(heading), "missing \(heading)")
        }
        XCTAssertFalse(markdown.contains("top-1"), "a detection report prints no top-1")
        XCTAssertTrue(markdown.contains("Profile `t` trains every row at width ×0.125 (the spec column shows the suite's spec); "
                                        + "params are those of the suite's detector at full width (heads included)."), markdown)
    }

    func testReadmeBlockAndSVGs() throws {
        let (folder, markdown, readme) = try writeReport()
        let text = try XCTUnwrap(readme)
        XCTAssertTrue(text.hasPrefix("# R\n<!-- rkan-repro:det -->\n\n|  |  |\n"), text)
        XCTAssertFalse(text.contains("\nold\n"))
        XCTAssertTrue(text.contains(
            "| `rkan` | 23.33 (36.13) | 19.83 (32.29) | +2.33 [+0.90, +3.77] (n=3) (+0.54) | +1.83 [+1.12, +2.55] (n=3) (+0.35) | 0.85 (0.82) | 3/3 finished |"),
            text)
        XCTAssertTrue(text.contains("| `base` | 21.00 (35.59) | 18.00 (31.94) | – | – | – | 3/3 finished |"), text)
        XCTAssertTrue(text.contains("Full report: [Reports/det-t.md](Reports/det-t.md)"), text)
        XCTAssertTrue(markdown.contains("| `rkan` | `maskrcnn(resnet18+rkan)` | 23.33 ± 1.53 (n=3) |"), markdown)

        let box = try String(contentsOf: folder.appendingPathComponent("det-t-curves.svg"), encoding: .utf8)
        let mask = try String(contentsOf: folder.appendingPathComponent("det-t-mask-curves.svg"), encoding: .utf8)
        let deltas = try String(contentsOf: folder.appendingPathComponent("det-t-deltas.svg"), encoding: .utf8)
        XCTAssertTrue(box.contains("val_bbox_ap (%)") && box.contains("val_bbox_ap per epoch"), box)
        XCTAssertTrue(mask.contains("val_segm_ap (%)") && mask.contains("val_segm_ap per epoch"), mask)
        // Six runs of three epochs: six polylines each, the baseline's three dashed.
        for svg in [box, mask] {
            XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 6)
            XCTAssertEqual(svg.components(separatedBy: "stroke-dasharray").count - 1, 3 + 1, "three baseline lines and its legend sample")
        }
        // pycocotools' −1 (base seed 2, epoch 2) is not drawn: no polyline has a point below the
        // lowest AP, so every y coordinate lies on the plot (top 40, bottom 384).
        let ys = box.components(separatedBy: "points=\"").dropFirst().flatMap { $0.prefix { $0 != "\"" }.split(separator: " ") }
            .compactMap { Double($0.split(separator: ",")[1]) }
        XCTAssertEqual(ys.count, 17, "six runs of three epochs, one undefined")
        XCTAssertEqual(ys.max(), 384, "the lowest drawn AP (10) should sit on the axis")
        for label in ["rkan box", "rkan mask", "+2.33 (n=3)", "+1.83 (n=3)", "Δ AP (percentage points)"] {
            XCTAssertTrue(deltas.contains(label), "deltas SVG lacks \(label)")
        }
    }

    /// `check` on a detection suite: a recorded baseline passes, a run whose AP box or AP mask
    /// falls below the band fails on that check only.
    func testCheckGatesOnAPBoxAndAPMask() throws {
        let suites = try DetectionFixture.suites(), out = try makeTempFolder("det-check")
        try DetectionFixture.writeRuns(suites: suites, out: out)
        let baseline = out.appendingPathComponent("baselines/det-t.json")
        let recorded = try RegressionCheck.run(suite: "det", profile: "t", baseline: baseline, runs: out, suitesFolder: suites,
                                               junit: nil, update: true)
        XCTAssertTrue(recorded.passed)
        let json = try String(contentsOf: baseline, encoding: .utf8)
        XCTAssertTrue(json.contains("\"ap_box\"") && json.contains("\"ap_mask\""), json)
        XCTAssertFalse(json.contains("top1"), json)
        let decoded = try JSONDecoder().decode(RegressionCheck.Baseline.self, from: Data(json.utf8))
        XCTAssertEqual(decoded.rows["rkan"]?.apBox, [22, 23, 25])
        XCTAssertEqual(decoded.rows["base"]?.apMask, [18, 19, 17])
        XCTAssertEqual(decoded.rows["base"]?.inferImgPerSec, 11)

        let same = try RegressionCheck.run(suite: "det", profile: "t", baseline: baseline, runs: out, suitesFolder: suites,
                                           junit: nil, update: false)
        XCTAssertTrue(same.passed, same.summary)
        XCTAssertEqual(Set(same.findings.map(\.check)), ["params", "digest", "ap_box", "ap_mask"])

        // Band: RKAN AP box mean 23.33 − 3 · 1.53 = 18.75; 5 points lower (mean 18.33) fails.
        let worseBox = try makeTempFolder("det-check-box")
        try DetectionFixture.writeRuns(suites: suites, out: worseBox, boxShift: ["rkan": -5])
        let box = try RegressionCheck.run(suite: "det", profile: "t", baseline: baseline, runs: worseBox, suitesFolder: suites,
                                          junit: nil, update: false)
        XCTAssertFalse(box.passed)
        XCTAssertEqual(box.findings.filter { !$0.passed }.map { "\($0.row) \($0.check)" }, ["rkan ap_box"], box.summary)
        XCTAssertTrue(box.summary.contains("best AP box 18.33% vs band ≥ 18.75%"), box.summary)
        // Three points lower (mean 20.33) is inside the band.
        let slightly = try makeTempFolder("det-check-slight")
        try DetectionFixture.writeRuns(suites: suites, out: slightly, boxShift: ["rkan": -3])
        XCTAssertTrue(try RegressionCheck.run(suite: "det", profile: "t", baseline: baseline, runs: slightly, suitesFolder: suites,
                                              junit: nil, update: false).passed)
        // Mask: base AP mask mean 18 − 3 · 1 = 15; 4 points lower fails.
        let worseMask = try makeTempFolder("det-check-mask")
        try DetectionFixture.writeRuns(suites: suites, out: worseMask, maskShift: ["base": -4])
        let mask = try RegressionCheck.run(suite: "det", profile: "t", baseline: baseline, runs: worseMask, suitesFolder: suites,
                                           junit: nil, update: false)
        XCTAssertEqual(mask.findings.filter { !$0.passed }.map { "\($0.row) \($0.check)" }, ["base ap_mask"], mask.summary)
    }

    func testDetectionBaselineRowsAreValidated() throws {
        func baseline(_ row: RegressionCheck.Baseline.Row) -> RegressionCheck.Baseline {
            RegressionCheck.Baseline(suite: "det", profile: "t", blasCore: "Zen", threads: 1, convAlgorithm: nil, k: 3, minStd: 0.5,
                                     speedTolerance: 0.3, rows: ["base": row])
        }
        XCTAssertNoThrow(try RegressionCheck.validate(baseline(.init(params: 1, digests: [:], apBox: [30], apMask: [20])), path: "b.json"))
        for (row, says) in [(RegressionCheck.Baseline.Row(params: 1, digests: [:], apBox: [30]), "neither"),
                            (.init(params: 1, digests: [:], apBox: [130], apMask: [20]), "rows.base.ap_box"),
                            (.init(params: 1, digests: [:], apBox: [30], apMask: [.nan]), "rows.base.ap_mask"),
                            (.init(params: 1, digests: [:], apBox: [], apMask: [20]), "rows.base.ap_box")] {
            XCTAssertThrowsError(try RegressionCheck.validate(baseline(row), path: "b.json")) { e in
                XCTAssertTrue("\(e)".contains(says), "\(e)")
            }
        }
        // A classification run checked against a detection baseline row fails, it does not pass unchecked.
        let current = baseline(.init(params: 1, top1: [80], digests: ["seed-0": "a"]))
        let result = RegressionCheck.compare(current: current, baseline: baseline(.init(params: 1, digests: ["seed-0": "a"], apBox: [30], apMask: [20])))
        XCTAssertEqual(result.findings.filter { !$0.passed }.map(\.check), ["ap_box", "ap_mask"])
    }
}
