import Foundation
import XCTest
import RunStore
@testable import Harness

/// A lock records its owner's start time and boot, so a lock whose pid now belongs to another
/// process (pid reuse after a crash or reboot) is stale, taken over, and removed by `breakLocks`.
final class RunLockReuseTests: XCTestCase {
    private func folder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runlock-reuse-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("s/p/a"), withIntermediateDirectories: true)
        return dir
    }

    func testStartTimeOfThisProcessIsReadFromProc() throws {
        let ticks = try XCTUnwrap(ProcessIdentity.startTicks(of: getpid()))
        XCTAssertEqual(ProcessIdentity.startTicks(of: getpid()), ticks, "stable")
        XCTAssertNotNil(ProcessIdentity.bootID())
        XCTAssertNil(ProcessIdentity.startTicks(of: 999_999), "no such pid")
    }

    func testALiveProcessWithAnotherStartTimeOrBootIsNotTheOwner() throws {
        let ticks = try XCTUnwrap(ProcessIdentity.startTicks(of: getpid()))
        let me = RunLockOwner(host: RunLock.thisHost, pid: getpid(), started: "2020-01-01T00:00:00Z",
                              startTicks: ticks, bootID: ProcessIdentity.bootID())
        XCTAssertEqual(RunLock.liveness(me), .live)
        var reused = me
        reused.startTicks = ticks + 1
        XCTAssertEqual(RunLock.liveness(reused), .dead, "same pid, later process")
        var rebooted = me
        rebooted.bootID = "00000000-0000-0000-0000-000000000000"
        XCTAssertEqual(RunLock.liveness(rebooted), .dead, "same pid, another boot")
        var legacy = me
        legacy.startTicks = nil
        legacy.bootID = nil
        XCTAssertEqual(RunLock.liveness(legacy), .live, "a lock without the fields keeps the pid-only rule")
    }

    func testAcquireRecordsTheFieldsAndTakesOverAReusedPid() throws {
        let dir = try folder()
        let url = RunTree(out: dir).file(for: RunSlot(suite: "s", profile: "p", experiment: "a", seed: 0))
        let reused = RunLockOwner(host: RunLock.thisHost, pid: getpid(), started: "2020-01-01T00:00:00Z",
                                  startTicks: 1, bootID: ProcessIdentity.bootID())
        try JSONEncoder().encode(reused).write(to: URL(fileURLWithPath: RunLock.path(for: url)))
        var lines: [String] = []
        guard case let .acquired(lock) = try RunLock.acquire(runFile: url, log: { lines.append($0) }) else {
            return XCTFail("a lock of a reused pid blocked the run")
        }
        XCTAssertEqual(lock.owner.startTicks, ProcessIdentity.startTicks(of: getpid()))
        XCTAssertEqual(lock.owner.bootID, ProcessIdentity.bootID())
        XCTAssertTrue(lines.first?.contains("taken over") ?? false, "\(lines)")
        lock.release()

        try JSONEncoder().encode(reused).write(to: URL(fileURLWithPath: RunLock.path(for: url)))
        let removed = RunLock.breakLocks(in: RunTree(out: dir), suite: "s", profile: "p", olderThan: 0)
        XCTAssertEqual(removed.map(\.path), [RunLock.path(for: url)])
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunLock.path(for: url)), "breakLocks removes what it reports")
    }
}
