import Foundation
import XCTest
import TestSupport
import Zoo
import RunStore
@testable import Harness

/// Synthetic runs of the demo suite with hand-computed expectations.
enum SyntheticRuns {
    static let header = ReportHeader(machine: "test-host", cpu: "Zen 3 (2 cores)", blasCore: "Zen", threads: 2,
                                     commit: "abc1234", profile: "nightly", seeds: [0, 1, 2], date: "2025-01-02",
                                     command: "rkan-repro report demo --profile nightly")

    static func run(_ id: String, seed: Int, status: RunStatus? = .finished, top1: [Double],
                    train: Double? = nil, infer: Double? = nil, profile: String = "nightly") -> RunSummary {
        let rkan = id == "rkanet101"
        return RunSummary(suite: "demo", experiment: id, model: ModelSpec(backbone: .resnet101, rkan: rkan ? RKANOptions() : nil),
                          role: rkan ? .rkan : .baseline, baseline: rkan ? "resnet101" : nil, seed: seed,
                          profile: profile, status: status, params: rkan ? 44_283_090 : 42_705_060,
                          paramsThop: rkan ? 44_283_000 : 42_705_060, macs: 1_000,
                          metrics: ["val_top1": top1], trainImgPerSec: train, inferImgPerSec: infer)
    }

    /// Baseline best [84.0, 84.5, 83.5], final [83.5, 84.0, 83.0]; RKAN seeds 0 and 1 finished
    /// (best 85.0, 86.0; final 84.5, 85.5), seed 2 diverged.
    static let runs: [RunSummary] = [
        run("resnet101", seed: 0, top1: [50, 84.0, 83.5], train: 30, infer: 100),
        run("resnet101", seed: 1, top1: [52, 84.5, 84.0], train: 30, infer: 110),
        run("resnet101", seed: 2, top1: [51, 83.5, 83.0], train: 30, infer: 120),
        run("rkanet101", seed: 0, top1: [55, 85.0, 84.5], train: 25, infer: 90),
        run("rkanet101", seed: 1, top1: [56, 86.0, 85.5], train: 25, infer: 94),
        run("rkanet101", seed: 2, status: .diverged, top1: [10, .nan]),
    ]
}

final class ReportBuilderTests: XCTestCase {
    private func markdown(_ runs: [RunSummary] = SyntheticRuns.runs, header: ReportHeader = SyntheticRuns.header) throws -> String {
        let suite = try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml")
        return ReportBuilder.report(suite: suite, header: header, runs: runs,
                                    plots: [ReportPlot(title: "Learning curves", path: "demo/curves.svg"),
                                            ReportPlot(title: "Deltas", path: "demo/deltas.svg")]).markdown
    }

    func testResultRowsMatchHandValues() throws {
        let lines = try markdown().components(separatedBy: "\n")
        // Δ best per seed: +1.00, +1.50 → mean 1.25, s = 0.353553, t(0.975, 1) = 12.7062:
        // half width 12.7062 · 0.353553 / √2 = 3.17655 → [-1.93, +4.43]; published 85.12 − 84.00 = +1.12.
        XCTAssertTrue(lines.contains(
            "| `resnet101` | `resnet101` | 42,705,060 | 42.71 | 42.71 | ✓ | 84.00 ± 0.50 (n=3) | 83.50 ± 0.50 (n=3) | 84.00 "
            + "| – | – | – | 30.0 | 110.0 | – | – | 3/3 finished |"), lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains(
            "| `rkanet101` | `resnet101+rkan` | 44,283,090 | 44.28 | 44.28 | ✓ | 85.50 ± 0.71 (n=2) | 85.00 ± 0.71 (n=2) | 85.12 "
            + "| +1.25 [-1.93, +4.43] (n=2) | +1.12 | yes | 25.0 | 92.0 | 0.84 (not alternated) | 0.83 | 2/3 finished, ⚠ 1 diverged (seed 2) |"),
            lines.joined(separator: "\n"))
        let header = lines.first { $0.hasPrefix("| model |") }
        XCTAssertEqual(header?.components(separatedBy: " | ").count, ReportBuilder.columns.count)
    }

    /// With alternated rounds in the RKAN runs, the ratio is their median over all rounds and seeds
    /// (not the quotient of img/s measured at other times), with the lowest and highest round.
    func testSpeedRatioUsesAlternatedRounds() throws {
        var runs = SyntheticRuns.runs
        runs[3].inferRatioVsBaseline = [0.90, 0.95, 0.93]
        runs[4].inferRatioVsBaseline = [0.97, 0.80, 0.96]
        let text = try markdown(runs)
        // Sorted: 0.80 0.90 0.93 0.95 0.96 0.97 → median (0.93 + 0.95) / 2 = 0.94.
        XCTAssertTrue(text.contains("| 25.0 | 92.0 | 0.94 (0.80–0.97, 6 rounds) | 0.83 |"), text)
    }

