import Foundation
import XCTest
import TestSupport
@testable import Harness

/// `SlurmPlan`: the task table and the batch script, checked as text and by running the
/// script's lookup with bash against a fake binary that records its arguments.
final class SlurmPlanTests: XCTestCase {
    private func plan(seeds: [Int] = [0, 1], resources: SlurmResources = SlurmResources(cpusPerTask: 3),
                      out: String = "/scratch/runs", data: URL? = nil, binary: String = "/opt/rkan/bin/rkan-repro") throws -> SlurmPlan {
        let suite = try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml")
        let runs = try suite.runs(profile: "smoke", seeds: seeds)
        return SlurmPlan(suite: "demo", profile: "smoke", runs: runs, binary: URL(fileURLWithPath: binary), out: URL(fileURLWithPath: out, isDirectory: true),
                         suitesFolder: URL(fileURLWithPath: "/home/me/rkan/Suites", isDirectory: true), dataFolder: data,
                         workingDirectory: URL(fileURLWithPath: "/home/me/rkan", isDirectory: true), resources: resources)
    }

    func testPlanTSVListsEveryRunInPlanOrder() throws {
        let p = try plan()
        XCTAssertEqual(p.planTSV(), """
        index\texperiment\tseed\trun_file
        0\tresnet101\t0\t/scratch/runs/demo/smoke/resnet101/seed-0.h5
        1\tresnet101\t1\t/scratch/runs/demo/smoke/resnet101/seed-1.h5
        2\trkanet101\t0\t/scratch/runs/demo/smoke/rkanet101/seed-0.h5
        3\trkanet101\t1\t/scratch/runs/demo/smoke/rkanet101/seed-1.h5

        """)
        XCTAssertEqual(p.folder, "/scratch/runs/demo/smoke/slurm")
        XCTAssertEqual(p.scriptPath, "/scratch/runs/demo/smoke/slurm/job.sbatch")
    }

    func testScriptDirectives() throws {
        let lines = try plan().script().split(separator: "\n").map(String.init)
        let directives = lines.filter { $0.hasPrefix("#SBATCH ") }.map { String($0.dropFirst(8)) }
        XCTAssertEqual(directives, ["--job-name=rkan-demo-smoke", "--array=0-3", "--cpus-per-task=3",
                                    "--output=/scratch/runs/demo/smoke/slurm/logs/task-%a.log", "--open-mode=append",
                                    "--requeue", "--chdir=/home/me/rkan"])
        // sbatch reads directives only up to the first command: all of them must come before it.
        let firstCommand = lines.firstIndex { !$0.hasPrefix("#") && !$0.isEmpty }!
        XCTAssertLessThan(lines.lastIndex { $0.hasPrefix("#SBATCH") }!, firstCommand)
        XCTAssertEqual(lines[0], "#!/bin/bash")

        let full = try plan(seeds: [7], resources: SlurmResources(partition: "gpu,cpu", cpusPerTask: 8, time: "1-02:00:00", memory: "16G"))
        let d2 = full.script().split(separator: "\n").filter { $0.hasPrefix("#SBATCH ") }
        XCTAssertTrue(d2.contains("#SBATCH --array=0-1"), "\(d2)")
        XCTAssertTrue(d2.contains("#SBATCH --partition=gpu,cpu"))
        XCTAssertTrue(d2.contains("#SBATCH --time=1-02:00:00"))
        XCTAssertTrue(d2.contains("#SBATCH --mem=16G"))
    }

    /// With ranks per run, each task asks for that many Slurm tasks and starts them with srun's
    /// PMIx plugin (a failed rank ends the step), or with mpirun; `run --ranks` states the count.
    func testRanksPerRunStartTheRunUnderSrunOrMpirun() throws {
        let p = try plan(resources: SlurmResources(cpusPerTask: 2, ranksPerRun: 4))
        let script = p.script()
        XCTAssertTrue(script.contains("#SBATCH --ntasks=4\n"), script)
        XCTAssertTrue(p.runCommand().hasPrefix("srun --mpi=pmix --kill-on-bad-exit=1 --ntasks=4 --cpus-per-task=2 "), p.runCommand())
        XCTAssertTrue(p.runCommand().hasSuffix(" --ranks 4"), p.runCommand())
        let m = try plan(resources: SlurmResources(ranksPerRun: 2, launcher: .mpirun))
        XCTAssertTrue(m.runCommand().hasPrefix("mpirun -np 2 --bind-to none "), m.runCommand())
        XCTAssertFalse(try plan().script().contains("--ntasks"), "one rank: no --ntasks, no launcher")
        XCTAssertFalse(try plan().runCommand().contains("--ranks"))
        // The core plan was given reaches every task (a seed's bytes depend on it); none without one.
        XCTAssertTrue(try plan(resources: SlurmResources(blasCore: "portable")).runCommand().contains(" --blas-core portable"))
        XCTAssertFalse(try plan().runCommand().contains("--blas-core"))
        // The conv settings plan resolved are exported to every task and, under mpirun, to every rank.
        let conv = SlurmResources(ranksPerRun: 2, launcher: .mpirun, convAlgorithm: "winograd-mixed", winogradGEMM: "own")
        let cp = try plan(resources: conv)
        XCTAssertTrue(cp.script().contains("\nexport RKAN_CONV_ALGO=winograd-mixed RKAN_WINO_GEMM=own\nexec "), cp.script())
        XCTAssertTrue(cp.runCommand().hasPrefix("mpirun -np 2 --bind-to none -x RKAN_CONV_ALGO -x RKAN_WINO_GEMM "), cp.runCommand())
        XCTAssertFalse(try plan().script().contains("export "), "nothing resolved: nothing exported")
        XCTAssertThrowsError(try SlurmResources(ranksPerRun: 3).validate()) { e in
            XCTAssertTrue("\(e)".contains("--ranks-per-run") && "\(e)".contains("1, 2, 4, 8"), "\(e)")
        }
    }

