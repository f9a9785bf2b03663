import Foundation
import XCTest
import TestSupport

/// The benchmark tools' own checks, so every CI run makes them: the statistics of
/// Tools/bench/noise.py (alternated rounds, heavy rounds run again and left out, the speed probe
/// judged against the session's fastest) run their self-test, every Tools command prints its
/// --help, and `rkan-bench sgemm` takes the probe's options. The benchmarks themselves need
/// PyTorch and quiet minutes and are never run by the tests.
final class BenchToolsTests: XCTestCase {
    /// Runs `python3 -m MODULE` (the h5py interpreter) in the repository root: exit status and
    /// stdout with stderr.
    private func runTool(_ module: String, _ arguments: [String] = []) throws -> (status: Int32, text: String) {
        let python = try H5pyPython.require()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-m", module] + arguments
        p.currentDirectoryURL = CLI.root
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    func testNoiseStatisticsSelfTest() throws {
        let r = try runTool("Tools.bench.noise")
        XCTAssertEqual(r.status, 0, r.text)
        XCTAssertTrue(r.text.contains("noise.py self-test: ok"), r.text)
    }

    /// `rkan-bench conv` reads RKAN_CONV_ALGO and RKAN_WINO_GEMM as rkan-repro does: a value they
    /// do not name stops it before anything is timed, naming the variable.
    func testConvBenchRefusesAnUnknownAlgorithmOrGEMM() throws {
        let bench = CLI.binary.deletingLastPathComponent().appendingPathComponent("rkan-bench")
        for (variable, value) in [("RKAN_WINO_GEMM", "fast"), ("RKAN_CONV_ALGO", "winograd")] {
            let r = try CLI.run(["conv", "--batch", "1", "--repeats", "1"], env: [variable: value], executable: bench)
            XCTAssertNotEqual(r.code, 0, "\(variable)=\(value): \(r.stdout)")
            XCTAssertFalse(r.killedBySignal)
            XCTAssertTrue(r.stderr.contains(variable), r.stderr)
            XCTAssertFalse(r.stdout.contains("GFLOP"), "it timed convs: \(r.stdout)")
        }
    }

    /// `where_time_goes.py` puts every C kernel symbol of the release binary (each build, the
    /// entry points the SSE2 build is inlined into, the own Winograd GEMM) in its category: a
    /// kernel it did not know would land in "other" and the tables would be quietly wrong.
    func testWhereTimeGoesKnowsEveryKernelSymbol() throws {
        let r = try runTool("Tools.bench.where_time_goes", ["--self-test", "--binary", CLI.binary.path])
        XCTAssertEqual(r.status, 0, r.text)
        XCTAssertTrue(r.text.contains("where_time_goes self-test: ok"), r.text)
    }

    /// `rkan-repro bench --json` reports how many threads were busy over the timed steps (the
    /// process's CPU time per wall second): the idle part of a step that profiles cannot sample. On
    /// one thread that is at most one thread's worth, and a CPU-bound step keeps it well above zero.
    /// The warm-up outlasts OpenBLAS's start: its pool's workers spin in `sched_yield` for about
    /// 0.1 s after the library loads (they never get work: the engine calls it single-threaded),
    /// which a timed window that early counts as a second busy thread.
    func testBenchReportsBusyThreads() throws {
        for threads in [1, 2] {
            let r = try CLI.run(["bench", "resnet18(stem=small,width=0.25)", "--mode", "train", "--batch", "4", "--size", "16",
                                 "--warmup", "60", "--iterations", "20", "--repeats", "1", "--threads", "\(threads)", "--json"])
            XCTAssertEqual(r.code, 0, r.stderr)
            let line = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
            let json = try XCTUnwrap((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any], line)
            let busy = try XCTUnwrap(json["busyThreads"] as? Double, line)
            XCTAssertGreaterThan(busy, 0.2, line)
            XCTAssertLessThanOrEqual(busy, Double(threads) + 0.1, line)
        }
    }

    /// `gemm_flops.py`'s shim counts the engine's own Winograd GEMM (a call inside the binary, which
    /// it reports to the shim) as it counts OpenBLAS: one training step gives the same GEMM flops
    /// under either Winograd GEMM. Without that hook the bound and the non-GEMM share of the default
    /// engine would leave the Winograd products out.
    func testGEMMShimSeesTheOwnWinogradGEMM() throws {
        let r = try runTool("Tools.bench.gemm_flops", ["--self-test", "--binary", CLI.binary.path])
        XCTAssertEqual(r.status, 0, r.text)
        XCTAssertTrue(r.text.contains("gemm_flops self-test: ok"), r.text)
    }

    /// Every Tools/ command prints its --help (Tools/dev/check_help.py: each help text formats under
    /// argparse, and each tool that starts without PyTorch runs with --help).
    func testEveryToolPrintsItsHelp() throws {
        let r = try runTool("Tools.dev.check_help")
        XCTAssertEqual(r.status, 0, r.text)
        XCTAssertTrue(r.text.contains("check_help: ok"), r.text)
    }

    /// `rkan-bench sgemm --sizes 256 --cblas-only --json` (the benchmarks' speed probe, at a test's
    /// size) prints one object for n = 256 with a positive rate and no engine rate; a bad size is
    /// refused with a message naming the option.
    func testSgemmProbeSizes() throws {
        let bench = CLI.binary.deletingLastPathComponent().appendingPathComponent("rkan-bench")
        let r = try CLI.run(["sgemm", "--threads", "1", "--repeats", "1", "--sizes", "256", "--cblas-only", "--json"],
                            executable: bench)
        XCTAssertEqual(r.code, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, r.stdout)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(object["n"] as? Int, 256)
        XCTAssertGreaterThan(try XCTUnwrap(object["gflops"] as? Double), 0)
        XCTAssertNil(object["engine_gflops"], r.stdout)
        let bad = try CLI.run(["sgemm", "--sizes", "1024,x"], executable: bench)
        XCTAssertNotEqual(bad.code, 0)
        XCTAssertFalse(bad.killedBySignal)
        XCTAssertTrue(bad.stderr.contains("--sizes"), bad.stderr)
    }
}
