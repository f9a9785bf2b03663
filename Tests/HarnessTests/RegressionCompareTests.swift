import XCTest
import RunStore
@testable import Harness

/// `RegressionCheck.compare`: weight digests are compared only within one machine class
/// (BLAS core, threads, 3×3 conv algorithm and, for a Winograd one, the Winograd GEMM); params and
/// the accuracy band always.
final class RegressionCompareTests: XCTestCase {
    func baseline(conv: String?, digest: String, top1: [Double] = [80, 81, 82]) -> RegressionCheck.Baseline {
        RegressionCheck.Baseline(suite: "s", profile: "p", blasCore: "Zen", threads: 2, convAlgorithm: conv,
                                 k: 3, minStd: 0.5, speedTolerance: 0.3,
                                 rows: ["base": .init(params: 10, top1: top1, digests: ["seed-0": digest], inferImgPerSec: nil)])
    }

    func testDigestsCompareOnlyWithinOneConvAlgorithm() {
        let old = baseline(conv: nil, digest: "aaa")   // recorded before the attribute: im2col
        let sameAlgo = RegressionCheck.compare(current: baseline(conv: "im2col", digest: "bbb"), baseline: old)
        XCTAssertFalse(sameAlgo.passed)
        XCTAssertTrue(sameAlgo.summary.contains("FAIL base digest"), sameAlgo.summary)
        let refused = RegressionCheck.compare(current: baseline(conv: "winograd-f4", digest: "bbb"), baseline: old)
        XCTAssertFalse(refused.passed, "weights that were not compared fail unless accepted explicitly: \(refused.summary)")
        XCTAssertTrue(refused.summary.contains("--allow-uncompared-weights"), refused.summary)
        let otherAlgo = RegressionCheck.compare(current: baseline(conv: "winograd-f4", digest: "bbb"), baseline: old, allowUncompared: true)
        XCTAssertTrue(otherAlgo.passed, otherAlgo.summary)
        XCTAssertFalse(otherAlgo.findings.contains { $0.check == "digest" && !$0.warning }, "no digest verdict across algorithms")
        XCTAssertTrue(otherAlgo.summary.contains("WARN base digest: weights not compared") && otherAlgo.summary.contains("conv algorithm im2col")
                      && otherAlgo.summary.contains("winograd-f4"), "the skipped comparison is said: \(otherAlgo.summary)")
        let same = RegressionCheck.compare(current: baseline(conv: "winograd-f4", digest: "aaa"), baseline: baseline(conv: "winograd-f4", digest: "aaa"))
        XCTAssertTrue(same.passed, same.summary)
        XCTAssertTrue(same.findings.contains { $0.check == "digest" && $0.passed })
        let worse = RegressionCheck.compare(current: baseline(conv: "winograd-f4", digest: "aaa", top1: [60, 61, 62]),
                                            baseline: baseline(conv: "im2col", digest: "aaa"))
        XCTAssertFalse(worse.passed, "the accuracy band applies across algorithms")
    }

    /// The Winograd GEMM is part of the machine class: a baseline without it ran OpenBLAS's.
    func testDigestsCompareOnlyWithinOneWinogradGEMM() {
        let old = baseline(conv: "winograd-mixed", digest: "aaa")   // recorded before the attribute: openblas
        var own = baseline(conv: "winograd-mixed", digest: "bbb")
        own.winogradGEMM = "own"
        let r = RegressionCheck.compare(current: own, baseline: old)
        XCTAssertFalse(r.passed, r.summary)
        XCTAssertTrue(r.summary.contains("weights not compared") && r.summary.contains("Winograd GEMM openblas")
                      && r.summary.contains("winograd-mixed, own"), r.summary)
        var blas = baseline(conv: "winograd-mixed", digest: "bbb")
        blas.winogradGEMM = "openblas"
        let same = RegressionCheck.compare(current: blas, baseline: old)
        XCTAssertFalse(same.passed, "same class, other weights: \(same.summary)")
        XCTAssertTrue(same.summary.contains("weights differ for seed-0 on the same machine class"), same.summary)
        var ownBase = own
        ownBase.rows["base"]!.digests["seed-0"] = "bbb"
        XCTAssertTrue(RegressionCheck.compare(current: own, baseline: ownBase).passed)
    }

