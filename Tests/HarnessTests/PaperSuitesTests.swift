import Foundation
import XCTest
import TestSupport
import Zoo
import Engine
@testable import Harness

/// The five paper suites (Suites/cifar100.yaml, tiny-imagenet, imagenet, food101, coco) against
/// the published tables in Reports/published/*.csv, and the CLI on them end to end.
///
/// Every backbone of the tables is in the Zoo, so every test checks every row.
final class PaperSuitesTests: XCTestCase {
    static let suitesFolder = packageRoot.appendingPathComponent("Suites", isDirectory: true)

    /// Input resolution of each table's protocol (the table titles; Food-101 from the notebook).
    static let resolutions = ["cifar100": 128, "tiny-imagenet": 160, "imagenet": 224, "food101": 160, "coco": 640]

    private func load(_ name: String) throws -> Suite {
        try SuiteLibrary.find(name, in: Self.suitesFolder)
    }

    private func classes(_ suite: Suite) -> Int { suite.dataset.name.classes }

    // MARK: - The files

    func testEveryPaperSuiteLoadsStrictlyWithCanonicalSpecs() throws {
        let present = SuiteLibrary.names(in: Self.suitesFolder)
        for (name, _) in PaperTable.files {
            XCTAssertTrue(present.contains(name), "Suites/\(name).yaml is missing")
            let suite = try load(name)
            XCTAssertEqual(suite.suite, name)
            XCTAssertEqual(suite.dataset.resolution, Self.resolutions[name], "\(name): protocol resolution")
            let yaml = try String(contentsOf: Self.suitesFolder.appendingPathComponent("\(name).yaml"), encoding: .utf8)
            XCTAssertTrue(suite.source.contains("withray/residualKAN"), "\(name): source should name the README")
            for profile in ["smoke", "nightly"] {
                XCTAssertNotNil(suite.profiles[profile], "\(name): profile \(profile) is missing")
            }
            for e in suite.experiments {
                // The canonical text is what reports and run files print: the suite should use it.
                XCTAssertTrue(yaml.contains("model: \(e.model)") || yaml.contains("model: \"\(e.model)\""),
                              "\(name)/\(e.id): the file's spec is not the canonical text \(e.model)")
            }
        }
    }

    /// Every paper suite names each row's notebook era, consistently with the README versions that
    /// print the row: a value first printed by R3 is R3-era, by R5 R5-era, by R6 or R7 R6-era.
    func testEveryRowNamesTheEraOfItsFirstREADME() throws {
        for (name, _) in PaperTable.files {
            let suite = try load(name)
            XCTAssertFalse(suite.eras.isEmpty, "\(name): no eras")
            XCTAssertEqual(suite.profiles["notebook"]?.follow, .notebook, "\(name): profile notebook should follow the notebook")
            for e in suite.experiments {
                let tags = try XCTUnwrap(e.paper?.readme, "\(name)/\(e.id): no README versions")
                XCTAssertEqual(tags, tags.sorted(), "\(name)/\(e.id): README versions out of order")
                let expected = ["R3": "r3", "R4": "r3", "R5": "r5", "R6": "r6", "R7": "r6"][tags[0]]
                XCTAssertEqual(e.era, expected, "\(name)/\(e.id): first printed by \(tags[0])")
                XCTAssertTrue(e.paper?.source?.contains(tags.last!) ?? false, "\(name)/\(e.id): source should name \(tags.last!)")
            }
        }
        // The CIFAR-100 rows whose values README R3–R5 already print (the others are R5 or R6 results).
        let cifar = try load("cifar100")
        XCTAssertEqual(cifar.experiments.filter { $0.era == "r3" }.map(\.id),
                       ["resnet101", "resnet152", "rkanet101", "resnext101", "regnety32gf", "rkanext101", "rkan_regnety32gf"])
        XCTAssertEqual(cifar.eras["r3"]?.code, EraCode(epochs: 100, weightDecay: 1e-4))
        XCTAssertEqual(try load("imagenet").experiments.filter { $0.era == "r3" }.map(\.id), ["rkan_densenet169", "densenet169"])
        XCTAssertTrue(try load("tiny-imagenet").experiments.allSatisfy { $0.era == "r3" })
    }

