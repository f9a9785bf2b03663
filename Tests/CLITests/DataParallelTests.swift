import Foundation
import XCTest
import TestSupport
import RunStore

/// `rkan-repro run --ranks N` under `mpirun` (Open MPI, oversubscribed on this machine): the
/// same weights_sha256 for 1, 2 and 4 ranks as a plain single process, a killed rank ends the job
/// with a non-zero exit within the timeout, and a rerun (on another rank count) resumes to the
/// same bytes.
final class DataParallelTests: XCTestCase {
    static var mpirun: String? {
        ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    override func setUpWithError() throws {
        try Prerequisite.fashionMNIST()
        try Prerequisite.require(Self.mpirun != nil, "mpirun", fix: "run scripts/setup.sh (installs openmpi-bin)")
    }

    /// `CLI.tinySuites` cut to two epochs of 2 steps of 64 (4 shards of 16 images) plus a partial
    /// batch of 32 (4 shards of 8), with CutMix and MixUp (a rank decodes its shards' images and their partners
    /// only); the tests train its `rkan` row.
    static func suites() throws -> URL {
        let dir = try CLI.tinySuites()
        let url = dir.appendingPathComponent("tiny.yaml")
        var text = try String(contentsOf: url, encoding: .utf8)
        for (old, new) in [("epochs: 3", "epochs: 2"),
                           ("augment: {hflip: true, pad_crop: 2}",
                            "augment: {hflip: true, pad_crop: 2, cutmix: {p: 0.5, alpha: 1.0}, mixup: {p: 0.4, alpha: 0.2}}"),
                           ("train_subset: 192, test_subset: 64", "train_subset: 160, test_subset: 72")] {
            XCTAssertTrue(text.contains(old), "CLI.tinySuites changed: no \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
        return dir
    }

    /// `rkan-repro run` on `ranks` processes (plain, without mpirun, when ranks is nil).
    static func run(ranks: Int?, suites: URL, out: URL, env: [String: String] = [:]) throws -> CLI.Result {
        let args = ["run", "tiny", "--profile", "t", "--only", "rkan", "--suites", suites.path, "--out", out.path, "--threads", "1"]
        // Yield instead of busy-polling: 4 ranks share 2 cores.
        var e = env
        e["OMPI_MCA_mpi_yield_when_idle"] = "1"
        e["RKAN_MPI_TIMEOUT"] = e["RKAN_MPI_TIMEOUT"] ?? "120"
        guard let ranks else { return try CLI.run(args, env: e) }
        let mpi = ["-np", String(ranks), "--oversubscribe", "--allow-run-as-root", "--bind-to", "none",
                   "-x", "OMPI_MCA_mpi_yield_when_idle", "-x", "RKAN_MPI_TIMEOUT"]
            + env.keys.sorted().flatMap { ["-x", $0] }
        return try CLI.run(mpi + [CLI.binary.path] + args + ["--ranks", String(ranks)], env: e, executable: URL(fileURLWithPath: mpirun!))
    }

    static func digest(_ out: URL) throws -> String {
        try RunFile.read(out.appendingPathComponent("tiny/t/rkan/seed-0.h5")).attributes.weightsSHA256
    }

    func testOneTwoAndFourRanksGiveTheSingleProcessDigest() throws {
        let suites = try Self.suites()
        let plain = try CLI.tempFolder("dp-plain")
        let r0 = try Self.run(ranks: nil, suites: suites, out: plain)
        XCTAssertEqual(r0.code, 0, r0.stderr)
        let expected = try Self.digest(plain)
        var seen: [String] = []
        for ranks in [1, 2, 4] {
            let out = try CLI.tempFolder("dp-\(ranks)")
            let r = try Self.run(ranks: ranks, suites: suites, out: out)
            XCTAssertEqual(r.code, 0, "\(ranks) ranks:\n\(r.stderr)")
            let rec = try RunFile.read(out.appendingPathComponent("tiny/t/rkan/seed-0.h5"))
            XCTAssertEqual(rec.attributes.weightsSHA256, expected, "\(ranks) ranks give other weights than one process")
            XCTAssertEqual(rec.attributes.ranks, ranks)
            XCTAssertGreaterThan(rec.attributes.trainImagesPerSecond, 0)
            XCTAssertGreaterThan(rec.attributes.scalingEfficiency, 0)
            XCTAssertEqual(rec.metrics["val_top1"], try RunFile.read(plain.appendingPathComponent("tiny/t/rkan/seed-0.h5")).metrics["val_top1"])
            seen.append("\(ranks): \(rec.attributes.weightsSHA256)")
        }
        print("data-parallel digests (plain \(expected)): " + seen.joined(separator: ", "))
    }

    /// Rank 1 of 2 stops (SIGSTOP: alive but silent, which MPI does not report): rank 0's
    /// watchdog ends it after RKAN_MPI_TIMEOUT seconds and mpirun ends the stopped rank.
    func testStoppedRankIsEndedByTheWatchdog() throws {
        let suites = try Self.suites()
        let out = try CLI.tempFolder("dp-stop")
        let t0 = Date()
        let r = try Self.run(ranks: 2, suites: suites, out: out, env: ["RKAN_CRASH_AFTER_STEPS": "2", "RKAN_CRASH_RANK": "1",
                                                                       "RKAN_CRASH_SIGNAL": "STOP", "RKAN_MPI_TIMEOUT": "8"])
        let seconds = Date().timeIntervalSince(t0)
        XCTAssertNotEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("waited more than 8 s (RKAN_MPI_TIMEOUT)"), r.stderr)
        XCTAssertLessThan(seconds, 90, "the job outlived the watchdog by far")
    }

    func testRankCountsThatDoNotDivideTheShardsAreRefused() throws {
        let suites = try Self.suites()
        let out = try CLI.tempFolder("dp-bad")
        let r = try Self.run(ranks: 3, suites: suites, out: out)
        XCTAssertNotEqual(r.code, 0)
        XCTAssertTrue(r.stderr.contains("1, 2, 4 or 8") || r.stderr.contains("1, 2, 4, 8"), r.stderr)
        let plain = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--ranks", "2"])
        XCTAssertEqual(plain.code, 1, "--ranks 2 without a launcher")
        XCTAssertTrue(plain.stderr.contains("mpirun -np 2"), plain.stderr)
        // 8 ranks are a valid count, but the tiny suite's batch of 64 has 4 shards: refused on
        // every rank before anything trains, naming the suite, its batch size and the fix.
        let eight = try Self.run(ranks: 8, suites: suites, out: out)
        XCTAssertEqual(eight.code, 1, eight.stderr)
        XCTAssertTrue(eight.stderr.contains("batch size 64") && eight.stderr.contains("1, 2, 4 ranks")
                      && eight.stderr.contains("at least 128"), eight.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("tiny/t/rkan/seed-0.h5").path),
                       "a refused rank count wrote a run file")
        // plan --slurm refuses it too, before writing a script.
        let plan = try CLI.run(["plan", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--slurm", "--ranks-per-run", "8"])
        XCTAssertEqual(plan.code, 1, plan.stderr)
        XCTAssertTrue(plan.stderr.contains("tiny.yaml") && plan.stderr.contains("batch size 64"), plan.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("tiny/t/slurm/job.sbatch").path))
    }

    /// Rank 1 of 2 is SIGKILLed in epoch 2: the job ends non-zero well within the timeout, and a
    /// rerun on 4 ranks resumes from the epoch-1 checkpoint to the single-process bytes.
    func testKilledRankFailsTheJobAndARerunOnAnotherRankCountResumes() throws {
        let suites = try Self.suites()
        let plain = try CLI.tempFolder("dp-ref"), out = try CLI.tempFolder("dp-kill")
        XCTAssertEqual(try Self.run(ranks: nil, suites: suites, out: plain).code, 0)
        let t0 = Date()
        let killed = try Self.run(ranks: 2, suites: suites, out: out, env: ["RKAN_CRASH_AFTER_STEPS": "4", "RKAN_CRASH_RANK": "1"])
        XCTAssertNotEqual(killed.code, 0, "a job with a dead rank must fail:\n\(killed.stderr)")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 110, "the job hung instead of failing")
        let partial = try RunFile.read(out.appendingPathComponent("tiny/t/rkan/seed-0.h5"))
        XCTAssertEqual(partial.attributes.status, .running)
        XCTAssertEqual(partial.state.epoch, 1, "the epoch-1 checkpoint survives")
        let resumed = try Self.run(ranks: 4, suites: suites, out: out)
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming after epoch 1"), resumed.stderr)
        XCTAssertEqual(try Self.digest(out), try Self.digest(plain))
    }
}
