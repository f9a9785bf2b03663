import Foundation
import XCTest
import Zoo
@testable import Harness

/// `eras:` (each row's notebook era), `era:` per row, `paper.readme`, `follow:` per profile, and the
/// report's per-row provenance table.
final class SuiteEraTests: XCTestCase {
    /// The demo suite with two eras: the baseline is R3-era (its notebook hard-codes weight decay 1e-4
    /// and 100 epochs), the RKAN row R6-era (100 epochs only).
    static let erasYAML = demo(replacing: "profiles:\n", with: """
        eras:
          r3:
            notebook: "c6a179c:training.ipynb"
            evidence: printed unchanged since README R3
            code: {epochs: 100, weight_decay: 1.0e-4}
          r6:
            notebook: "22e50367:training.ipynb"
            evidence: first printed by README R6
            code: {epochs: 100}
        profiles:
          notebook: {follow: notebook}
          small: {epochs: 20, warmup_epochs: 1, follow: notebook}

        """)
        .replacingOccurrences(of: "paper: {top1: 84.00, img_s: 2222, params_m: 42.71}}",
                              with: "era: r3, paper: {top1: 84.00, img_s: 2222, params_m: 42.71, readme: [R3, R4, R5, R6, R7]}}")
        .replacingOccurrences(of: "    baseline: resnet101\n    paper: {top1: 85.12, img_s: 1852, params_m: 44.28}",
                              with: "    baseline: resnet101\n    era: r6\n    paper: {top1: 85.12, img_s: 1852, params_m: 44.28, readme: [R6, R7]}")

    func suite() throws -> Suite { try Suite.decode(yaml: SuiteEraTests.erasYAML, file: "Suites/demo.yaml") }