    /// The README versions a row claims are in the transcription: the table's own version column
    /// (ImageNet, COCO, Food-101), and for a version older than R6 a row of that version's table with the
    /// same top-1 (`*_readme_old.csv`).
    func testREADMEVersionsAgreeWithTheTranscription() throws {
        let folder = PaperTable.folder
        let old = ["cifar100": "cifar100_readme_old.csv", "tiny-imagenet": "tiny_imagenet_readme_old.csv",
                   "imagenet": "imagenet_readme_old.csv", "food101": "food101.csv"]
        for table in try PaperTable.all() {
            let suite = try load(table.suite)
            let older = try old[table.suite].map { try PaperTable(suite: table.suite, file: $0, folder: folder) }
            for (row, e) in zip(table.rows, suite.experiments) {
                let at = "\(table.suite)/\(e.id)"
                let tags = try XCTUnwrap(e.paper?.readme, "\(at): no README versions")
                for version in row["readme_versions"].map({ $0.split(separator: ",").map(String.init) }) ?? [] {
                    XCTAssertTrue(tags.contains(version), "\(at): the CSV lists \(version), the suite \(tags)")
                }
                for version in tags where version < "R6" {
                    let printed = older?.rows.contains { r in
                        Double(r["top1_acc"] ?? "") == e.paper?.top1
                            && (r["readme_versions"] ?? "").split(separator: ",").map(String.init).contains(version)
                    } ?? false
                    XCTAssertTrue(printed, "\(at): no \(version) row with top-1 \(e.paper?.top1 ?? 0) in \(old[table.suite] ?? "-")")
                }
            }
        }
    }

    func testRowsOrderAndPublishedValuesEqualTheCSV() throws {
        for table in try PaperTable.all() {
            let suite = try load(table.suite)
            XCTAssertEqual(suite.experiments.count, table.rows.count, "\(table.suite): one row per line of \(table.file)")
            for (i, (row, e)) in zip(table.rows, suite.experiments).enumerated() {
                let printed = row["model"] ?? "?"
                let at = "\(table.suite) row \(i) (\(printed), id \(e.id))"
                let expected = try XCTUnwrap(PaperNames.spec(printed: printed), "\(at): no spec for the printed name")
                // The detection table's rows are Mask R-CNN (its `detector` column) around the printed backbone.
                let detector = row["detector"] == "Mask R-CNN" ? "maskrcnn" : nil
                XCTAssertEqual(e.model.description, detector.map { "\($0)(\(expected.spec))" } ?? expected.spec, "\(at): model spec")
                XCTAssertEqual(e.role.rawValue, row["role"], "\(at): role")
                let paper = try XCTUnwrap(e.paper, "\(at): no paper values")
                if table.suite == "coco" {
                    XCTAssertNil(paper.top1, "\(at): COCO has AP, not top-1")
                    XCTAssertEqual(paper.imgPerSec, Double(row["fps"] ?? ""), "\(at): published FPS")
                    XCTAssertEqual(paper.apBox, Double(row["ap_bbox"] ?? ""), "\(at): AP box")
                    XCTAssertEqual(paper.ap50Box, Double(row["ap50_bbox"] ?? ""), "\(at): AP50 box")
                    XCTAssertEqual(paper.apMask, Double(row["ap_mask"] ?? ""), "\(at): AP mask")
                    XCTAssertEqual(paper.ap50Mask, Double(row["ap50_mask"] ?? ""), "\(at): AP50 mask")
                } else {
                    XCTAssertEqual(paper.top1, Double(row["top1_acc"] ?? ""), "\(at): top-1")
                    XCTAssertEqual(paper.imgPerSec, row["throughput_img_s"].flatMap(Double.init), "\(at): img/s")
                }
                XCTAssertEqual(paper.paramsM, row["params_M"].flatMap(Double.init), "\(at): params M")
                let source = paper.source ?? ""
                // Paired and CIFAR tables name their versions in `source`; the others in a column.
                let versions = row["readme_versions"].map { $0.split(separator: ",").map(String.init) } ?? ["R6", "R7"]
                for version in versions {
                    XCTAssertTrue(source.contains(version), "\(at): source should name README \(version): \(source)")
                }
                if versions.contains("R7") {
                    XCTAssertTrue(source.contains("22e50367"), "\(at): source should name R7's commit: \(source)")
                }
            }
        }
    }

