import Foundation
import XCTest
import RunStore
import Harness
import TestSupport

/// `plan --slurm --submit` on a real Slurm cluster (scripts/slurm-local.sh start): the array's
/// run files must equal local `rkan-repro run` runs byte for byte in their weights, and a task
/// killed mid-run must be finished by resubmitting the same plan.
///
/// Needs a running cluster (scripts/test.sh starts one); without one the tests fail, or skip with RKAN_ALLOW_SKIPS=1.
final class SlurmTests: XCTestCase {
    static let seeds = [0, 1]
    static let ids = ["base", "rkan"]
    /// Local reference runs, made once for both tests.
    nonisolated(unsafe) static var reference: (suites: URL, out: URL)?

    override func setUpWithError() throws {
        try Prerequisite.require(Self.which("sbatch") != nil && Self.which("sinfo") != nil, "a Slurm cluster (sbatch and sinfo on PATH)",
                                 fix: "scripts/test.sh starts a one-node cluster (scripts/slurm-local.sh start, as root)")
        let up = (try? CLI.runProcess("/usr/bin/env", ["sinfo", "--noheader"])) == 0
        try Prerequisite.require(up, "a running Slurm cluster (sinfo failed)", fix: "run scripts/slurm-local.sh start (as root)")
        try Prerequisite.fashionMNIST()
    }

