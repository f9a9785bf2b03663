import XCTest
@testable import Harness

/// `RegressionCheck.compare`: weight digests are compared only within one machine class
/// (BLAS core, threads and 3×3 conv algorithm); params and the accuracy band always.
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
