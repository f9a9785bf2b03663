import Foundation
import XCTest
import TestSupport
import RunStore

/// Bad input ends in a clear one-paragraph error naming the file and the fix, a non-zero exit,
/// and no run file that looks finished.
final class BadInputTests: XCTestCase {
    private func assertNoFinishedRuns(_ out: URL, file: StaticString = #filePath, line: UInt = #line) {
        let files = (FileManager.default.enumerator(atPath: out.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".h5") }
        for f in files {
            let status = try? RunFile.readAttributes(out.appendingPathComponent(f)).status
            XCTAssertNotEqual(status, .finished, "\(f) looks finished after a failed run", file: file, line: line)
        }
    }

    func testUsageErrorsExit64() throws {
        XCTAssertEqual(try CLI.run(["run"]).code, 64)
        XCTAssertEqual(try CLI.run(["run", "fashion-mnist", "--threads", "0"]).code, 64)
        XCTAssertEqual(try CLI.run(["bench", "resnet18", "--mode", "sideways"]).code, 64)
        XCTAssertEqual(try CLI.run(["no-such-command"]).code, 64)
    }

    func testMissingDataFolder() throws {
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("out")
        let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--data", "/nonexistent/rkan-data"])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("/nonexistent/rkan-data") && r.stderr.contains("does not exist"), r.stderr)
        assertNoFinishedRuns(out)
    }

    func testTruncatedGzip() throws {
        try Prerequisite.fashionMNIST()
        let data = try CLI.tempFolder("data")
        let folder = data.appendingPathComponent("fashion-mnist")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist/\(name)"))
            if name.hasPrefix("train-images") { bytes = bytes.prefix(bytes.count / 2) }
            try bytes.write(to: folder.appendingPathComponent(name))
        }
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("out")
        let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--data", data.path])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("train-images-idx3-ubyte.gz"), r.stderr)
        XCTAssertTrue(r.stderr.lowercased().contains("truncated"), r.stderr)
        assertNoFinishedRuns(out)
    }

    func testSuiteWithUnknownKey() throws {
        let suites = try CLI.tinySuites(extra: "colour: blue")
        let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", try CLI.tempFolder("out").path])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("tiny.yaml:") && r.stderr.contains("colour"), r.stderr)
    }

    func testUnknownModelSpec() throws {
        let suites = try CLI.tinySuites(model: "resnet17(stem=small)")
        let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", try CLI.tempFolder("out").path])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains("resnet17") && r.stderr.contains("resnet18") && r.stderr.contains("tiny.yaml"), r.stderr)
        let m = try CLI.run(["models", "resnet18+rkan(stages=9)"])
        XCTAssertEqual(m.code, 1)
        XCTAssertTrue(m.stderr.contains("stages"), m.stderr)
    }

    func testUnwritableOutputFolder() throws {
        try Prerequisite.fashionMNIST()
        let blocker = try CLI.tempFolder("blk").appendingPathComponent("a-file")
        try Data("x".utf8).write(to: blocker)
        let suites = try CLI.tinySuites()
        let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", blocker.appendingPathComponent("runs").path])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains(blocker.path), r.stderr)
    }

    func testRunFileOfAnotherSchemaVersion() throws {
        try Prerequisite.fashionMNIST()
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("out")
        let path = out.appendingPathComponent("tiny/t/base/seed-0.h5")
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        let f = try HDF5File.create(path.path)
        try f.setAttribute("schema", .string("rkan-repro/0"))
        try f.setAttribute("status", .string("running"))
        try f.close()
        let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains(path.path) && r.stderr.contains("rkan-repro/0") && r.stderr.contains("rkan-repro/2")
                      && r.stderr.contains("--restart base:0"), r.stderr)
    }

    func testNaNLossIsRecordedAsDiverged() throws {
        try Prerequisite.fashionMNIST()
        let dir = try CLI.tinySuites()
        let out = try CLI.tempFolder("out")
        let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", dir.path, "--out", out.path, "--only", "base"],
                            env: ["RKAN_INJECT_NAN_AT_STEP": "4"])
        XCTAssertEqual(r.code, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("diverged"), r.stderr)
        XCTAssertEqual(try RunFile.readAttributes(out.appendingPathComponent("tiny/t/base/seed-0.h5")).status, .diverged)
        let rep = try CLI.run(["report", "tiny", "--suites", dir.path, "--runs", out.path, "--out", out.appendingPathComponent("r.md").path])
        XCTAssertEqual(rep.code, 0, rep.stderr)
        XCTAssertTrue(try String(contentsOf: out.appendingPathComponent("r.md"), encoding: .utf8).contains("diverged"))
    }
}