    /// im2col runs no Winograd product: its digests compare whatever GEMM either side recorded.
    func testIm2colDigestsCompareAcrossWinogradGEMMs() {
        var own = baseline(conv: "im2col", digest: "aaa")
        own.winogradGEMM = "own"
        let r = RegressionCheck.compare(current: own, baseline: baseline(conv: nil, digest: "aaa"))
        XCTAssertTrue(r.passed, r.summary)
        XCTAssertTrue(r.findings.contains { $0.check == "digest" && $0.passed && !$0.warning }, r.summary)
    }

    /// Runs of one profile made under different byte-deciding settings are refused (naming each
    /// class and its runs) by `check`, and listed in a report's header.
    func testRunsOfSeveralMachineClassesAreRefusedAndReported() throws {
        func attrs(_ id: String, _ seed: Int, conv: String = "winograd-mixed", gemm: String, threads: Int = 2) -> RunAttributes {
            var a = RunAttributes(suite: "s", experiment: id, model: "m", seed: seed, profile: "p", config: "{}", gitCommit: "c",
                                  blasCore: "Haswell", threads: threads, host: "h", status: .finished, convAlgorithm: conv)
            a.winogradGEMM = gemm
            return a
        }
        let one = [attrs("base", 0, gemm: "own"), attrs("rkan", 0, gemm: "own")]
        XCTAssertNoThrow(try RegressionCheck.requireOneMachineClass(one, what: "check s"))
        XCTAssertEqual(ReportGenerator.mixedSettings(one), "")
        // im2col: the GEMM is not part of the class.
        XCTAssertNoThrow(try RegressionCheck.requireOneMachineClass([attrs("a", 0, conv: "im2col", gemm: "own"),
                                                                     attrs("b", 0, conv: "im2col", gemm: "openblas")], what: "check s"))
        for mixed in [[attrs("base", 0, gemm: "own"), attrs("base", 1, gemm: "openblas")],
                      [attrs("base", 0, gemm: "own"), attrs("rkan", 0, gemm: "own", threads: 1)]] {
            XCTAssertThrowsError(try RegressionCheck.requireOneMachineClass(mixed, what: "check s")) { e in
                let t = "\(e)"
                XCTAssertTrue(t.contains("check s") && t.contains("different settings") && t.contains("--restart"), t)
                XCTAssertTrue(t.contains("base seed 0") && (t.contains("base seed 1") || t.contains("rkan seed 0")), t)
            }
            let header = ReportGenerator.mixedSettings(mixed)
            XCTAssertTrue(header.contains("2 different settings") && header.contains("(1 runs)"), header)
        }
    }

    func testACheckThatComparedNoDigestFails() {
        var current = baseline(conv: "im2col", digest: "aaa")
        current.rows["base"]!.digests = ["seed-7": "aaa"]
        let r = RegressionCheck.compare(current: current, baseline: baseline(conv: "im2col", digest: "aaa"))
        XCTAssertFalse(r.passed, r.summary)
        XCTAssertTrue(r.summary.contains("no seed is in both"), r.summary)
        var partial = baseline(conv: "im2col", digest: "aaa")
        partial.rows["base"]!.digests["seed-1"] = "bbb"
        let some = RegressionCheck.compare(current: baseline(conv: "im2col", digest: "aaa"), baseline: partial)
        XCTAssertFalse(some.passed, "a baseline seed that was not run is not a passed comparison: \(some.summary)")
        XCTAssertTrue(some.summary.contains("seed-1 were not run"), some.summary)
        var empty = baseline(conv: "im2col", digest: "aaa")
        empty.rows["base"]!.digests = [:]
        XCTAssertFalse(RegressionCheck.compare(current: baseline(conv: "im2col", digest: "aaa"), baseline: empty).passed)
    }

    func testABandThatChecksNothingIsRefused() throws {
        for (k, minStd, top1) in [(1e308, 0.5, [80.0]), (3, 1e9, [80.0]), (.nan, 0.5, [80.0]), (0, 0.5, [80.0]), (3, 0.5, [Double.nan]), (3, 0.5, [])] {
            var b = baseline(conv: "im2col", digest: "aaa", top1: top1)
            b.k = k; b.minStd = minStd
            XCTAssertThrowsError(try RegressionCheck.validate(b, path: "b.json"), "k \(k) minStd \(minStd) top1 \(top1)") { e in
                XCTAssertTrue("\(e)".contains("b.json"), "\(e)")
            }
        }
        XCTAssertNoThrow(try RegressionCheck.validate(baseline(conv: "im2col", digest: "aaa"), path: "b.json"))
    }
}