    func testArrayJobGivesTheSameRunsAndReportAsLocalRuns() throws {
        let (suites, local) = try Self.localReference()
        let out = try CLI.tempFolder("slurm")
        let t0 = Date()
        let job = try submitPlan(suites: suites, out: out)
        try waitForJob(job, out: out)
        print("slurm: array job \(job) (4 runs) took \(Int(Date().timeIntervalSince(t0))) s")
        try assertSameRuns(out, local)
        for task in 0..<4 {
            let log = try String(contentsOf: logsFolder(out).appendingPathComponent("task-\(task).log"), encoding: .utf8)
            XCTAssertTrue(log.contains("task \(task) on "), log)
        }
        let status = try CLI.run(["status", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path])
        XCTAssertEqual(status.code, 0, status.stderr)
        XCTAssertTrue(status.stdout.hasPrefix("tiny (profile t): 4 runs: 4 finished\n"), status.stdout)

        // `report` over the Slurm folder and over the local folder.
        let reports = try CLI.tempFolder("reports")
        var texts: [String] = []
        for (name, runs) in [("slurm", out), ("local", local)] {
            let r = try CLI.run(["report", "tiny", "--profile", "t", "--suites", suites.path, "--runs", runs.path,
                                 "--out", reports.appendingPathComponent("\(name)/tiny-t.md").path, "--date", "2030-01-01"])
            XCTAssertEqual(r.code, 0, r.stderr)
            texts.append(try String(contentsOf: reports.appendingPathComponent("\(name)/tiny-t.md"), encoding: .utf8))
            for svg in ["tiny-t-curves.svg", "tiny-t-deltas.svg"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: reports.appendingPathComponent("\(name)/\(svg)").path), svg)
            }
        }
        for svg in ["tiny-t-curves.svg", "tiny-t-deltas.svg"] {
            XCTAssertEqual(try Data(contentsOf: reports.appendingPathComponent("slurm/\(svg)")),
                           try Data(contentsOf: reports.appendingPathComponent("local/\(svg)")), "\(svg) differs")
        }
        // The markdown is byte-identical except the measured throughput (each run times itself).
        XCTAssertEqual(Self.maskingThroughput(texts[0]), Self.maskingThroughput(texts[1]))
        XCTAssertTrue(texts[0].contains("| base "), texts[0])
    }

    func testKilledTaskIsFinishedByResubmittingThePlan() throws {
        let (suites, local) = try Self.localReference()
        let out = try CLI.tempFolder("slurm-crash")
        let t0 = Date()
        // Task 1 (base, seed 1) alone, told to SIGKILL itself after 4 steps: mid-epoch 2, after
        // the epoch-1 checkpoint. Only this submission gets the variable.
        let written = try CLI.run(planArguments(suites: suites, out: out))
        XCTAssertEqual(written.code, 0, written.stderr)
        let script = out.appendingPathComponent("tiny/t/slurm/job.sbatch").path
        let crash = try Self.capture("sbatch", ["--parsable", "--array=1", "--export=ALL,RKAN_CRASH_AFTER_STEPS=4", script])
        XCTAssertEqual(crash.code, 0, crash.output)
        try waitForJob(crash.output.split(separator: ";").first.map(String.init) ?? "", out: out)
        let killed = RunPaths.file(out, "base", seed: 1)
        XCTAssertEqual(try RunFile.readAttributes(killed).status, .running)
        XCTAssertEqual(try RunFile.read(killed).state.epoch, 1)
        let lock = killed.path + ".lock"
        XCTAssertTrue(FileManager.default.fileExists(atPath: lock), "SIGKILL leaves the lock behind")
        let before = try CLI.run(["status", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path])
        XCTAssertTrue(before.stdout.contains("running (epoch 1/3)") && before.stdout.contains("(stale: process gone)"), before.stdout)

        // Resubmit the whole plan: the stale lock is taken over, task 1 resumes, the rest train.
        let job = try submitPlan(suites: suites, out: out)
        try waitForJob(job, out: out)
        print("slurm: crash + resubmit took \(Int(Date().timeIntervalSince(t0))) s")
        let log1 = try String(contentsOf: logsFolder(out).appendingPathComponent("task-1.log"), encoding: .utf8)
        XCTAssertTrue(log1.contains("taken over"), log1)
        XCTAssertTrue(log1.contains("resuming after epoch 1"), log1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock))
        try assertSameRuns(out, local)
    }

    /// `plan --slurm --ranks-per-run 2`: each array task is one run on 2 MPI ranks started by
    /// `srun --mpi=pmix`; the weights equal the local single-process runs'.
    func testTwoRanksPerRunGiveTheLocalSingleProcessBytes() throws {
        let (suites, local) = try Self.localReference()
        let out = try CLI.tempFolder("slurm-ranks")
        let job = try submitPlan(suites: suites, out: out, extra: ["--ranks-per-run", "2"])
        try waitForJob(job, out: out)
        try assertSameRuns(out, local)
        for id in Self.ids { for seed in Self.seeds {
            XCTAssertEqual(try RunFile.readAttributes(RunPaths.file(out, id, seed: seed)).ranks, 2, "\(id) seed \(seed)")
        } }
        let log = try String(contentsOf: logsFolder(out).appendingPathComponent("task-0.log"), encoding: .utf8)
        XCTAssertTrue(log.contains("data-parallel: 2 ranks"), log)
    }

    // MARK: Helpers

    /// The tiny suite with seeds 0 and 1 (so that `report` covers both), trained locally on 1 thread.
    static func localReference() throws -> (URL, URL) {
        if let r = reference { return (r.suites, r.out) }
        let suites = try CLI.tinySuites()
        let yaml = suites.appendingPathComponent("tiny.yaml")
        let text = try String(contentsOf: yaml, encoding: .utf8)
        XCTAssertTrue(text.contains("seeds: [0]\n"))
        try text.replacingOccurrences(of: "seeds: [0]\n", with: "seeds: [0, 1]\n").write(to: yaml, atomically: true, encoding: .utf8)
        let out = try CLI.tempFolder("slurm-local")
        let t0 = Date()
        let r = try CLI.run(["run", "tiny", "--profile", "t", "--seeds", "0,1", "--suites", suites.path, "--out", out.path, "--threads", "1"])
        XCTAssertEqual(r.code, 0, r.stderr)
        print("slurm: local reference (4 runs, 1 thread) took \(Int(Date().timeIntervalSince(t0))) s")
        reference = (suites, out)
        return (suites, out)
    }

    private func planArguments(suites: URL, out: URL) -> [String] {
        ["plan", "tiny", "--profile", "t", "--seeds", "0,1", "--slurm", "--cpus-per-task", "1", "--time", "00:20:00",
         "--suites", suites.path, "--out", out.path]
    }

    /// `plan --slurm --submit`; returns the job id it prints.
    private func submitPlan(suites: URL, out: URL, extra: [String] = []) throws -> String {
        let r = try CLI.run(planArguments(suites: suites, out: out) + extra + ["--submit"])
        XCTAssertEqual(r.code, 0, r.stderr)
        guard let line = r.stdout.split(separator: "\n").first(where: { $0.hasPrefix("submitted job ") }),
              let id = line.split(separator: " ").last, Int(id) != nil else {
            XCTFail("no job id in: \(r.stdout) \(r.stderr)")
            throw SlurmTestError.noJob
        }
        return String(id)
    }

    /// Polls `squeue` until the job has left the queue (cancels it and fails after 15 minutes).
    private func waitForJob(_ id: String, out: URL, timeout: TimeInterval = 900) throws {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            let q = try Self.capture("squeue", ["-h", "-j", id, "-o", "%i %T"])
            if q.code != 0 || q.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            Thread.sleep(forTimeInterval: 2)
        }
        _ = try? Self.capture("scancel", [id])
        let logs = (try? FileManager.default.contentsOfDirectory(atPath: logsFolder(out).path)) ?? []
        let tails = logs.sorted().map { name in
            "\(name): " + String((try? String(contentsOf: logsFolder(out).appendingPathComponent(name), encoding: .utf8))?.suffix(800) ?? "")
        }
        XCTFail("job \(id) still queued after \(Int(timeout)) s (cancelled):\n\(tails.joined(separator: "\n"))")
        throw SlurmTestError.timeout
    }

    private func logsFolder(_ out: URL) -> URL { out.appendingPathComponent("tiny/t/slurm/logs") }

    /// Every run of `out` is finished with the same weights, digest, optimizer state and metrics as in `local`.
    private func assertSameRuns(_ out: URL, _ local: URL) throws {
        for id in Self.ids {
            for seed in Self.seeds {
                let a = try RunFile.read(RunPaths.file(out, id, seed: seed)), b = try RunFile.read(RunPaths.file(local, id, seed: seed))
                XCTAssertEqual(a.attributes.status, .finished, "\(id) seed \(seed)")
                XCTAssertEqual(a.attributes.threads, 1)
                XCTAssertEqual(a.weights, b.weights, "\(id) seed \(seed): weights differ from the local run")
                XCTAssertEqual(a.attributes.weightsSHA256, b.attributes.weightsSHA256, "\(id) seed \(seed)")
                XCTAssertEqual(a.optimizer, b.optimizer, "\(id) seed \(seed)")
                var ma = a.metrics, mb = b.metrics
                ma["epoch_seconds"] = nil; mb["epoch_seconds"] = nil
                XCTAssertEqual(ma, mb, "\(id) seed \(seed)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: RunPaths.file(out, id, seed: seed).path + ".lock"))
            }
        }
    }

    /// The markdown with the numbers of the measured-throughput columns (`train img/s`,
    /// `infer img/s`, `speed ratio`) replaced by `#`: each run times itself, so these differ.
    static func maskingThroughput(_ markdown: String) -> String {
        var masked: [String] = []
        var columns: Set<Int> = []
        for line in markdown.components(separatedBy: "\n") {
            guard line.hasPrefix("|") else { columns = []; masked.append(line); continue }
            var cells = line.components(separatedBy: "|")
            if columns.isEmpty {
                columns = Set(cells.indices.filter {
                    cells[$0].contains("img/s") || cells[$0].trimmingCharacters(in: .whitespaces) == "speed ratio"
                })
            } else {
                for c in columns where c < cells.count { cells[c] = cells[c].replacingOccurrences(of: #"[0-9.]+"#, with: "#", options: .regularExpression) }
            }
            masked.append(cells.joined(separator: "|"))
        }
        return masked.joined(separator: "\n")
    }

    static func which(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a program found on PATH; returns its exit code and stdout + stderr.
    static func capture(_ name: String, _ args: [String]) throws -> (code: Int32, output: String) {
        try runCapturingOutput(URL(fileURLWithPath: which(name) ?? name), args)
    }
}

enum SlurmTestError: Error { case noJob, timeout }

/// Run files of the tiny suite's profile `t`.
private enum RunPaths {
    static func file(_ out: URL, _ id: String, seed: Int) -> URL {
        RunTree(out: out).file(for: RunSlot(suite: "tiny", profile: "t", experiment: id, seed: seed))
    }
}