    func testDecodesErasRowsAndFollow() throws {
        let s = try suite()
        XCTAssertEqual(s.eras["r3"], SuiteEra(notebook: "c6a179c:training.ipynb", evidence: "printed unchanged since README R3",
                                              code: EraCode(epochs: 100, weightDecay: 1e-4)))
        XCTAssertEqual(s.eras["r6"]?.code, EraCode(epochs: 100))
        XCTAssertEqual(s.experiments.map(\.era), ["r3", "r6"])
        XCTAssertEqual(s.experiments[0].paper?.readme, ["R3", "R4", "R5", "R6", "R7"])
        XCTAssertEqual(s.profiles["notebook"]?.follow, .notebook)
        XCTAssertNil(try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml").profiles["smoke"]?.follow)
        // Codable round trip keeps eras, rows' eras and README tags.
        let json = try JSONEncoder().encode(s)
        var back = try JSONDecoder().decode(Suite.self, from: json)
        back.origin = s.origin
        XCTAssertEqual(back, s)
    }

    /// `paper` follows the README text for every row; `follow: notebook` applies each row's era code,
    /// under the profile's own overrides.
    func testProfilesChooseTheSource() throws {
        let s = try suite()
        func values(_ profile: String) throws -> [String: (Double, Int)] {
            Dictionary(uniqueKeysWithValues: try s.runs(profile: profile).map {
                ($0.experiment, ($0.training.optimizer.weightDecay, $0.training.epochs))
            })
        }
        let paper = try values("paper")
        XCTAssertTrue(paper["resnet101"]! == (5e-4, 200) && paper["rkanet101"]! == (5e-4, 200))
        let notebook = try values("notebook")
        XCTAssertTrue(notebook["resnet101"]! == (1e-4, 100), "\(notebook)")
        XCTAssertTrue(notebook["rkanet101"]! == (5e-4, 100), "\(notebook)")
        let small = try values("small")
        XCTAssertTrue(small["resnet101"]! == (1e-4, 20) && small["rkanet101"]! == (5e-4, 20), "profile epochs win: \(small)")
        XCTAssertEqual(try s.training(for: s.experiments[0], profile: "notebook").optimizer.weightDecay, 1e-4)
        // A suite without eras: `follow: notebook` changes nothing.
        let plain = try Suite.decode(yaml: demo(replacing: "  smoke: {", with: "  nb: {follow: notebook}\n  smoke: {"),
                                     file: "Suites/demo.yaml")
        XCTAssertEqual(try plain.runs(profile: "nb").map(\.training), try plain.runs(profile: "paper").map(\.training))
    }

    func testStrictDecoding() {
        let unknownEra = suiteError(SuiteEraTests.erasYAML.replacingOccurrences(of: "era: r6", with: "era: r9"))
        XCTAssertEqual(unknownEra?.kind, .badReference)
        XCTAssertEqual(unknownEra?.key, "experiments[1].era")
        XCTAssertTrue(unknownEra?.description.contains("r3, r6") ?? false, unknownEra?.description ?? "")

        let missing = suiteError(SuiteEraTests.erasYAML.replacingOccurrences(of: "    era: r6\n", with: ""))
        XCTAssertTrue(missing?.description.contains("names no era") ?? false, missing?.description ?? "")

        let undeclared = suiteError(demo(replacing: "    baseline: resnet101\n", with: "    baseline: resnet101\n    era: r3\n"))
        XCTAssertTrue(undeclared?.description.contains("declares no 'eras'") ?? false, undeclared?.description ?? "")

        let codeKey = suiteError(SuiteEraTests.erasYAML.replacingOccurrences(of: "code: {epochs: 100}", with: "code: {epoch: 100}"))
        XCTAssertEqual(codeKey?.kind, .unknownKey)
        XCTAssertEqual(codeKey?.key, "eras.r6.code.epoch")
        XCTAssertTrue(codeKey?.description.contains("epochs, weight_decay") ?? false, codeKey?.description ?? "")

        let noNotebook = suiteError(SuiteEraTests.erasYAML.replacingOccurrences(of: "    notebook: \"22e50367:training.ipynb\"\n", with: ""))
        XCTAssertEqual(noNotebook?.kind, .missingKey)

        let follow = suiteError(SuiteEraTests.erasYAML.replacingOccurrences(of: "{follow: notebook}", with: "{follow: code}"))
        XCTAssertEqual(follow?.key, "profiles.notebook.follow")
        XCTAssertTrue(follow?.description.contains("readme") ?? false, follow?.description ?? "")

        let tag = suiteError(SuiteEraTests.erasYAML.replacingOccurrences(of: "readme: [R6, R7]", with: "readme: [R6, r7]"))
        XCTAssertTrue(tag?.description.contains("'r7'") ?? false, tag?.description ?? "")

        let unused = suiteError(SuiteEraTests.erasYAML.replacingOccurrences(of: "    era: r6\n", with: "    era: r3\n"))
        XCTAssertTrue(unused?.description.contains("era 'r6' is declared but no experiment names it") ?? false,
                      unused?.description ?? "")
    }

    /// The report's provenance table: README versions, the era notebook, its protocol, what the
    /// profile ran and where they differ; then the eras' evidence. Suites without eras have none.
    func testReportShowsPerRowProvenance() throws {
        let s = try suite()
        let paper = ReportBuilder.provenanceTable(suite: s, profile: "paper")
        XCTAssertEqual(paper[0], "| model | README versions | published by (notebook) | notebook's protocol | rkan-repro ran (`paper`) | differs in |")
        XCTAssertEqual(paper[2], "| `resnet101` | R3, R4, R5, R6, R7 | `r3`: c6a179c:training.ipynb | weight decay 0.0001, 100 epochs "
                       + "| weight decay 0.0005, 200 epochs (README text) | weight decay, epochs |")
        XCTAssertEqual(paper[3], "| `rkanet101` | R6, R7 | `r6`: 22e50367:training.ipynb | weight decay 0.0005, 100 epochs "
                       + "| weight decay 0.0005, 200 epochs (README text) | epochs |")
        XCTAssertTrue(paper.contains("- `r3`: printed unchanged since README R3"))
        let notebook = ReportBuilder.provenanceTable(suite: s, profile: "notebook")
        XCTAssertEqual(notebook[2], "| `resnet101` | R3, R4, R5, R6, R7 | `r3`: c6a179c:training.ipynb | weight decay 0.0001, 100 epochs "
                       + "| weight decay 0.0001, 100 epochs (era notebook) | – |")

        let header = ReportHeader(machine: "m", cpu: "c", blasCore: "b", threads: 1, commit: "x", profile: "paper",
                                  seeds: [0], date: "d", command: "c")
        let withEras = ReportBuilder.report(suite: s, header: header, runs: [], plots: []).markdown
        XCTAssertTrue(withEras.contains("## Protocol per row"))
        let plain = ReportBuilder.report(suite: try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml"), header: header,
                                         runs: [], plots: []).markdown
        XCTAssertFalse(plain.contains("## Protocol per row"))
    }
}