    func testEveryRKANRowHasTheBaselineThePaperPairsItWith() throws {
        for table in try PaperTable.all() {
            let suite = try load(table.suite)
            guard suite.experiments.count == table.rows.count else { continue }  // reported by the test above
            for (row, e) in zip(table.rows, suite.experiments) {
                let at = "\(table.suite)/\(e.id)"
                let spec = e.model
                guard e.role == .rkan else {
                    XCTAssertNil(e.baseline, "\(at): a baseline row names a baseline")
                    XCTAssertNil(spec.rkan, "\(at): a baseline row has RKAN blocks")
                    continue
                }
                XCTAssertNotNil(spec.rkan, "\(at): an rkan row without RKAN blocks")
                let baselineID = try XCTUnwrap(e.baseline, "\(at): no baseline")
                let index = try XCTUnwrap(suite.experiments.firstIndex { $0.id == baselineID }, "\(at): baseline \(baselineID) absent")
                let baseline = suite.experiments[index]
                let baseSpec = baseline.model
                XCTAssertEqual(baseline.role, .baseline, "\(at): baseline \(baselineID) is not a baseline row")
                XCTAssertNil(baseSpec.rkan, "\(at): baseline \(baselineID) has RKAN blocks")
                XCTAssertEqual(baseSpec.backbone, spec.backbone, "\(at): baseline \(baselineID) has another backbone")
                XCTAssertEqual(baseSpec.stem, spec.stem, "\(at): stems differ")
                XCTAssertEqual(baseSpec.width, spec.width, "\(at): widths differ")
                // The row the CSV pairs it with: `paired_with` (paired tables) or `backbone_inferred`.
                let partner = try XCTUnwrap(row["paired_with"] ?? row["backbone_inferred"], "\(at): the CSV names no partner")
                XCTAssertEqual(table.rows[index]["model"]?.replacingOccurrences(of: "*", with: ""), partner,
                               "\(at): baseline \(baselineID) is not the CSV's \(partner)")
                if let pair = row["pair_id"] {
                    XCTAssertEqual(table.rows[index]["pair_id"], pair, "\(at): baseline from another pair")
                }
            }
        }
    }

    // MARK: - Protocols and profiles

    func testPaperProfileIsThePublishedProtocol() throws {
        let augment = AugmentConfig(hflip: true, randaugment: .init(n: 2, m: 9), cutmix: .init(p: 0.5, alpha: 1.0),
                                    mixup: .init(p: 0.3, alpha: 0.2))
        for name in ["cifar100", "tiny-imagenet", "imagenet", "food101"] {
            let suite = try load(name)
            let runs = try suite.runs(profile: "paper")
            let t = runs[0].training
            let imagenet = name == "imagenet"
            XCTAssertEqual(t.epochs, imagenet ? 100 : 200, "\(name): epochs (README)")
            XCTAssertEqual(t.optimizer.weightDecay, imagenet ? 1e-4 : 5e-4, "\(name): weight decay")
            XCTAssertEqual(t.batchSize, 128, name)
            XCTAssertEqual(t.optimizer.name, .sgd, name)
            XCTAssertEqual(t.optimizer.lr, 0.05, name)
            XCTAssertEqual(t.optimizer.momentum, 0.9, name)
            XCTAssertTrue(t.optimizer.nesterov, name)
            XCTAssertEqual(t.schedule, ScheduleConfig(name: .warmupCosine, warmupEpochs: 10, minLr: 1e-5), name)
            XCTAssertEqual(t.labelSmoothing, 0, "\(name): plain cross-entropy, as the table-era notebooks")
            XCTAssertEqual(t.augment, augment, name)
            for run in runs {
                XCTAssertEqual(run.training, t, name)
                XCTAssertEqual(run.model, suite.experiment(run.experiment)?.model, "\(name): width 1")
                XCTAssertNil(run.trainSubset, name)
                XCTAssertNil(run.testSubset, name)
                XCTAssertEqual(run.imageSize, Self.resolutions[name], name)
            }
        }
        let coco = try load("coco").runs(profile: "paper")[0].training
        XCTAssertEqual(coco.epochs, 12)
        XCTAssertEqual(coco.batchSize, 8)
        XCTAssertEqual(coco.optimizer.lr, 0.01)
        XCTAssertEqual(coco.optimizer.weightDecay, 1e-4)
        XCTAssertTrue(coco.optimizer.nesterov)
        XCTAssertEqual(coco.schedule, ScheduleConfig(name: .multistep, warmupEpochs: 0, minLr: 0, milestones: [8, 11], gamma: 0.1))
    }

