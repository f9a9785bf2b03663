import XCTest
@testable import Engine
import TestSupport

/// `BLAS.sgemm`'s split into single-threaded blocks: every axis against a Double GEMM, the same
/// bytes for 1 and 2 threads, the plan's choices, and nested calls inside a parallel loop.
final class GEMMSplitTests: XCTestCase {
    /// Shapes that take each axis of the plan (checked below), with every transpose combination.
    static let cases: [(m: Int, n: Int, k: Int, axis: GEMMSplit.Axis)] = [
        (1024, 64, 576, .rows),         // conv forward on a chunk: long M, small weight
        (64, 1024, 300, .columns),      // dcol-like: long N
        (64, 96, 8192, .reduction),     // dW of a 1×1 conv: long k, small C
        (40, 50, 60, .none),            // too little work
    ]

    func testPlanTakesTheCheapestAxis() {
        for c in Self.cases {
            let plan = GEMMSplit(m: c.m, n: c.n, k: c.k)
            XCTAssertEqual(plan.axis, c.axis, "\(c)")
            if plan.axis != .none {
                XCTAssertEqual(plan.block % 16, 0, "\(c): block \(plan.block)")
                let length = plan.axis == .rows ? c.m : plan.axis == .columns ? c.n : c.k
                let parts = (length + plan.block - 1) / plan.block
                XCTAssert((2...GEMMSplit.maxParts).contains(parts), "\(c): \(parts) parts")
            }
        }
    }

    /// C = alpha·op(A)·op(B) + beta·C against dgemm on the same Float inputs, then 1 vs 2 threads.
    func testSplitMatchesDoubleGEMMAndIsDeterministic() {
        for (i, c) in Self.cases.enumerated() {
            for (ta, tb) in [(Transpose.none, Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)] {
                let (m, n, k) = (c.m, c.n, c.k)
                let a = testValues(m * k, seed: UInt64(10 * i + 1)).map { Float($0) }
                let b = testValues(k * n, seed: UInt64(10 * i + 2)).map { Float($0) }
                let c0 = testValues(m * n, seed: UInt64(10 * i + 3)).map { Float($0) }
                let (lda, ldb) = (ta == .none ? k : m, tb == .none ? n : k)
                var expected = c0.map(Double.init)
                let (ad, bd) = (a.map(Double.init), b.map(Double.init))
                expected.withUnsafeMutableBufferPointer { e in
                    BLAS.dgemm(ta, tb, m: m, n: n, k: k, alpha: 0.5, a: ad, lda: lda, b: bd, ldb: ldb, beta: 2, c: e.baseAddress!, ldc: n)
                }
                var runs: [[Float]] = []
                for threads in [1, 2] {
                    var out = c0
                    withThreads(threads) {
                        out.withUnsafeMutableBufferPointer { o in
                            BLAS.sgemm(ta, tb, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda, b: b, ldb: ldb, beta: 2, c: o.baseAddress!, ldc: n)
                        }
                    }
                    runs.append(out)
                }
                assertRelative(runs[0], expected, 1e-5, "\(c) \(ta) \(tb)")
                assertSameBytes(runs[0], runs[1], "\(c) \(ta) \(tb)")
            }
        }
    }

    /// A split GEMM called inside a parallel loop runs serially there and gives the same bytes.
    func testNestedCallsGiveTheSameBytes() {
        let (m, n, k) = (1024, 64, 576)
        let a = testValues(m * k, seed: 91).map { Float($0) }, b = testValues(k * n, seed: 92).map { Float($0) }
        var alone = [Float](repeating: 0, count: m * n)
        withThreads(2) {
            alone.withUnsafeMutableBufferPointer { BLAS.sgemm(.none, .none, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: $0.baseAddress!, ldc: n) }
        }
        let copies = 3
        var nested = [Float](repeating: 0, count: copies * m * n)
        withThreads(2) {
            nested.withUnsafeMutableBufferPointer { buf in
                let base = buf.baseAddress!
                Parallel.forEach(copies) { j in
                    XCTAssertTrue(ParallelRegion.isInside || Parallel.threads == 1)
                    BLAS.sgemm(.none, .none, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, beta: 0, c: base + j * m * n, ldc: n)
                }
            }
        }
        XCTAssertFalse(ParallelRegion.isInside, "the calling thread must leave the region")
        for j in 0..<copies { assertSameBytes(Array(nested[(j * m * n)..<((j + 1) * m * n)]), alone, "nested copy \(j)") }
    }
}
