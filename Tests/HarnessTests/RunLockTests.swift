import Foundation
import XCTest
import RunStore
@testable import Harness

/// `RunLock`: exclusive creation, busy/stale detection, take-over, release and `breakLocks`.
final class RunLockTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("runlock-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    private var tree: RunTree { RunTree(out: dir) }
    private func runFile(_ name: String = "a") -> URL { tree.file(for: RunSlot(suite: "s", profile: "p", experiment: name, seed: 0)) }

    private func writeLock(_ owner: RunLockOwner, for url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONEncoder().encode(owner).write(to: URL(fileURLWithPath: RunLock.path(for: url)))
    }

    /// A pid that surely does not run: a child that has exited and been reaped.
    private func deadPid() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    func testAcquireWritesOwnerAndExcludesOthers() throws {
        let url = runFile()
        guard case let .acquired(lock) = try RunLock.acquire(runFile: url, log: { _ in }) else { return XCTFail("not acquired") }
        let text = try String(contentsOfFile: RunLock.path(for: url), encoding: .utf8)
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        XCTAssertEqual(json["host"] as? String, ProcessInfo.processInfo.hostName)
        XCTAssertEqual((json["pid"] as? NSNumber)?.int32Value, getpid())
        let started = try XCTUnwrap(ISO8601DateFormatter().date(from: json["started"] as! String))
        XCTAssertLessThan(abs(started.timeIntervalSinceNow), 60)

        // A second claim (this process is alive) is refused with the holder.
        guard case let .busy(holder) = try RunLock.acquire(runFile: url, log: { _ in }) else { return XCTFail("acquired twice") }
        XCTAssertEqual(holder, lock.owner)
        lock.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunLock.path(for: url)))
        lock.release()  // twice is harmless
        guard case let .acquired(again) = try RunLock.acquire(runFile: url, log: { _ in }) else { return XCTFail("not acquired after release") }
        again.release()
    }

    func testStaleLockOfThisHostIsTakenOver() throws {
        let url = runFile()
        let stale = RunLockOwner(host: RunLock.thisHost, pid: try deadPid(), started: "2020-01-01T00:00:00Z")
        XCTAssertEqual(RunLock.liveness(stale), .dead)
        try writeLock(stale, for: url)
        var lines: [String] = []
        guard case let .acquired(lock) = try RunLock.acquire(runFile: url, log: { lines.append($0) }) else { return XCTFail("stale lock not taken over") }
        XCTAssertEqual(lock.owner.pid, getpid())
        XCTAssertEqual(RunLock.readOwner(RunLock.path(for: url)), lock.owner)
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].contains("\(stale.pid)") && lines[0].contains("taken over"), "\(lines)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunLock.path(for: url) + ".takeover"))
        lock.release()
    }

    func testLocksOfOtherHostsAndUnreadableLocksAreRespected() throws {
        let url = runFile()
        let remote = RunLockOwner(host: "node-elsewhere-\(UUID().uuidString.prefix(4))", pid: try deadPid(), started: "2020-01-01T00:00:00Z")
        XCTAssertEqual(RunLock.liveness(remote), .unknown, "another host's pid cannot be checked here")
        try writeLock(remote, for: url)
        guard case let .busy(holder) = try RunLock.acquire(runFile: url, log: { _ in }) else { return XCTFail("took another host's lock") }
        XCTAssertEqual(holder, remote)

        let half = runFile("b")
        try FileManager.default.createDirectory(at: half.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: RunLock.path(for: half), contents: Data("{\"host\":".utf8))
        guard case .busy(nil) = try RunLock.acquire(runFile: half, log: { _ in }) else { return XCTFail("took an unreadable lock") }
    }

    func testARequeuedSlurmTaskTakesOverItsOwnLockFromAnotherNode() throws {
        let earlier = RunLockOwner(host: "node-a", pid: 4242, started: "2030-01-01T00:00:00Z", slurmTask: "77_3")
        XCTAssertEqual(RunLock.liveness(earlier, thisHost: "node-b", slurmTask: "77_3"), .dead, "same task, requeued")
        XCTAssertEqual(RunLock.liveness(earlier, thisHost: "node-b", slurmTask: "77_2"), .unknown, "another task")
        XCTAssertEqual(RunLock.liveness(earlier, thisHost: "node-b", slurmTask: "78_3"), .unknown, "another job")
        XCTAssertEqual(RunLock.liveness(earlier, thisHost: "node-b", slurmTask: nil), .unknown, "outside Slurm")
        let plain = RunLockOwner(host: "node-a", pid: 4242, started: "2030-01-01T00:00:00Z")
        XCTAssertEqual(RunLock.liveness(plain, thisHost: "node-b", slurmTask: "77_3"), .unknown)
        // The field round-trips as slurm_task and is absent from locks taken outside Slurm.
        let json = String(decoding: try JSONEncoder().encode(earlier), as: UTF8.self)
        XCTAssertTrue(json.contains("\"slurm_task\":\"77_3\""), json)
        XCTAssertEqual(try JSONDecoder().decode(RunLockOwner.self, from: Data(#"{"host":"h","pid":1,"started":"s"}"#.utf8)),
                       RunLockOwner(host: "h", pid: 1, started: "s"))
    }

    func testReleaseKeepsALockThatReplacedOurs() throws {
        let url = runFile()
        guard case let .acquired(lock) = try RunLock.acquire(runFile: url, log: { _ in }) else { return XCTFail() }
        let other = RunLockOwner(host: "elsewhere", pid: 42, started: "2030-01-01T00:00:00Z")
        try writeLock(other, for: url)  // e.g. --break-locks, then another task took it
        lock.release()
        XCTAssertEqual(RunLock.readOwner(RunLock.path(for: url)), other)
    }

    func testBreakLocksRemovesOldLocksButNeverALiveLocalOne() throws {
        let now = ISO8601DateFormatter().date(from: "2030-01-01T12:00:00Z")!
        let old = RunLockOwner(host: "elsewhere", pid: 1, started: "2030-01-01T09:00:00Z")     // 3 h
        let young = RunLockOwner(host: "elsewhere", pid: 2, started: "2030-01-01T11:50:00Z")   // 10 min
        let liveLocal = RunLockOwner(host: RunLock.thisHost, pid: getpid(), started: "2020-01-01T00:00:00Z")
        try writeLock(old, for: runFile("old"))
        try writeLock(young, for: runFile("young"))
        try writeLock(liveLocal, for: runFile("live"))
        let removed = RunLock.breakLocks(in: tree, suite: "s", profile: "p", olderThan: 3600, now: now)
        XCTAssertEqual(removed.map(\.path), [RunLock.path(for: runFile("old"))])
        XCTAssertEqual(removed.first?.owner, old)
        XCTAssertNotNil(RunLock.readOwner(RunLock.path(for: runFile("young"))))
        XCTAssertNotNil(RunLock.readOwner(RunLock.path(for: runFile("live"))))
        XCTAssertEqual(RunLock.breakLocks(in: tree, suite: "s", profile: "p", olderThan: 0, now: now).map(\.path), [RunLock.path(for: runFile("young"))])
        XCTAssertNotNil(RunLock.readOwner(RunLock.path(for: runFile("live"))), "a live lock of this host survives any age")
    }

    func testParseAge() {
        XCTAssertEqual(RunLock.parseAge("90"), 90)
        XCTAssertEqual(RunLock.parseAge("90s"), 90)
        XCTAssertEqual(RunLock.parseAge("30m"), 1800)
        XCTAssertEqual(RunLock.parseAge("2h"), 7200)
        XCTAssertEqual(RunLock.parseAge("1.5d"), 129_600)
        XCTAssertEqual(RunLock.parseAge("0"), 0)
        for bad in ["", "h", "-1h", "2 hours", "3w"] { XCTAssertNil(RunLock.parseAge(bad), bad) }
    }
}
