import Foundation
import XCTest

/// `rkan-repro plan` without a cluster: the run list, the files of `--slurm`, and its errors.
final class PlanCLITests: XCTestCase {
    func testPlanListsRunsAndWritesTheSlurmFiles() throws {
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("plan")
        let list = try CLI.run(["plan", "tiny", "--profile", "t", "--seeds", "3,4", "--suites", suites.path, "--out", out.path])
        XCTAssertEqual(list.code, 0, list.stderr)
        XCTAssertEqual(list.stdout.split(separator: "\n").map { $0.split(separator: "\t").prefix(3).joined(separator: " ") },
                       ["index experiment seed", "0 base 3", "1 base 4", "2 rkan 3", "3 rkan 4"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("tiny").path), "no --slurm: nothing written")

        let written = try CLI.run(["plan", "tiny", "--profile", "t", "--only", "rkan", "--slurm", "--partition", "debug",
                                   "--mem", "2G", "--suites", suites.path, "--out", out.path],
                                  env: ["RKAN_WINO_GEMM": "openblas", "RKAN_CONV_ALGO": ""])
        XCTAssertEqual(written.code, 0, written.stderr)
        let folder = out.appendingPathComponent("tiny/t/slurm")
        let script = try String(contentsOf: folder.appendingPathComponent("job.sbatch"), encoding: .utf8)
        XCTAssertTrue(script.contains("#SBATCH --array=0-0\n#SBATCH --cpus-per-task=2\n"), script)
        XCTAssertTrue(script.contains("#SBATCH --partition=debug\n") && script.contains("#SBATCH --mem=2G\n"), script)
        // The binary that wrote the plan, by its absolute path.
        XCTAssertTrue(script.contains("exec \(CLI.binary.resolvingSymlinksInPath().path) run tiny --profile t "), script)
        // The conv settings of the planning shell (the algorithm's default, the GEMM asked for) reach every task.
        XCTAssertTrue(script.contains("\nexport RKAN_CONV_ALGO=winograd-mixed RKAN_WINO_GEMM=openblas\nexec "), script)
        XCTAssertTrue(written.stdout.contains("submit with: sbatch \(folder.path)/job.sbatch"), written.stdout)
    }

    func testSubmitWithoutSbatchSaysSo() throws {
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("nosbatch")
        let r = try CLI.run(["plan", "tiny", "--profile", "t", "--slurm", "--submit", "--suites", suites.path, "--out", out.path],
                            env: ["PATH": "/nonexistent"])
        XCTAssertEqual(r.code, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("sbatch was not found on PATH"), r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("tiny/t/slurm/job.sbatch").path),
                      "the script is written anyway, to submit elsewhere")
    }

    func testUsageErrors() throws {
        let suites = try CLI.tinySuites()
        for (args, message) in [(["--submit"], "--submit needs --slurm"), (["--slurm", "--time", "2h"], "--time"),
                                (["--slurm", "--cpus-per-task", "0"], "--cpus-per-task")] {
            let r = try CLI.run(["plan", "tiny", "--profile", "t", "--suites", suites.path] + args)
            XCTAssertEqual(r.code, 64, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        let unknown = try CLI.run(["plan", "tiny", "--profile", "nope", "--suites", suites.path])
        XCTAssertEqual(unknown.code, 1)
        XCTAssertTrue(unknown.stderr.contains("no profile 'nope'"), unknown.stderr)
    }
}
