import Foundation
import XCTest
import TestSupport
import RunStore
import Harness

/// Commands that find nothing to do fail with the reason; locks of processes that are gone or
/// were replaced do not block; divergence in validation is recorded; messages name the real
/// cause (non-UTF-8 suite, --data or --out naming a file) and stale temporary files go away.
final class ZeroWorkAndAdviceTests: XCTestCase {
    private func run(_ args: [String], env: [String: String] = [:]) throws -> CLI.Result {
        let r = try CLI.run(args, env: env)
        XCTAssertFalse(r.killedBySignal, "crashed: \(args) \(r.stderr.suffix(600))")
        return r
    }

    func testZeroWorkIsNotSuccess() throws {
        let suites = try CLI.tinySuites(), root = try CLI.tempFolder("zero")
        let empty = try run(["report", "tiny", "--profile", "t", "--suites", suites.path, "--runs", root.appendingPathComponent("none").path,
                             "--out", root.appendingPathComponent("r.md").path])
        XCTAssertEqual(empty.code, 1)
        XCTAssertTrue(empty.stderr.contains("nothing to report") && empty.stderr.contains("rkan-repro run tiny"), empty.stderr)
        let only = try run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", root.path, "--only", ""])
        XCTAssertEqual(only.code, 1)
        XCTAssertTrue(only.stderr.contains("no experiment selected"), only.stderr)
        try Prerequisite.fashionMNIST()
        let trained = try Fault.trainedRoot()
        let baseline = trained.appendingPathComponent("b.json")
        try Data(#"{"suite":"tiny","profile":"t","blas_core":"x","threads":1,"k":3,"min_std":0.5,"speed_tolerance":0.3,"rows":{}}"#.utf8)
            .write(to: baseline)
        let check = try run(["check", "tiny", "--profile", "t", "--suites", Fault.suites(trained), "--runs", Fault.out(trained).path,
                             "--baseline", baseline.path])
        XCTAssertEqual(check.code, 1, check.stdout)
        XCTAssertTrue(check.stderr.contains("no rows") && check.stderr.contains("--update-baseline"), check.stderr)
    }

    func testALockOfAReusedPidDoesNotBlockAndBreakLocksRemovesIt() throws {
        try Prerequisite.fashionMNIST()
        let root = try Fault.trainedRoot()
        let file = Fault.runFile(root)
        try FileManager.default.removeItem(at: file)
        // Our own pid is alive, but it started long after this lock's owner did.
        let reused = RunLockOwner(host: RunLock.thisHost, pid: getpid(), started: "2020-01-01T00:00:00Z", startTicks: 1,
                                  bootID: ProcessIdentity.bootID())
        try JSONEncoder().encode(reused).write(to: URL(fileURLWithPath: RunLock.path(for: file)))
        let status = try run(["status", "tiny", "--profile", "t", "--suites", Fault.suites(root), "--out", Fault.out(root).path])
        XCTAssertTrue(status.stdout.contains("stale"), status.stdout)
        let broken = try run(["run", "tiny", "--profile", "t", "--suites", Fault.suites(root), "--out", Fault.out(root).path,
                              "--only", "rkan", "--break-locks", "0"])
        XCTAssertEqual(broken.code, 0, broken.stderr)
        XCTAssertTrue(broken.stderr.contains("removed lock \(RunLock.path(for: file))"), broken.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunLock.path(for: file)))
        try JSONEncoder().encode(reused).write(to: URL(fileURLWithPath: RunLock.path(for: file)))
        let r = try run(["run", "tiny", "--profile", "t", "--suites", Fault.suites(root), "--out", Fault.out(root).path, "--threads", "2"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("taken over"), r.stderr)
        XCTAssertEqual(try RunFile.read(file).attributes.status, .finished, "the run was trained, not skipped")
    }

    func testNaNValidationLogitsEndTheRunAsDiverged() throws {
        try Prerequisite.fashionMNIST()
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("nanval")
        let r = try run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--only", "base", "--threads", "2"],
                        env: ["RKAN_INJECT_NAN_LOGITS_AT_EVAL": "0"])
        XCTAssertEqual(r.code, 1, r.stderr)
        for w in ["diverged", "validation logits", "epoch 1", "validation batch 1", "learning rate", "--restart base:0"] {
            XCTAssertTrue(r.stderr.contains(w), "no '\(w)' in \(r.stderr)")
        }
        let rec = try RunFile.read(out.appendingPathComponent("tiny/t/base/seed-0.h5"))
        XCTAssertEqual(rec.attributes.status, .diverged)
        XCTAssertNil(rec.metrics["val_top1"], "no accuracy is recorded for the diverged epoch")
    }

    func testMessagesNameTheRealCause() throws {
        let root = try CLI.tempFolder("advice"), suites = try CLI.tinySuites()
        var bytes = [UInt8](try Data(contentsOf: suites.appendingPathComponent("tiny.yaml")))
        bytes.insert(contentsOf: [0x23, 0x20, 0xE9, 0x0A], at: 0)  // "# é" in Latin-1, line 1
        try Data(bytes).write(to: suites.appendingPathComponent("tiny.yaml"))
        let latin1 = try run(["list", "tiny", "--suites", suites.path])
        XCTAssertEqual(latin1.code, 1)
        XCTAssertTrue(latin1.stderr.contains("tiny.yaml:1") && latin1.stderr.contains("not UTF-8") && latin1.stderr.contains("0xE9"), latin1.stderr)
        let good = try CLI.tinySuites()
        let aFile = root.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: aFile)
        let out = try run(["run", "tiny", "--profile", "t", "--suites", good.path, "--out", aFile.path])
        XCTAssertEqual(out.code, 1)
        XCTAssertTrue(out.stderr.contains("--runs names a file, not a folder"), out.stderr)
        let data = try run(["run", "tiny", "--profile", "t", "--suites", good.path, "--out", root.appendingPathComponent("o").path, "--data", aFile.path])
        XCTAssertEqual(data.code, 1)
        XCTAssertTrue(data.stderr.contains("--data \(aFile.path) is a file, not a folder"), data.stderr)
        let check = try run(["data", "check", "fashion-mnist", "--data", aFile.path])
        XCTAssertEqual(check.code, 1)
        XCTAssertTrue(check.stderr.contains("--data \(aFile.path) is a file, not a folder"), check.stderr)
    }

    func testTemporaryFilesOfDeadProcessesAreRemoved() throws {
        try Prerequisite.fashionMNIST()
        let root = try Fault.trainedRoot()
        let file = Fault.runFile(root)
        let dead = URL(fileURLWithPath: file.path + ".tmp-999999"), live = URL(fileURLWithPath: file.path + ".tmp-1")
        let other = URL(fileURLWithPath: file.path + ".tmp-notapid")
        for u in [dead, live, other] { try Data("half".utf8).write(to: u) }
        let r = try run(["run", "tiny", "--profile", "t", "--suites", Fault.suites(root), "--out", Fault.out(root).path])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dead.path), "pid 999999 does not run: removed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: live.path), "pid 1 runs: kept")
        XCTAssertTrue(FileManager.default.fileExists(atPath: other.path), "not ours: kept")
    }
}
