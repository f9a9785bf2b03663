import Foundation
import XCTest
import TestSupport
import Engine
import RunStore

/// `--blas-core` / `RKAN_BLAS_CORE` end to end: the program re-executes itself with the core,
/// says so in one line, runs and records that core, rejects unknown names with exit 64, and
/// leaves a user's `OPENBLAS_CORETYPE` alone; `RKAN_KERNELS`, the cap on the C kernels' build,
/// read at the same start.
final class BLASCoreCLITests: XCTestCase {
    /// A one-step infer benchmark; returns the result and the core of its JSON line.
    private func bench(_ extra: [String], env: [String: String] = [:]) throws -> (CLI.Result, String?) {
        var e = env
        for k in ["OPENBLAS_CORETYPE", "RKAN_BLAS_CORE", "RKAN_BLAS_REEXEC"] where e[k] == nil { e[k] = "" }
        let r = try CLI.run(["bench", "resnet18(stem=small,width=0.125)", "--mode", "infer", "--batch", "2", "--size", "8",
                             "--warmup", "0", "--iterations", "1", "--repeats", "1", "--json"] + extra, env: e)
        let line = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let json = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        return (r, json?["blasCore"] as? String)
    }

    func testExplicitCoreReexecutesAndSaysSo() throws {
        let (r, core) = try bench(["--blas-core", "prescott"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(core, "Prescott")
        let notices = r.stderr.split(separator: "\n").filter { $0.contains("OpenBLAS core") }
        XCTAssertEqual(notices, ["rkan-repro: OpenBLAS core Prescott (--blas-core prescott); --blas-core or OPENBLAS_CORETYPE choose another"])
        let (r2, core2) = try bench([], env: ["RKAN_BLAS_CORE": "Prescott"])
        XCTAssertEqual(r2.code, 0, r2.stderr)
        XCTAssertEqual(core2, "Prescott")
        XCTAssertTrue(r2.stderr.contains("(RKAN_BLAS_CORE=Prescott)"), r2.stderr)
    }

    /// `RKAN_KERNELS` caps the C kernels' build (any build gives the same bytes); a value that names
    /// no build stops the program before the command runs, with exit 64 and the names it takes.
    func testKernelBuildCapFromTheEnvironment() throws {
        for v in ["sse2", "avx2", "avx512", ""] {
            let (r, _) = try bench([], env: ["RKAN_KERNELS": v])
            XCTAssertEqual(r.code, 0, "RKAN_KERNELS=\(v): \(r.stderr)")
        }
        let (r, _) = try bench([], env: ["RKAN_KERNELS": "avx3"])
        XCTAssertEqual(r.code, 64, r.stderr)
        for part in ["RKAN_KERNELS=\"avx3\"", "sse2, avx2, avx512"] { XCTAssertTrue(r.stderr.contains(part), r.stderr) }
        XCTAssertFalse(r.stdout.contains("imagesPerSecond"), "the command did not run")
    }

    /// Commands that compute nothing with OpenBLAS say nothing about its core.
    func testOnlyComputingCommandsNameTheCore() throws {
        var e: [String: String] = [:]
        for k in ["OPENBLAS_CORETYPE", "RKAN_BLAS_REEXEC"] { e[k] = "" }
        e["RKAN_BLAS_CORE"] = "Prescott"
        for args in [["list"], ["data", "check", "fashion-mnist"]] {
            let r = try CLI.run(args, env: e)
            XCTAssertFalse(r.stderr.contains("OpenBLAS core"), "\(args): \(r.stderr)")
        }
        let (r, _) = try bench([], env: ["RKAN_BLAS_CORE": "Prescott"])
        XCTAssertEqual(r.stderr.components(separatedBy: "OpenBLAS core").count - 1, 1, r.stderr)
    }

    /// `plan --slurm` passes the core it was given to every task (a seed's bytes depend on it),
    /// from the option or the variable; without a choice the tasks choose per node.
    func testPlanPassesTheCoreOnToItsTasks() throws {
        let suites = try CLI.tinySuites()
        for (extra, env, expected) in [(["--blas-core", "prescott"], [String: String](), "--blas-core prescott"),
                                       ([], ["RKAN_BLAS_CORE": "Prescott"], "--blas-core Prescott"),
                                       ([], [:], nil)] as [([String], [String: String], String?)] {
            var e = env
            for k in ["OPENBLAS_CORETYPE", "RKAN_BLAS_CORE", "RKAN_BLAS_REEXEC"] where e[k] == nil { e[k] = "" }
            let out = try CLI.tempFolder("plan-core")
            let r = try CLI.run(["plan", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--slurm"] + extra, env: e)
            XCTAssertEqual(r.code, 0, r.stderr)
            let script = try String(contentsOf: out.appendingPathComponent("tiny/t/slurm/job.sbatch"), encoding: .utf8)
            if let expected {
                XCTAssertTrue(script.contains(" \(expected)"), "\(extra) \(env): \(script)")
            } else {
                XCTAssertFalse(script.contains("--blas-core"), script)
            }
        }
    }

    func testPortableIsHaswell() throws {
        try XCTSkipUnless(CPUFeatures.current.isV3, "this CPU lacks AVX2 + FMA (x86-64-v3): the portable core cannot run here")
        let (r, core) = try bench(["--blas-core=portable"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(core, "Haswell")
    }

    func testUserValueIsKeptAndConflictsAreUsageErrors() throws {
        let (r, core) = try bench([], env: ["OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(core, "Prescott", "a user's OPENBLAS_CORETYPE is never overridden, even when it is slow")
        XCTAssertFalse(r.stderr.contains("OpenBLAS core"), "no re-exec, no notice: \(r.stderr)")
        let (c, _) = try bench(["--blas-core", "best"], env: ["OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(c.code, 64)
        XCTAssertTrue(c.stderr.contains("OPENBLAS_CORETYPE=Prescott"), c.stderr)
        let (u, _) = try bench(["--blas-core", "Skylake"])
        XCTAssertEqual(u.code, 64)
        XCTAssertTrue(u.stderr.contains("--blas-core \"Skylake\"") && u.stderr.contains("portable"), u.stderr)
        let (v, _) = try bench([], env: ["RKAN_BLAS_CORE": "fast"])
        XCTAssertEqual(v.code, 64)
        XCTAssertTrue(v.stderr.contains("RKAN_BLAS_CORE \"fast\""), v.stderr)
    }

    /// With the loop guard set (a re-executed process), the program never re-executes again:
    /// here the marker claims a core that did not load, which is an error for an explicit choice.
    func testReexecutedProcessDoesNotLoop() throws {
        let (r, core) = try bench([], env: ["OPENBLAS_CORETYPE": "Prescott", "RKAN_BLAS_REEXEC": "Prescott|--blas-core prescott"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertEqual(core, "Prescott")
        XCTAssertEqual(r.stderr.components(separatedBy: "OpenBLAS core Prescott").count, 2, "one notice: \(r.stderr)")
        let (bad, _) = try bench([], env: ["RKAN_BLAS_REEXEC": "Nehalem|--blas-core nehalem"])
        XCTAssertEqual(bad.code, 1, "the chosen core did not load: \(bad.stderr)")
        XCTAssertTrue(bad.stderr.contains("OPENBLAS_CORETYPE=Nehalem did not take effect"), bad.stderr)
    }

    /// The run file records the core that ran.
    func testRunFileRecordsTheCore() throws {
        try Prerequisite.fashionMNIST()
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("core")
        let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--threads", "2",
                             "--only", "base", "--blas-core", "Prescott"], env: ["OPENBLAS_CORETYPE": "", "RKAN_BLAS_CORE": ""])
        XCTAssertEqual(r.code, 0, r.stderr)
        let rec = try RunFile.read(out.appendingPathComponent("tiny/t/base/seed-0.h5"))
        XCTAssertEqual(rec.attributes.blasCore, "Prescott")
    }
}
