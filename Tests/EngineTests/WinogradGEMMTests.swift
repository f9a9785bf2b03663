import CKernels
import XCTest
@testable import Engine
import TestSupport

/// The own GEMM of the Winograd domain (`rkan_wino_gemm`, `WinogradGEMM.own`): each element of C
/// is one fused multiply-add chain over k from +0, in every build, for shapes with partial row
/// blocks (m not a multiple of 6) and panels of 16, 8 and other widths; it is the default on AVX2 +
/// FMA CPUs, and `RKAN_WINO_GEMM` picks either GEMM for every command.
final class WinogradGEMMTests: XCTestCase {
    static let shapes: [(m: Int, n: Int, k: Int)] = [(1, 8, 1), (5, 16, 3), (7, 24, 17), (13, 40, 64), (6, 64, 64),
                                                     (64, 512, 33), (3, 12, 5)]

    /// C from the kernel for A (m × k) and B given as (k × n) or, transposed, as (n × k).
    func product(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transposed: Bool) -> [Float] {
        var packed = [Float](repeating: .nan, count: n * k), c = [Float](repeating: .nan, count: m * n)
        packed.withUnsafeMutableBufferPointer { p in
            b.withUnsafeBufferPointer { rkan_wino_gemm_pack(p.baseAddress, $0.baseAddress, transposed ? k : n, n, k, transposed ? 1 : 0) }
        }
        c.withUnsafeMutableBufferPointer { cp in
            a.withUnsafeBufferPointer { ap in
                packed.withUnsafeBufferPointer { rkan_wino_gemm(cp.baseAddress, n, ap.baseAddress, k, $0.baseAddress, m, n, k) }
            }
        }
        return c
    }

    func testEveryElementIsOneFusedChainOverK() {
        for (si, s) in Self.shapes.enumerated() {
            for transposed in [false, true] {
                let a = testValues(s.m * s.k, seed: UInt64(10 + si)).map(Float.init)
                let b = testValues(s.n * s.k, seed: UInt64(40 + si)).map(Float.init)
                let c = product(a, b, m: s.m, n: s.n, k: s.k, transposed: transposed)
                var expected = [Float](repeating: 0, count: s.m * s.n)
                for i in 0..<s.m {
                    for j in 0..<s.n {
                        var acc: Float = 0
                        for kk in 0..<s.k {
                            acc = acc.addingProduct(a[i * s.k + kk], transposed ? b[j * s.k + kk] : b[kk * s.n + j])
                        }
                        expected[i * s.n + j] = acc
                    }
                }
                XCTAssertEqual(c.map(\.bitPattern), expected.map(\.bitPattern), "\(s) transposed \(transposed)")
            }
        }
    }

    /// The scalar build (CPUs without FMA, or RKAN_KERNELS=sse2) gives the bytes of the vector one.
    func testEveryKernelBuildGivesTheSameBytes() throws {
        for (si, s) in Self.shapes.enumerated() {
            let a = testValues(s.m * s.k, seed: UInt64(70 + si)).map(Float.init)
            let b = testValues(s.n * s.k, seed: UInt64(90 + si)).map(Float.init)
            var first: [Float]?, builds = 0
            forEachKernelBuild { build in
                builds += 1
                let c = product(a, b, m: s.m, n: s.n, k: s.k, transposed: true)
                if let first { XCTAssertEqual(c.map(\.bitPattern), first.map(\.bitPattern), "\(s): \(build) against SSE2") } else { first = c }
            }
            XCTAssertGreaterThan(builds, 0)
        }
    }

    /// The default is the own GEMM where its register-blocked build runs (AVX2 + FMA) and OpenBLAS
    /// elsewhere; `RKAN_WINO_GEMM` picks either for every command; any other value is refused.
    func testEnvironmentPicksItAndTheDefaultFollowsTheCPU() throws {
        XCTAssertEqual(WinogradGEMM.standard, CPUFeatures.current.isV3 ? .own : .openblas)
        XCTAssertEqual(ConvTuning().winogradGEMM, WinogradGEMM.standard)
        XCTAssertEqual(try EngineContext.fromEnvironment(threads: 1, [:]).conv.winogradGEMM, WinogradGEMM.standard)
        XCTAssertEqual(try EngineContext.fromEnvironment(threads: 1, ["RKAN_WINO_GEMM": ""]).conv.winogradGEMM, WinogradGEMM.standard)
        XCTAssertEqual(try EngineContext.fromEnvironment(threads: 1, ["RKAN_WINO_GEMM": "own"]).conv.winogradGEMM, .own)
        XCTAssertEqual(try EngineContext.fromEnvironment(threads: 1, ["RKAN_WINO_GEMM": "openblas"]).conv.winogradGEMM, .openblas)
        XCTAssertThrowsError(try EngineContext.fromEnvironment(threads: 1, ["RKAN_WINO_GEMM": "fast"])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("RKAN_WINO_GEMM") && text.contains("openblas, own"), text)
        }
        var t = ConvTuning()
        t.winogradGEMM = .own
        XCTAssertEqual(t.label, "winograd-mixed, own GEMM")
        t.winogradGEMM = .openblas
        XCTAssertEqual(t.label, "winograd-mixed, OpenBLAS GEMM")
        XCTAssertEqual(ConvTuning(algorithm: .im2col).label, "im2col")
    }
}
