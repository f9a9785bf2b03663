import Foundation
import RunStore
import XCTest

/// `RunTree`: the one place that knows `OUT/SUITE/PROFILE/ID/seed-S.h5` and its `.lock`.
final class RunTreeTests: XCTestCase {
    func testPathsOfASlot() {
        let tree = RunTree(out: URL(fileURLWithPath: "/scratch/runs", isDirectory: true))
        let slot = RunSlot(suite: "cifar100", profile: "smoke", experiment: "rkanet18", seed: 3)
        XCTAssertEqual(tree.file(for: slot).path, "/scratch/runs/cifar100/smoke/rkanet18/seed-3.h5")
        XCTAssertEqual(tree.lock(for: slot).path, "/scratch/runs/cifar100/smoke/rkanet18/seed-3.h5.lock")
        XCTAssertEqual(tree.slurmFolder(suite: "cifar100", profile: "smoke").path, "/scratch/runs/cifar100/smoke/slurm")
    }

    /// Runs are found by their file or their lock; moved-aside files, other names, the Slurm folder
    /// and other profiles are not runs.
    func testDiscoverFindsFilesAndLocksOnly() throws {
        let out = Samples.folder()
        let tree = RunTree(out: out)
        let slot = { (id: String, seed: Int) in RunSlot(suite: "s", profile: "p", experiment: id, seed: seed) }
        for url in [tree.file(for: slot("b", 0)), tree.file(for: slot("b", 10)), tree.lock(for: slot("a", 2)),
                    URL(fileURLWithPath: tree.file(for: slot("a", 1)).path + ".bad-20260101T000000Z"),
                    tree.file(for: slot("b", 0)).deletingLastPathComponent().appendingPathComponent("seed-01.h5"),
                    tree.slurmFolder(suite: "s", profile: "p").appendingPathComponent("plan.tsv"),
                    tree.file(for: RunSlot(suite: "s", profile: "q", experiment: "c", seed: 0))] {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data("x".utf8).write(to: url)
        }
        XCTAssertEqual(tree.discover(suite: "s", profile: "p"), [slot("a", 2), slot("b", 0), slot("b", 10)])
        XCTAssertEqual(tree.existingLocks(suite: "s", profile: "p"), [tree.lock(for: slot("a", 2))])
        XCTAssertEqual(tree.profiles(suite: "s"), ["p", "q"])
        XCTAssertEqual(tree.discover(suite: "none", profile: "p"), [])
    }
}