    func testScaledProfilesKeepEveryRowAndBuildAtTheirWidth() throws {
        for (name, _) in PaperTable.files {
            let suite = try load(name)
            let n = classes(suite)
            for profile in ["smoke", "nightly"] {
                let runs = try suite.runs(profile: profile)
                let width = try XCTUnwrap(suite.profiles[profile]?.width, "\(name)/\(profile): width")
                XCTAssertEqual(runs.map(\.experiment), suite.experiments.flatMap { e in runs.seeds.map { _ in e.id } },
                               "\(name)/\(profile): every row, in order")
                XCTAssertLessThan(width, 1, "\(name)/\(profile): width")
                for run in runs {
                    XCTAssertLessThanOrEqual(run.training.epochs, profile == "smoke" ? 1 : 3, "\(name)/\(profile): epochs")
                    XCTAssertLessThanOrEqual(run.training.schedule.warmupEpochs, run.training.epochs)
                    let subset = try XCTUnwrap(run.trainSubset, "\(name)/\(profile): train_subset")
                    XCTAssertNotNil(run.testSubset, "\(name)/\(profile): test_subset")
                    XCTAssertLessThanOrEqual(run.imageSize, 128, "\(name)/\(profile): resolution")
                    if !suite.dataset.name.isDetection {
                        XCTAssertGreaterThanOrEqual(subset, n, "\(name)/\(profile): the class-balanced subset should hold every class")
                    }
                    // The spec carries the profile's width: every row must build there (e.g. ResNeXt
                    // needs at least one channel per group).
                    XCTAssertEqual(run.model.width, (suite.experiment(run.experiment)?.model.width ?? 0) * width)
                    if run.model.detector != nil {
                        XCTAssertNoThrow(try DetectorBuild.make(run.model, size: run.imageSize, context: EngineContext()), "\(name)/\(profile)/\(run.experiment) at width \(width)")
                    } else {
                        XCTAssertNoThrow(try Model(spec: run.model, classes: n), "\(name)/\(profile)/\(run.experiment) at width \(width)")
                    }
                }
            }
        }
    }

    // MARK: - The CLI

    /// `rkan-repro models SUITE --json` reproduces every published parameter count it can build.
    /// - Parameters:
    ///   - name: The suite.
    ///   - size: Input side for the MACs (nil: the suite's resolution). Parameter counts do not
    ///     depend on it; a small side keeps the debug build's counting pass short.
    private func checkModelsCommand(_ name: String, size: Int? = nil) throws {
        let suite = try load(name)
        let sizeArgs = size.map { ["--size", String($0)] } ?? []
        let result = try RkanBinary.run(["models", name, "--json"] + sizeArgs)
        XCTAssertEqual(result.code, 0, "models \(name): every count should match\n\(result.stdout)\(result.stderr)")
        let rows = try decodeRows(result.stdout)
        let built = suite.experiments
        XCTAssertEqual(rows.map(\.id), built.map(\.id), "models \(name): one line per row, in suite order")
        var compared = 0
        for (row, e) in zip(rows, built) {
            XCTAssertEqual(row.classes, classes(suite), "\(name)/\(e.id): classes")
            guard let published = e.paper?.paramsM else { continue }
            let millions = (Double(row.paramsThop) / 1e4).rounded() / 100
            XCTAssertEqual(millions, published, accuracy: 1e-9, "\(name)/\(e.id): \(row.paramsThop) parameters (thop) vs published \(published)M")
            XCTAssertLessThanOrEqual(row.paramsThop, row.params, "\(name)/\(e.id): thop counts a subset")
            compared += 1
        }
        XCTAssertGreaterThan(compared, 0, "models \(name): no published count compared")
    }

    private func decodeRows(_ stdout: String) throws -> [ModelsTable.Row] {
        try stdout.split(separator: "\n").filter { $0.hasPrefix("{") }.map {
            try JSONDecoder().decode(ModelsTable.Row.self, from: Data($0.utf8))
        }
    }

    func testModelsCommandReproducesCIFAR100ParameterCounts() throws {
        try checkModelsCommand("cifar100")
    }

    func testModelsCommandReproducesImageNetParameterCounts() throws {
        try checkModelsCommand("imagenet", size: 32)
    }

    func testModelsCOCOCountsTheDetectorsAndRunWithoutDataSaysWhatToGive() throws {
        let out = try RkanBinary.tempFolder("coco-paper")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try RkanBinary.run(["run", "coco", "--profile", "paper", "--runs", out.path])
        XCTAssertEqual(run.code, 1)
        XCTAssertTrue(run.stderr.contains("give --data DIR") && run.stderr.contains("instances_{train,val}2017.json"),
                      "run coco without data should name the COCO layout: \(run.stderr)")
        let suite = try load("coco")
        let models = try RkanBinary.run(["models", "coco", "--json", "--size", "64"])
        XCTAssertEqual(models.code, 0, models.stderr)
        let rows = try decodeRows(models.stdout)
        XCTAssertEqual(rows.map(\.id), suite.experiments.map(\.id))
        XCTAssertTrue(rows.allSatisfy { $0.params > 0 && $0.classes == 81 })
        // torchvision's MaskRCNN(BackboneWithFPN(resnet50 with BatchNorm2d), 81 classes, 15 anchors) counts 44,416,113.
        XCTAssertEqual(rows.first { $0.id == "resnet50" }?.params, 44_416_113)
    }

