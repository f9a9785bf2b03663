import Foundation
import XCTest
import TestSupport
import RunStore

/// Results are shown only for the configuration they were made with: `report`, `status` and
/// `check` compare each run file's recorded configuration with what the suite asks for now; the
/// ranks of a data-parallel run must agree on the request; an interrupted run resumes only
/// under the OpenBLAS core it was trained with; a check that compared no weights fails.
final class StaleResultTests: XCTestCase {
    private func edit(_ root: URL, _ old: String, _ new: String) throws {
        let yaml = URL(fileURLWithPath: Fault.suites(root)).appendingPathComponent("tiny.yaml")
        let text = try String(contentsOf: yaml, encoding: .utf8)
        XCTAssertTrue(text.contains(old), "no \(old) in the suite")
        try text.replacingOccurrences(of: old, with: new).write(to: yaml, atomically: true, encoding: .utf8)
    }

    func testEditedRowsAndProfilesMakeRunFilesStale() throws {
        try Prerequisite.fashionMNIST()
        for (old, new, words) in [("model: \"resnet18(stem=small)\"", "model: \"resnet34(stem=small)\"", ["model", "resnet34"]),
                                  ("epochs: 2", "epochs: 5", ["training.epochs", "2 in the file", "5 in the suite"]),
                                  ("lr: 0.05", "lr: 0.1", ["training.optimizer.lr"])] {
            let root = try Fault.trainedRoot()
            let o = Fault.out(root).path, s = Fault.suites(root)
            try edit(root, old, new)
            let report = try TimedRun.run(["report", "tiny", "--profile", "t", "--suites", s, "--runs", o, "--out", root.appendingPathComponent("r.md").path])
            TimedRun.assertClean(report, "report after \(new)", code: 1, words: ["another configuration", "--restart base:0"] + words)
            XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("r.md").path), "no report of stale runs")
            let status = try TimedRun.run(["status", "tiny", "--profile", "t", "--suites", s, "--out", o])
            TimedRun.assertClean(status, "status after \(new)", code: 1, words: ["stale"] + words)
            let baseline = root.appendingPathComponent("b.json")
            let update = try TimedRun.run(["check", "tiny", "--profile", "t", "--suites", s, "--runs", o, "--baseline", baseline.path, "--update-baseline"])
            TimedRun.assertClean(update, "check --update-baseline after \(new)", code: 1, words: ["another configuration"])
            XCTAssertFalse(FileManager.default.fileExists(atPath: baseline.path), "no baseline recorded from stale runs")
        }
    }

    func testACheckThatComparedNothingFailsAndAnAbsurdBandIsRefused() throws {
        try Prerequisite.fashionMNIST()
        let root = try Fault.trainedRoot()
        let o = Fault.out(root).path, s = Fault.suites(root)
        let baseline = root.appendingPathComponent("b.json")
        let common = ["check", "tiny", "--profile", "t", "--suites", s, "--runs", o, "--baseline", baseline.path]
        TimedRun.assertClean(try TimedRun.run(common + ["--update-baseline"]), "record", code: 0)
        TimedRun.assertClean(try TimedRun.run(common), "same runs", code: 0, words: ["check passed"])
        let recorded = try JSONSerialization.jsonObject(with: Data(contentsOf: baseline)) as! [String: Any]
        func write(_ change: (inout [String: Any]) -> Void) throws {
            var b = recorded
            change(&b)
            try JSONSerialization.data(withJSONObject: b).write(to: baseline)
        }
        // Another machine class: weights not compared → a failure unless accepted explicitly.
        try write { $0["blas_core"] = "SomeOtherCore" }
        TimedRun.assertClean(try TimedRun.run(common), "other core", code: 1, words: ["weights not compared", "--allow-uncompared-weights"])
        TimedRun.assertClean(try TimedRun.run(common + ["--allow-uncompared-weights"]), "other core, accepted", code: 0, words: ["WARN", "weights not compared"])
        // No seed in common, and no digest at all.
        for digests in [["seed-9": "00"], [String: String]()] {
            try write { b in
                var rows = b["rows"] as! [String: Any]
                for (k, v) in rows { var r = v as! [String: Any]; r["digests"] = digests; rows[k] = r }
                b["rows"] = rows
            }
            TimedRun.assertClean(try TimedRun.run(common), "digests \(digests)", code: 1, words: ["weights not compared"])
        }
        // A band so wide that any accuracy passes.
        try write { $0["k"] = 1e308 }
        TimedRun.assertClean(try TimedRun.run(common), "k 1e308", code: 1, words: [baseline.path, "'k'"])
    }

    /// A run interrupted under one OpenBLAS core resumes only under that core.
    func testResumeUnderAnotherOpenBLASCoreIsRefused() throws {
        try Prerequisite.fashionMNIST()
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("core-resume")
        let args = ["run", "tiny", "--profile", "t", "--only", "base", "--suites", suites.path, "--out", out.path, "--threads", "2"]
        let killed = try TimedRun.run(args + ["--blas-core", "portable"], limit: 300, env: ["RKAN_CRASH_AFTER_STEPS": "4"])
        XCTAssertTrue(killed.timedOut == false && killed.code != 0, "the crash hook ends the first run: \(killed.stderr.suffix(400))")
        let file = out.appendingPathComponent("tiny/t/base/seed-0.h5")
        XCTAssertEqual(try RunFile.readAttributes(file).status, .running)
        XCTAssertEqual(try RunFile.readAttributes(file).blasCore, "Haswell")
        let other = try TimedRun.run(args + ["--blas-core", "Sandybridge"], limit: 300)
        TimedRun.assertClean(other, "resume on another core", code: 1, words: [file.path, "OpenBLAS core Haswell", "Sandybridge", "--blas-core Haswell"])
        XCTAssertEqual(try RunFile.readAttributes(file).status, .running, "the checkpoint is kept")
        let same = try TimedRun.run(args + ["--blas-core", "portable"], limit: 300)
        TimedRun.assertClean(same, "resume on the same core", code: 0)
    }

    /// Ranks started with different seeds must not write one run file together.
    func testRanksThatDisagreeOnTheRunAreRefused() throws {
        try Prerequisite.fashionMNIST()
        let mpirun = try XCTUnwrap(DataParallelTests.mpirun, "mpirun is needed (scripts/setup.sh installs openmpi-bin)")
        let suites = try DataParallelTests.suites(), out = try CLI.tempFolder("dp-disagree")
        func rank(_ seeds: String) -> [String] {
            ["-np", "1", CLI.binary.path, "run", "tiny", "--profile", "t", "--only", "rkan", "--suites", suites.path, "--out", out.path,
             "--threads", "1", "--seeds", seeds, "--ranks", "2"]
        }
        let mpi = ["--oversubscribe", "--allow-run-as-root", "--bind-to", "none", "-x", "OMPI_MCA_mpi_yield_when_idle", "-x", "RKAN_MPI_TIMEOUT"]
        let r = try CLI.run(mpi + rank("0") + [":"] + rank("1"), env: ["OMPI_MCA_mpi_yield_when_idle": "1", "RKAN_MPI_TIMEOUT": "60"],
                            executable: URL(fileURLWithPath: mpirun))
        XCTAssertNotEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("not started with the same request"), r.stderr.suffix(1200).description)
        let files = (FileManager.default.enumerator(atPath: out.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".h5") }
        XCTAssertEqual(files, [], "no run file written")
    }

    /// `--seeds 0,0` is a usage error, not two runs of seed 0.
    func testARepeatedSeedIsRefused() throws {
        let suites = try CLI.tinySuites()
        for cmd in ["run", "status", "plan"] {
            let r = try TimedRun.run([cmd, "tiny", "--profile", "t", "--suites", suites.path, "--seeds", "0,1,0"])
            TimedRun.assertClean(r, cmd, code: 64, words: ["--seeds", "seed 0 twice"])
        }
    }
}
