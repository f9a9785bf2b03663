import Foundation
import XCTest
import TestSupport

/// The paper's suites are part of the tool: commands find them from any working directory, a
/// folder given with --suites adds suites (or overrides one of the same name), and a name found
/// nowhere is one error naming where it was looked for.
final class SuiteSearchCLITests: XCTestCase {
    func testPaperSuitesAreFoundOutsideTheRepository() throws {
        let elsewhere = try CLI.tempFolder("cwd")
        let list = try CLI.run(["list"], cwd: elsewhere)
        XCTAssertEqual(list.code, 0, list.stderr)
        for suite in ["cifar100", "coco", "fashion-mnist", "food101", "imagenet", "tiny-imagenet"] {
            XCTAssertTrue(list.stdout.contains("\(suite): "), "\(suite) not listed: \(list.stdout)")
        }
        let models = try CLI.run(["models", "cifar100"], cwd: elsewhere)
        XCTAssertEqual(models.code, 0, models.stderr)
        XCTAssertTrue(models.stdout.contains("rkanet101"), models.stdout)
    }

    func testSuitesFolderAddsAndOverrides() throws {
        let mine = try CLI.tinySuites()
        // Adds: `tiny` from --suites, the paper's suites still there.
        let list = try CLI.run(["list", "--suites", mine.path], cwd: try CLI.tempFolder("cwd"))
        XCTAssertEqual(list.code, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("tiny: ") && list.stdout.contains("cifar100: "), list.stdout)
        // Overrides: a fashion-mnist.yaml in --suites is the one read.
        let own = try String(contentsOf: mine.appendingPathComponent("tiny.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "suite: tiny", with: "suite: fashion-mnist")
            .replacingOccurrences(of: "title: Tiny Fashion-MNIST", with: "title: My own Fashion-MNIST")
        try own.write(to: mine.appendingPathComponent("fashion-mnist.yaml"), atomically: true, encoding: .utf8)
        let detail = try CLI.run(["list", "fashion-mnist", "--suites", mine.path])
        XCTAssertEqual(detail.code, 0, detail.stderr)
        XCTAssertTrue(detail.stdout.contains("My own Fashion-MNIST"), detail.stdout)
    }

    func testUnknownNameSaysWhereItLooked() throws {
        let elsewhere = try CLI.tempFolder("cwd")
        let models = try CLI.run(["models", "cifar1000"], cwd: elsewhere)
        XCTAssertEqual(models.code, 1, models.stdout)
        for part in ["neither a suite", "cifar1000.yaml", elsewhere.appendingPathComponent("Suites").path, "nor a model spec"] {
            XCTAssertTrue(models.stderr.contains(part), "missing «\(part)»: \(models.stderr)")
        }
        let run = try CLI.run(["run", "cifar1000", "--runs", try CLI.tempFolder("o").path], cwd: elsewhere)
        XCTAssertEqual(run.code, 1, run.stdout)
        XCTAssertTrue(run.stderr.contains("no suite named 'cifar1000' in ") && run.stderr.contains("Suites found: "), run.stderr)
    }
}
