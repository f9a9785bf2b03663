import Foundation
import XCTest
import TestSupport

/// `report` (markdown, SVGs, README block) and `check` (nightly regression) end to end.
final class ReportAndCheckTests: XCTestCase {
    override func setUpWithError() throws {
        try Prerequisite.fashionMNIST()
    }

    func testReportAndReadmeBlockAreByteStable() throws {
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("rep")
        XCTAssertEqual(try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path]).code, 0)
        let readme = out.appendingPathComponent("README.md")
        let original = "# Title\r\nkept ✓ bytes\n<!-- rkan-repro:tiny -->\nold\n<!-- /rkan-repro:tiny -->\ntail without newline"
        try Data(original.utf8).write(to: readme)
        let md = out.appendingPathComponent("Reports/tiny-t.md")
        func report() throws -> (Data, Data, Data) {
            let r = try CLI.run(["report", "tiny", "--suites", suites.path, "--runs", out.path, "--out", md.path,
                                 "--readme", readme.path, "--date", "2026-01-01"])
            XCTAssertEqual(r.code, 0, r.stderr)
            return (try Data(contentsOf: md), try Data(contentsOf: readme),
                    try Data(contentsOf: out.appendingPathComponent("Reports/tiny-t-curves.svg")))
        }
        let first = try report(), second = try report()
        XCTAssertEqual(first.0, second.0, "markdown differs between two regenerations")
        XCTAssertEqual(first.1, second.1, "README differs between two regenerations")
        XCTAssertEqual(first.2, second.2, "SVG differs between two regenerations")
        let text = String(decoding: first.1, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("# Title\r\nkept ✓ bytes\n<!-- rkan-repro:tiny -->"))
        XCTAssertTrue(text.hasSuffix("<!-- /rkan-repro:tiny -->\ntail without newline"))
        XCTAssertFalse(text.contains("\nold\n"))
        let mdText = String(decoding: first.0, as: UTF8.self)
        XCTAssertTrue(mdText.contains("| `base` |") && mdText.contains("| `rkan` |"), mdText)
        XCTAssertTrue(mdText.contains("tiny-t-curves.svg") && mdText.contains("tiny-t-deltas.svg"))
        // The RKAN run timed itself alternated with its baseline: the ratio carries its rounds.
        let rkanRow = mdText.components(separatedBy: "\n").first { $0.hasPrefix("| `rkan` |") } ?? ""
        XCTAssertNotNil(rkanRow.range(of: #"\| [0-9.]+ \([0-9.]+–[0-9.]+, [0-9]+ rounds\) \|"#, options: .regularExpression), rkanRow)
    }

    /// Without --out, each profile gets its own report, Reports/SUITE-PROFILE.md (SUITE.md for
    /// `default`), and the plots are named after the report.
    func testDefaultReportPathIsPerProfile() throws {
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("rep-default")
        XCTAssertEqual(try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--runs", out.path]).code, 0)
        let cwd = try CLI.tempFolder("rep-cwd")
        let r = try CLI.run(["report", "tiny", "--profile", "t", "--suites", suites.path, "--runs", out.path], cwd: cwd)
        XCTAssertEqual(r.code, 0, r.stderr)
        for name in ["tiny-t.md", "tiny-t-curves.svg", "tiny-t-deltas.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: cwd.appendingPathComponent("Reports/\(name)").path), "\(name) missing: \(r.stdout)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: cwd.appendingPathComponent("Reports/tiny.md").path),
                       "the t profile's report must not take the default profile's file")
    }

    func testCheckPassesAgainstItsBaselineAndFailsWhenTheModelChanges() throws {
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("chk")
        let baseline = out.appendingPathComponent("baseline.json"), junit = out.appendingPathComponent("junit.xml")
        XCTAssertEqual(try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path]).code, 0)
        let common = ["check", "tiny", "--profile", "t", "--suites", suites.path, "--runs", out.path, "--baseline", baseline.path]
        let missing = try CLI.run(common)
        XCTAssertEqual(missing.code, 1)
        XCTAssertTrue(missing.stderr.contains("--update-baseline"), missing.stderr)
        XCTAssertEqual(try CLI.run(common + ["--update-baseline"]).code, 0)
        let pass = try CLI.run(common + ["--junit", junit.path])
        XCTAssertEqual(pass.code, 0, pass.stdout + pass.stderr)
        XCTAssertTrue(pass.stdout.contains("check passed"), pass.stdout)
        XCTAssertTrue(try String(contentsOf: junit, encoding: .utf8).contains("failures=\"0\""))
        // Without --profile, the baseline's own profile is checked; a profile that is not the
        // baseline's is refused; a new baseline needs the profile named.
        let implicit = try CLI.run(["check", "tiny", "--suites", suites.path, "--runs", out.path, "--baseline", baseline.path])
        XCTAssertEqual(implicit.code, 0, implicit.stdout + implicit.stderr)
        XCTAssertTrue(implicit.stdout.contains("check passed"), implicit.stdout)
        let fresh = try CLI.run(["check", "tiny", "--suites", suites.path, "--runs", out.path,
                                 "--baseline", out.appendingPathComponent("new.json").path, "--update-baseline"])
        XCTAssertEqual(fresh.code, 64, fresh.stderr)
        XCTAssertTrue(fresh.stderr.contains("--profile is needed"), fresh.stderr)

        // The same suite with a changed RKAN model: other parameter count and other weights.
        let changed = try CLI.tinySuites()
        let file = changed.appendingPathComponent("tiny.yaml")
        try (try String(contentsOf: file, encoding: .utf8)).replacingOccurrences(of: "+rkan\"", with: "+rkan(reduce=4)\"")
            .write(to: file, atomically: true, encoding: .utf8)
        let out2 = try CLI.tempFolder("chk2")
        XCTAssertEqual(try CLI.run(["run", "tiny", "--profile", "t", "--suites", changed.path, "--out", out2.path]).code, 0)
        let fail = try CLI.run(["check", "tiny", "--profile", "t", "--suites", changed.path, "--runs", out2.path,
                                "--baseline", baseline.path, "--junit", junit.path])
        XCTAssertEqual(fail.code, 1, fail.stdout)
        XCTAssertTrue(fail.stdout.contains("FAIL rkan params"), fail.stdout)
        XCTAssertTrue(fail.stdout.contains("FAIL rkan digest"), fail.stdout)
        XCTAssertFalse(fail.stdout.contains("FAIL base"), fail.stdout)
        XCTAssertTrue(try String(contentsOf: junit, encoding: .utf8).contains("<failure"))
    }
}
