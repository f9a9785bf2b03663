import XCTest
import Engine
@testable import Harness

/// The start-time choice of the OpenBLAS core: which core is best for which CPU, when the
/// program re-executes itself, and that a value the user set is never overridden.
final class BLASCoreSelectionTests: XCTestCase {
    typealias S = BLASCoreSelection
    static let sse: CPUFeatures = [.sse2, .sse3, .ssse3, .sse41, .sse42]
    static let v3: CPUFeatures = sse.union([.avx, .avx2, .fma])
    static let skx: CPUFeatures = v3.union(.avx512)
    static let zen4: CPUFeatures = skx.union([.avx512bf16, .amd])

    func testBestCoreFollowsTheFeatures() {
        XCTAssertEqual(BLASCore.best(for: [.sse2]), .prescott)
        XCTAssertEqual(BLASCore.best(for: Self.sse), .nehalem)
        XCTAssertEqual(BLASCore.best(for: Self.sse.union(.avx)), .sandybridge)
        XCTAssertEqual(BLASCore.best(for: Self.v3.union(.intel)), .haswell)
        XCTAssertEqual(BLASCore.best(for: Self.v3.union(.amd)), .zen)
        XCTAssertEqual(BLASCore.best(for: Self.skx.union(.intel)), .skylakeX)
        XCTAssertEqual(BLASCore.best(for: Self.zen4), .cooperlake)
        // AVX2 without FMA (or without OS YMM state, which clears both) is not Haswell's level.
        XCTAssertEqual(BLASCore.best(for: Self.sse.union([.avx, .avx2])), .sandybridge)
    }

    /// The 5th-generation Xeon case: OpenBLAS 0.3.21 loads Prescott on an AVX-512
    /// CPU; with OPENBLAS_CORETYPE unset the program re-executes with SkylakeX and says why.
    func testAutomaticReexecOnlyWhenOpenBLASFellBelowTheCPU() throws {
        let xeon = Self.skx.union(.intel)
        let d = try S.decide(loaded: "Prescott", features: xeon, explicit: nil, userCoreType: nil)
        guard case let .reexec(core, reason) = d else { return XCTFail("\(d)") }
        XCTAssertEqual(core, .skylakeX)
        XCTAssertTrue(reason.contains("Prescott") && reason.contains("AVX-512"), reason)
        XCTAssertEqual(try S.decide(loaded: "Prescott", features: xeon, explicit: nil, userCoreType: ""), d, "empty counts as unset")
        // Already the best tier (Zen on a Zen 4 is tier 2 < Cooperlake's 4: re-exec; SkylakeX on it: tier 3 < 4).
        XCTAssertEqual(try S.decide(loaded: "Cooperlake", features: Self.zen4, explicit: nil, userCoreType: nil), .keep)
        XCTAssertEqual(try S.decide(loaded: "Haswell", features: Self.v3.union(.amd), explicit: nil, userCoreType: nil), .keep,
                       "Haswell and Zen are the same tier: no re-exec for blocking alone")
        XCTAssertEqual(try S.decide(loaded: "Sapphirerapids", features: xeon, explicit: nil, userCoreType: nil), .keep,
                       "a core this table does not know is left alone")
    }

    func testAUserValueIsNeverOverridden() throws {
        let xeon = Self.skx.union(.intel)
        XCTAssertEqual(try S.decide(loaded: "Prescott", features: xeon, explicit: nil, userCoreType: "Prescott"), .keep)
        XCTAssertEqual(try S.decide(loaded: "Haswell", features: xeon, explicit: (.portable, "--blas-core portable"),
                                    userCoreType: "haswell"), .keep, "the same core, spelled differently")
        XCTAssertThrowsError(try S.decide(loaded: "Prescott", features: xeon, explicit: (.best, "--blas-core best"),
                                          userCoreType: "Prescott")) { e in
            XCTAssertTrue("\(e)".contains("OPENBLAS_CORETYPE=Prescott") && "\(e)".contains("unset one"), "\(e)")
        }
    }

    func testExplicitChoices() throws {
        XCTAssertEqual(try S.decide(loaded: "Cooperlake", features: Self.zen4, explicit: (.portable, "--blas-core portable"), userCoreType: nil),
                       .reexec(.haswell, reason: "--blas-core portable"))
        XCTAssertEqual(try S.decide(loaded: "Haswell", features: Self.zen4, explicit: (.portable, "x"), userCoreType: nil), .keep)
        XCTAssertEqual(try S.decide(loaded: "Cooperlake", features: Self.zen4, explicit: (.core(.prescott), "x"), userCoreType: nil),
                       .reexec(.prescott, reason: "x"), "a lower core on request (measurements)")
        XCTAssertEqual(try S.decide(loaded: "Haswell", features: Self.zen4, explicit: (.best, "x"), userCoreType: nil),
                       .reexec(.cooperlake, reason: "x"))
        XCTAssertThrowsError(try S.decide(loaded: "Nehalem", features: Self.sse, explicit: (.portable, "--blas-core portable"),
                                          userCoreType: nil)) { e in
            XCTAssertTrue("\(e)".contains("AVX2 + FMA") && "\(e)".contains("SSE4.2") && "\(e)".contains("x86-64-v3"), "\(e)")
        }
        XCTAssertThrowsError(try S.decide(loaded: "Haswell", features: Self.v3, explicit: (.core(.skylakeX), "x"), userCoreType: nil))
    }

    func testNamesAndTheOption() throws {
        XCTAssertEqual(try S.parse("BEST", source: "x"), .best)
        XCTAssertEqual(try S.parse("portable", source: "x"), .portable)
        XCTAssertEqual(try S.parse("skylakex", source: "x"), .core(.skylakeX))
        XCTAssertThrowsError(try S.parse("Sapphirerapids", source: "--blas-core")) { e in
            XCTAssertTrue("\(e)".contains("--blas-core \"Sapphirerapids\"") && "\(e)".contains("Cooperlake"), "\(e)")
        }
        let r = try S.extractOption(["p", "run", "--blas-core", "portable", "x", "--blas-core=Zen"])
        XCTAssertEqual(r.rest, ["p", "run", "x"])
        XCTAssertEqual(r.value, "Zen", "the last one wins")
        XCTAssertThrowsError(try S.extractOption(["p", "run", "--blas-core"]))
        XCTAssertThrowsError(try S.extractOption(["p", "--blas-core", "--threads", "2"]))
    }

    func testThisCPU() {
        let f = CPUFeatures.current
        XCTAssertTrue(f.contains(.sse2), "every x86-64 CPU has SSE2")
        XCTAssertEqual(f.contains(.avx2), KernelBuild.supported >= .avx2, "CKernels and CPUFeatures agree on AVX2")
        XCTAssertEqual(f.contains(.avx512), KernelBuild.supported == .avx512, "CKernels and CPUFeatures agree on AVX-512")
        XCTAssertTrue(BLASCore.best(for: f).runs(on: f))
    }
}
