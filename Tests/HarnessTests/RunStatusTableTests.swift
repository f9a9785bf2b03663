import Foundation
import XCTest
import RunStore
@testable import Harness

/// `RunStatusTable` over run files written with `RunFile` in every state, with and without locks.
final class RunStatusTableTests: XCTestCase {
    /// The runs of the demo suite's smoke profile (their configuration is what the files record).
    private let plan = try! Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml").runs(profile: "smoke", seeds: [0, 1, 2, 7])

    private func write(_ out: URL, _ id: String, seed: Int, status: RunStore.RunStatus, epoch: Int, config: String? = nil) throws {
        let c = plan.first { $0.experiment == id && $0.seed == seed }!
        let attrs = RunAttributes(suite: "demo", experiment: id, model: c.model.description, seed: seed, profile: "smoke",
                                  config: config ?? c.canonicalJSON, gitCommit: "abc", blasCore: "Zen", threads: 1, host: "h", status: status)
        let rec = RunRecord(attributes: attrs, weights: [WeightEntry(key: "w", shape: [2], floats: [1, 2])],
                            state: RunState(epoch: epoch, step: epoch * 3))
        try RunFile.write(rec, to: RunTree(out: out).file(for: RunSlot(suite: "demo", profile: "smoke", experiment: id, seed: seed)))
    }

    func testEveryStateAndLock() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(getpid())-\(UUID().uuidString.prefix(6))")
        let suite = try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml")
        let runs = try suite.runs(profile: "smoke", seeds: [0, 1, 2])
        try write(out, "resnet101", seed: 0, status: .finished, epoch: 1)
        try write(out, "resnet101", seed: 1, status: .running, epoch: 0)
        try write(out, "rkanet101", seed: 0, status: .diverged, epoch: 0)
        try write(out, "rkanet101", seed: 7, status: .running, epoch: 0)   // a seed outside the plan, found on disk
        let garbage = RunTree(out: out).file(for: RunSlot(suite: "demo", profile: "smoke", experiment: "rkanet101", seed: 2))
        try Data("not hdf5".utf8).write(to: garbage)
        let live = RunLockOwner(host: RunLock.thisHost, pid: getpid(), started: "2030-01-01T00:00:00Z")
        let remote = RunLockOwner(host: "far-away", pid: 99, started: "2030-01-01T00:00:00Z")
        let lockOf = { (id: String, seed: Int) in RunTree(out: out).lock(for: RunSlot(suite: "demo", profile: "smoke", experiment: id, seed: seed)).path }
        try JSONEncoder().encode(live).write(to: URL(fileURLWithPath: lockOf("resnet101", 1)))
        try FileManager.default.createDirectory(atPath: (lockOf("resnet101", 2) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try JSONEncoder().encode(remote).write(to: URL(fileURLWithPath: lockOf("resnet101", 2)))

        let rows = RunStatusTable.rows(runs: runs, tree: RunTree(out: out))
        XCTAssertEqual(rows.map { "\($0.experiment)/\($0.seed)" },
                       ["resnet101/0", "resnet101/1", "resnet101/2", "rkanet101/0", "rkanet101/1", "rkanet101/2", "rkanet101/7"])
        XCTAssertEqual(rows[0].state, .finished)
        XCTAssertEqual(rows[1].state, .running(epoch: 0, epochs: 1))
        XCTAssertEqual(rows[1].lock, .held(live, .live))
        XCTAssertEqual(rows[2].state, .missing)
        XCTAssertEqual(rows[2].lock, .held(remote, .unknown))
        XCTAssertEqual(rows[3].state, .diverged)
        XCTAssertEqual(rows[4].state, .missing)
        XCTAssertEqual(rows[4].lock, RunStatusRow.Lock.none)
        guard case .unreadable = rows[5].state else { return XCTFail("\(rows[5].state)") }
        XCTAssertEqual(rows[6].state, .running(epoch: 0, epochs: 1))

        let text = RunStatusTable.render(suite: "demo", profile: "smoke", rows: rows)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "demo (profile smoke): 7 runs: 1 finished, 2 running, 1 starting, 1 diverged, 1 missing, 1 unreadable")
        XCTAssertTrue(lines[1].hasPrefix("experiment  seed  status"), lines[1])
        XCTAssertTrue(lines[3].contains("running (epoch 0/1)") && lines[3].contains("\(RunLock.thisHost):\(getpid())") && lines[3].hasSuffix("(alive)"), lines[3])
        XCTAssertTrue(lines[4].contains("starting (no checkpoint yet)") && lines[4].contains("far-away:99")
                      && lines[4].hasSuffix("(other host)"), lines[4])
        XCTAssertTrue(lines[6].contains("  missing  "), lines[6])
        XCTAssertTrue(text.contains("note: Runs that are running without a lock were interrupted"), text)
        XCTAssertTrue(text.contains("--break-locks"), text)
    }

    /// A file made with another configuration than the suite's now is `stale`, with the
    /// differing setting and the command that retrains it.
    func testAFileOfAnotherConfigurationIsStale() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("stale-\(getpid())-\(UUID().uuidString.prefix(6))")
        let c = plan.first { $0.experiment == "resnet101" && $0.seed == 0 }!
        var older = c
        older.training.epochs += 4
        try write(out, "resnet101", seed: 0, status: .finished, epoch: 1, config: older.canonicalJSON)
        let rows = RunStatusTable.rows(runs: [c], tree: RunTree(out: out))
        guard case let .stale(reason) = rows[0].state else { return XCTFail("\(rows[0].state)") }
        XCTAssertTrue(reason.contains("training.epochs: \(c.training.epochs + 4) in the file, \(c.training.epochs) in the suite")
                      && reason.contains("--restart resnet101:0"), reason)
        let text = RunStatusTable.render(suite: "demo", profile: "smoke", rows: rows)
        XCTAssertTrue(text.contains("1 stale") && text.contains("note: run file"), text)
    }
}