    /// Runs the script as Slurm would for each task, with a fake binary: each task must run
    /// exactly its run, with absolute paths and the task's CPU count as --threads.
    func testEachTaskRunsItsOwnRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slurmplan-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let fake = dir.appendingPathComponent("fake rkan-repro")  // a space: the path must be quoted
        try "#!/bin/sh\nfor a in \"$@\"; do printf '%s|' \"$a\"; done\n".write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        let out = dir.appendingPathComponent("my runs")
        let p = try plan(out: out.path, data: URL(fileURLWithPath: "/data/sets"), binary: fake.path)
        try SlurmSubmission.write(p)
        XCTAssertTrue(FileManager.default.fileExists(atPath: p.logsFolder), "logs/ must exist before sbatch")
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: p.scriptPath))
        let expected = [(0, "resnet101", 0), (1, "resnet101", 1), (2, "rkanet101", 0), (3, "rkanet101", 1)]
        for (task, id, seed) in expected {
            let r = try shell(p.scriptPath, env: ["SLURM_ARRAY_TASK_ID": "\(task)", "SLURM_CPUS_PER_TASK": "5"])
            XCTAssertEqual(r.code, 0, r.output)
            let args = r.output.split(separator: "\n").last.map(String.init) ?? ""
            XCTAssertEqual(args, "run|demo|--profile|smoke|--only|\(id)|--seeds|\(seed)|--runs|\(out.path)|--threads|5|--data|/data/sets|--suites|/home/me/rkan/Suites|")
            XCTAssertTrue(r.output.contains("\(id) seed \(seed) -> \(out.path)/demo/smoke/\(id)/seed-\(seed).h5"), r.output)
        }
        let missing = try shell(p.scriptPath, env: ["SLURM_ARRAY_TASK_ID": "4"])
        XCTAssertNotEqual(missing.code, 0)
        XCTAssertTrue(missing.output.contains("task 4 has no line"), missing.output)
        let unset = try shell(p.scriptPath, env: [:])
        XCTAssertNotEqual(unset.code, 0, "outside Slurm the script must refuse to run")
    }

    func testQuoting() {
        XCTAssertEqual(SlurmPlan.quote("/a/b-c_d.e"), "/a/b-c_d.e")
        XCTAssertEqual(SlurmPlan.quote("/a b"), "'/a b'")
        XCTAssertEqual(SlurmPlan.quote("it's"), "'it'\\''s'")
        XCTAssertEqual(SlurmPlan.quote("$HOME"), "'$HOME'")
        XCTAssertEqual(SlurmPlan.quote(""), "''")
    }

    func testResourceValidation() {
        XCTAssertNoThrow(try SlurmResources(partition: "debug", cpusPerTask: 4, time: "02:00:00", memory: "4G").validate())
        for t in ["30", "1:30", "12:00:00", "2-00", "2-12:30", "2-12:30:00"] {
            XCTAssertTrue(SlurmResources.isSlurmTime(t), t)
        }
        for t in ["2h", "1:2:3:4", "-1", "12:00:00 ", "a"] {
            XCTAssertFalse(SlurmResources.isSlurmTime(t), t)
        }
        let bad: [(SlurmResources, String)] = [
            (SlurmResources(cpusPerTask: 0), "--cpus-per-task"), (SlurmResources(time: "2 hours"), "--time"),
            (SlurmResources(memory: "4GB"), "--mem"), (SlurmResources(partition: "a b"), "--partition"),
            (SlurmResources(partition: "x;rm"), "--partition"),
        ]
        for (r, option) in bad {
            XCTAssertThrowsError(try r.validate()) { XCTAssertTrue("\($0)".contains(option), "\($0)") }
        }
    }

    private func shell(_ script: String, env: [String: String]) throws -> (code: Int32, output: String) {
        var e = ProcessInfo.processInfo.environment
        e["SLURM_ARRAY_TASK_ID"] = nil
        e["SLURM_CPUS_PER_TASK"] = nil
        for (k, v) in env { e[k] = v }
        return try runCapturingOutput(URL(fileURLWithPath: "/bin/bash"), [script], environment: e)
    }
}
