import Engine
import Foundation
import XCTest
import TestSupport

/// The automatic core choice end to end, on any x86-64 machine: OpenBLAS 0.3.21 falls back to
/// its Prescott kernels on CPUs it does not know (https://github.com/OpenMathLib/OpenBLAS/issues/4267). That fallback is
/// simulated with a tiny preloaded library that reports what such an OpenBLAS reports: like
/// OpenBLAS, it decides at load time, from `OPENBLAS_CORETYPE` — unset, it says "Prescott";
/// set, it passes the real library's answer through. `rkan-repro` must then re-execute itself
/// once with the best core for this CPU's features, say so in one line, and run (and record)
/// that core; a user's own `OPENBLAS_CORETYPE` is never overridden.
final class BLASCoreFallbackTests: XCTestCase {
    private static let shimSource = """
    #define _GNU_SOURCE
    #include <dlfcn.h>
    #include <stdlib.h>
    static char *answer;
    __attribute__((constructor)) static void decide(void) {
        const char *user = getenv("OPENBLAS_CORETYPE");
        if (user == NULL || *user == 0) { answer = "Prescott"; return; }
        char *(*real)(void) = (char *(*)(void))dlsym(RTLD_NEXT, "openblas_get_corename");
        answer = real ? real() : "unknown";
    }
    char *openblas_get_corename(void) { return answer; }
    """

    /// A C compiler: $CC, the Swift toolchain's clang (next to `swift`), or cc.
    private func compiler() throws -> String {
        if let cc = ProcessInfo.processInfo.environment["CC"], !cc.isEmpty { return cc }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            if FileManager.default.isExecutableFile(atPath: "\(dir)/swift"), FileManager.default.isExecutableFile(atPath: "\(dir)/clang") {
                return "\(dir)/clang"
            }
        }
        for cc in ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"] where FileManager.default.isExecutableFile(atPath: cc) { return cc }
        throw Prerequisite.Missing(description: "no C compiler found (set CC, or put the Swift toolchain, which ships clang, on PATH)")
    }

    private func buildShim() throws -> URL {
        let dir = try CLI.tempFolder("blas-shim")
        let source = dir.appendingPathComponent("fallback.c"), library = dir.appendingPathComponent("fallback.so")
        try Self.shimSource.write(to: source, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try compiler())
        p.arguments = ["-shared", "-fPIC", "-o", library.path, source.path, "-ldl"]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "compiling the fallback shim")
        return library
    }

    private func bench(_ env: [String: String]) throws -> (CLI.Result, [String: Any]) {
        let r = try CLI.run(["bench", "resnet18(stem=small,width=0.125)", "--size", "16", "--batch", "2", "--mode", "infer",
                             "--warmup", "1", "--iterations", "1", "--repeats", "1", "--json"], env: env)
        XCTAssertEqual(r.code, 0, r.stderr)
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("{") || $0.hasPrefix("[") }.map(String.init) ?? r.stdout
        let json = try JSONSerialization.jsonObject(with: Data(line.utf8))
        let object = (json as? [[String: Any]])?.first ?? (json as? [String: Any]) ?? [:]
        return (r, object)
    }

    func testAPrescottFallbackIsReplacedByTheBestCoreWithANotice() throws {
        let shim = try buildShim()
        let best = BLASCore.best(for: .current)
        try XCTSkipIf(best == .prescott, "this CPU's best OpenBLAS core is Prescott: there is nothing better to choose")
        let clean = ["LD_PRELOAD": shim.path, "OPENBLAS_CORETYPE": "", "RKAN_BLAS_CORE": "", "RKAN_BLAS_REEXEC": ""]

        let (r, json) = try bench(clean)
        let notice = r.stderr.split(separator: "\n").filter { $0.contains("OpenBLAS core") }
        XCTAssertEqual(notice.count, 1, "one line of notice:\n\(r.stderr)")
        XCTAssertTrue(notice.first?.contains(best.rawValue) == true && notice.first?.contains("Prescott") == true,
                      "the notice names the core chosen and why: \(notice)")
        XCTAssertTrue("\(json)".contains(best.rawValue), "bench reports the core it ran: \(json)")

        // A value the user set is kept, even Prescott: no re-execution, no notice.
        var user = clean
        user["OPENBLAS_CORETYPE"] = "Prescott"
        let (kept, keptJSON) = try bench(user)
        XCTAssertFalse(kept.stderr.contains("OpenBLAS core \(best.rawValue)"), kept.stderr)
        XCTAssertTrue("\(keptJSON)".contains("Prescott"), "\(keptJSON)")
    }
}
