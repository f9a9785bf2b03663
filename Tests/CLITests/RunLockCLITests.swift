import Foundation
import XCTest
import TestSupport
import Harness

/// Run locks end to end: `run` skips a run locked by a live process, takes over a dead
/// process's lock, leaves another host's lock alone unless `--break-locks`, and removes its
/// lock when it gets SIGTERM (what `scancel` sends); `status` shows each case.
final class RunLockCLITests: XCTestCase {
    override func setUpWithError() throws {
        try Prerequisite.fashionMNIST()
    }

    private func lockPath(_ out: URL, _ id: String) -> String { out.appendingPathComponent("tiny/t/\(id)/seed-0.h5.lock").path }

    private func writeLock(_ out: URL, _ id: String, host: String, pid: Int32, started: Date = Date()) throws {
        let path = lockPath(out, id)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let owner = RunLockOwner(host: host, pid: pid, started: ISO8601DateFormatter().string(from: started))
        try JSONEncoder().encode(owner).write(to: URL(fileURLWithPath: path))
    }

    private func run(_ suites: URL, _ out: URL, _ extra: [String] = []) throws -> CLI.Result {
        try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--threads", "1"] + extra)
    }

    func testLiveStaleAndForeignLocks() throws {
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("locks")
        let host = ProcessInfo.processInfo.hostName
        try writeLock(out, "base", host: host, pid: getpid())          // this test process: alive
        try writeLock(out, "rkan", host: "other-node", pid: 4242)      // cannot be checked from here

        let skipped = try run(suites, out)
        XCTAssertEqual(skipped.code, 0, "a locked run is skipped, not an error: \(skipped.stderr)")
        XCTAssertTrue(skipped.stderr.contains("being trained by \(host):\(getpid())"), skipped.stderr)
        XCTAssertTrue(skipped.stderr.contains("being trained by other-node:4242"), skipped.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("tiny/t/base/seed-0.h5").path))
        let status = try CLI.run(["status", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path])
        XCTAssertTrue(status.stdout.hasPrefix("tiny (profile t): 2 runs: 2 starting\n"), status.stdout)
        XCTAssertTrue(status.stdout.contains("\(host):\(getpid()) since") && status.stdout.contains("(alive)"), status.stdout)
        XCTAssertTrue(status.stdout.contains("other-node:4242 since") && status.stdout.contains("(other host)"), status.stdout)

        // The holder of base's lock died (same host): the next run takes it over and trains.
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        try writeLock(out, "base", host: host, pid: dead.processIdentifier)
        let resumed = try run(suites, out, ["--only", "base"])
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("which no longer runs: taken over"), resumed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: lockPath(out, "base")), "released after training")

        // Another host's lock: kept by --break-locks with a larger age, removed with 0.
        let young = try run(suites, out, ["--only", "rkan", "--break-locks", "1h"])
        XCTAssertTrue(young.stderr.contains("being trained by other-node:4242"), young.stderr)
        let broken = try run(suites, out, ["--only", "rkan", "--break-locks", "0"])
        XCTAssertEqual(broken.code, 0, broken.stderr)
        XCTAssertTrue(broken.stderr.contains("removed lock \(lockPath(out, "rkan")) (other-node:4242"), broken.stderr)
        let done = try CLI.run(["status", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path])
        XCTAssertTrue(done.stdout.hasPrefix("tiny (profile t): 2 runs: 2 finished\n"), done.stdout)

        let bad = try run(suites, out, ["--break-locks", "soon"])
        XCTAssertEqual(bad.code, 64, bad.stderr)
    }

    func testSIGTERMRemovesTheLock() throws {
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("sigterm")
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["run", "tiny", "--profile", "t", "--only", "base", "--suites", suites.path, "--out", out.path, "--threads", "1"]
        p.currentDirectoryURL = CLI.root
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let lock = lockPath(out, "base")
        let start = Date()
        while !FileManager.default.fileExists(atPath: lock) && p.isRunning && Date().timeIntervalSince(start) < 300 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: lock), "the run never took its lock")
        p.terminate()  // SIGTERM
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal, "it still dies of the signal")
        XCTAssertEqual(p.terminationStatus, SIGTERM)
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock), "SIGTERM must remove the lock")
    }
}