    func testRunWithoutDataNamesTheExpectedFilesAndWhereToGetThem() throws {
        let empty = try RkanBinary.tempFolder("empty-data")
        defer { try? FileManager.default.removeItem(at: empty) }
        let r = try RkanBinary.run(["run", "cifar100", "--profile", "smoke", "--data", empty.path,
                                    "--out", empty.appendingPathComponent("runs").path])
        XCTAssertEqual(r.code, 1, r.stderr)
        for needed in ["cifar-100-binary/train.bin", "cifar-100-binary/test.bin", "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", empty.path] {
            XCTAssertTrue(r.stderr.contains(needed), "the error should name \(needed): \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: empty.appendingPathComponent("runs/cifar100").path),
                       "no run files without data")
    }

    /// Smoke-trains every row of the table on a generated CIFAR-100 folder, then checks the report's
    /// table against the suite: every row in order, published values printed, trained rows finished.
    func testSmokeRunAndReportOnAGeneratedCIFAR100Folder() throws {
        let suite = try load("cifar100")
        let trained = suite.experiments.map(\.id)

        let work = try RkanBinary.tempFolder("cifar100-smoke")
        defer { try? FileManager.default.removeItem(at: work) }
        let data = work.appendingPathComponent("data"), runs = work.appendingPathComponent("runs")
        try CIFAR100Fixture.write(root: data, train: 500, test: 200)
        let start = Date()
        let run = try RkanBinary.run(["run", "cifar100", "--profile", "smoke", "--data", data.path, "--out", runs.path,
                                      "--only", trained.joined(separator: ","), "--threads", "2"])
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(run.code, 0, run.stderr)
        print(String(format: "PaperSuitesTests: smoke run of %d cifar100 rows took %.1f s", trained.count, seconds))
        XCTAssertTrue(run.stderr.contains("256 training / 100 test images at 32×32"), run.stderr)

        let reported = suite
        let suitesFolder = Self.suitesFolder
        let markdown = work.appendingPathComponent("report/cifar100.md")
        let report = try RkanBinary.run(["report", "cifar100", "--profile", "smoke", "--suites", suitesFolder.path,
                                         "--runs", runs.path, "--out", markdown.path, "--date", "2000-01-01"])
        XCTAssertEqual(report.code, 0, report.stderr)
        let text = try String(contentsOf: markdown, encoding: .utf8)
        let table = resultRows(text)
        XCTAssertEqual(table.map { $0.first ?? "" }, reported.experiments.map { "`\($0.id)`" }, "report rows = suite rows, in order")
        for (cells, e) in zip(table, reported.experiments) {
            guard cells.count == ReportBuilder.columns.count else { XCTFail("\(e.id): \(cells)"); continue }
            let column = { (name: String) in cells[ReportBuilder.columns.firstIndex(of: name)!] }
            XCTAssertEqual(column("spec"), "`\(e.model)`", e.id)
            XCTAssertEqual(column("published M"), e.paper?.paramsM.map { String(format: "%.2f", $0) } ?? "–", e.id)
            XCTAssertEqual(column("published top-1 %"), e.paper?.top1.map { String(format: "%.2f", $0) } ?? "–", e.id)
            if let base = e.baseline.flatMap(suite.experiment), let a = e.paper?.top1, let b = base.paper?.top1 {
                XCTAssertEqual(column("published Δ"), String(format: "%+.2f", a - b), "\(e.id): published Δ")
            }
            XCTAssertEqual(column("runs"), "1/1 finished", e.id)
            XCTAssertEqual(column("match"), "✓", "\(e.id): the report's parameter count should equal the published one")
            XCTAssertNotEqual(column("top-1 best %"), "–", e.id)
            XCTAssertNotEqual(column("infer img/s"), "–", e.id)
        }
    }

    /// Cells of the rows of the report's "## Results" table (header and separator dropped).
    private func resultRows(_ markdown: String) -> [[String]] {
        let lines = markdown.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "## Results") else { return [] }
        return lines[(start + 1)...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }.dropFirst(2).map { line in
            line.dropFirst(2).dropLast(2).components(separatedBy: " | ")
        }
    }
}