    func testPerSeedPairTable() throws {
        let text = try markdown()
        XCTAssertTrue(text.contains("### rkanet101 vs resnet101"))
        let lines = text.components(separatedBy: "\n")
        XCTAssertTrue(lines.contains("| 0 | 84.00 | 85.00 | +1.00 | 83.50 | 84.50 | +1.00 | finished / finished |"), text)
        XCTAssertTrue(lines.contains("| 1 | 84.50 | 86.00 | +1.50 | 84.00 | 85.50 | +1.50 | finished / finished |"), text)
        XCTAssertTrue(lines.contains("| 2 | 83.50 | – | – | 83.00 | – | – | ⚠ finished / diverged |"), text)
        XCTAssertTrue(lines.contains("| mean | 84.00 ± 0.50 (n=3) | 85.50 ± 0.71 (n=2) | +1.25 [-1.93, +4.43] (n=2) "
                                     + "| 83.50 ± 0.50 (n=3) | 85.00 ± 0.71 (n=2) | +1.25 [-1.93, +4.43] (n=2) |  |"), text)
    }

    func testHeaderAndPlotLinks() throws {
        let text = try markdown()
        XCTAssertTrue(text.hasPrefix("# Demo (32×32)\n"))
        for row in ["| profile | `nightly` |", "| seeds | 0, 1, 2 |", "| commit | `abc1234` |", "| date | 2025-01-02 |",
                    "| BLAS core | Zen |", "| threads | 2 |", "| command | `rkan-repro report demo --profile nightly` |"] {
            XCTAssertTrue(text.contains(row + "\n"), "missing header row \(row)")
        }
        XCTAssertTrue(text.hasSuffix("![Learning curves](demo/curves.svg)\n![Deltas](demo/deltas.svg)\n"))
    }

    func testMissingSeedsAndForeignRunsAreFlaggedNotDropped() throws {
        var runs = SyntheticRuns.runs.filter { !($0.experiment == "resnet101" && $0.seed == 2) }
        runs.append(SyntheticRuns.run("resnet101", seed: 0, top1: [99], profile: "smoke"))
        runs.append(SyntheticRuns.run("resnet101", seed: 1, status: .running, top1: [1]))
        let text = try markdown(runs)
        XCTAssertTrue(text.contains("| 2/3 finished, ⚠ 1 missing (seed 2) |"), text)
        XCTAssertTrue(text.contains("- `demo/smoke/resnet101/seed-0` (finished)"), text)
        XCTAssertTrue(text.contains("- `demo/nightly/resnet101/seed-1` (running)"), "duplicate seed listed: \(text)")
        XCTAssertTrue(text.contains("| 2 | – | – | – | – | – | – | ⚠ missing / diverged |"), text)
        // Two baseline seeds left: best [84.0, 84.5] → 84.25 ± 0.35.
        XCTAssertTrue(text.contains("| 84.25 ± 0.35 (n=2) |"), text)
    }

    func testSingleSeedPrintsNoInterval() throws {
        let runs = SyntheticRuns.runs.filter { $0.seed == 0 }
        var header = SyntheticRuns.header
        header.seeds = [0]
        let text = try markdown(runs, header: header)
        XCTAssertTrue(text.contains("| 85.12 | +1.00 [n/a] (n=1) | +1.12 | n/a |"), text)
        XCTAssertFalse(text.contains("± 0.00"), "one seed has no spread")
    }

    func testOutputIsDeterministicAndOrderIndependent() throws {
        let a = try markdown()
        XCTAssertEqual(a, try markdown())
        XCTAssertEqual(a, try markdown(SyntheticRuns.runs.reversed()))
    }

    func testPublishedValuesAbsentShowDashes() throws {
        let suite = try SuiteLibrary.find("fashion-mnist", in: packageRoot.appendingPathComponent("Suites"))
        var header = SyntheticRuns.header
        header.profile = "smoke"
        header.seeds = [0]
        let runs = [RunSummary(suite: "fashion-mnist", experiment: "resnet18", model: ModelSpec(backbone: .resnet18, stem: .small), role: .baseline,
                               seed: 0, profile: "smoke", status: .finished, params: 11_168_832, metrics: ["val_top1": [70.5]])]
        let text = ReportBuilder.report(suite: suite, header: header, runs: runs, plots: []).markdown
        XCTAssertTrue(text.contains("| `resnet18` | `resnet18(stem=small)` | 11,168,832 | 11.17 | – | – | 70.50 (n=1) | 70.50 (n=1) | – |"), text)
        XCTAssertTrue(text.contains("| 0/1 finished, ⚠ 1 missing (seed 0) |"), text)
        XCTAssertFalse(text.contains("## Plots"))
    }

    /// Notes given to the builder stand above the results; the summary table is the header table
    /// of the markdown, handed back as lines (the README block), not cut out of the text.
    func testNotesAndSummaryTableAreOutputsOfTheBuild() throws {
        let suite = try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml")
        let report = ReportBuilder.report(suite: suite, header: SyntheticRuns.header, runs: SyntheticRuns.runs, plots: [],
                                          notes: ["Profile `nightly` trains at width ×0.5."])
        XCTAssertTrue(report.markdown.contains("Published values: test fixture\n\nProfile `nightly` trains at width ×0.5.\n\n## Results\n"),
                      report.markdown)
        XCTAssertEqual(report.summaryTable.first, "|  |  |")
        XCTAssertEqual(report.summaryTable.count, 12, "header, separator and ten rows")
        XCTAssertTrue(report.summaryTable.contains("| profile | `nightly` |"), "\(report.summaryTable)")
        XCTAssertTrue(report.markdown.contains(report.summaryTable.joined(separator: "\n")))
        let plain = ReportBuilder.report(suite: suite, header: SyntheticRuns.header, runs: SyntheticRuns.runs, plots: [])
        XCTAssertTrue(plain.markdown.contains("Published values: test fixture\n\n## Results\n"), plain.markdown)
    }
}
