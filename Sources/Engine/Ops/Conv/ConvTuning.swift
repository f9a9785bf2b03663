import Foundation

/// How 3×3 and im2col convolutions are computed: the algorithm and the chunk size of the
/// im2col / Winograd paths. A value passed to the conv kernels (never a global).
public struct ConvTuning: Equatable, Sendable {
    /// Which algorithm 3×3 stride-1 convs use (see `ConvAlgorithm`).
    public var algorithm: ConvAlgorithm
    /// Floats of one chunk's col (im2col) or V/M (Winograd) buffer; see `ConvTuning`.
    public var chunkFloats: Int
    /// The GEMM of the Winograd forward and input-gradient products (`WinogradGEMM`; default
    /// `WinogradGEMM.standard`).
    public var winogradGEMM: WinogradGEMM = .standard

    public init(algorithm: ConvAlgorithm = .standard, chunkFloats: Int = ConvTuning.defaultChunkFloats) {
        precondition(chunkFloats > 0, "ConvTuning: chunkFloats must be positive, got \(chunkFloats)")
        self.algorithm = algorithm; self.chunkFloats = chunkFloats
    }

    /// The algorithm and, for a Winograd one, its GEMM, as benchmarks and reports print them
    /// (`winograd-mixed, own GEMM`; `im2col`).
    public var label: String { Self.label(algorithm: algorithm.rawValue, gemm: winogradGEMM.rawValue) }

    /// `label` of a run file's `conv_algorithm` and `winograd_gemm`.
    public static func label(algorithm: String, gemm: String) -> String {
        algorithm == ConvAlgorithm.im2col.rawValue ? algorithm
            : "\(algorithm), \(gemm == WinogradGEMM.openblas.rawValue ? "OpenBLAS" : gemm) GEMM"
    }

    /// This tuning with the algorithm the kernels run for `stage` of the conv `g` (`ConvAlgorithm.resolved(for:_:)`).
    public func resolved(for stage: ConvStage, _ g: Conv2dGeometry) -> ConvTuning {
        var t = self
        t.algorithm = algorithm.resolved(for: stage, g)
        return t
    }
}

/// Tuning of the im2col path: the batch is processed in chunks of whole images whose col
/// matrix holds about `ConvTuning.chunkFloats` floats (default `defaultChunkFloats`) (4 MiB: fastest of 1–32 MiB on the 2-core Zen 3 with
/// `rkan-bench conv`), so col stays in cache between im2col and GEMM.
/// With at least `minParallelChunks` chunks, each chunk is one task (im2col and single-threaded
/// GEMMs on one thread, col buffer per task); with fewer, chunks run one after the other and
/// im2col and the (split) GEMMs are parallel inside.
/// Chunks depend only on the geometry (never on the thread count), so results are deterministic.
extension ConvTuning {
    public static let defaultChunkFloats = 1 << 20
    /// Fewest chunks for chunk-level parallelism (also the lane count of the backward).
    public static let minParallelChunks = 4

    /// Images per chunk for geometry `g` with col buffers of `chunkFloats` floats.
    static func imagesPerChunk(_ g: Conv2dGeometry, chunkFloats: Int) -> Int {
        let perImage = max(1, g.outHeight * g.outWidth * g.patch)
        return max(1, min(g.batch, chunkFloats / perImage))
    }
}

/// Which GEMM computes the α² products of the Winograd forward and input gradient.
///
/// `own` (`rkan_wino_gemm`, CKernels) reads the transformed tiles in place, packs each plane's
/// weights once per layer call (beside their transform, `WinogradWeights`) instead of once per
/// chunk, runs the batch's tiles in cache-sized blocks (`Winograd.convolveBlocked`), and writes
/// each element of the output once as one fused multiply-add chain over the channels from +0
/// (OpenBLAS packs both operands per call and zeroes C first). Its bytes therefore do not depend on
/// the OpenBLAS core, the block size or the thread count, only on FMA being exact: the AVX2 + FMA
/// build and the scalar build (`fmaf`) agree. `openblas` (`cblas_sgemm` over chunks of images)
/// rounds differently, so the two give different weights for one seed; run files record which ran
/// (`winograd_gemm`), and a resume or a nightly check compares it like the conv algorithm.
public enum WinogradGEMM: String, Sendable, CaseIterable {
    case openblas, own

    /// The default: `own` on CPUs with AVX2 + FMA (x86-64-v3: the 6 × 16 register-blocked build
    /// runs; 1.02–1.19× the OpenBLAS GEMM's img/s on the Zen 3 of Reports/performance.md),
    /// `openblas` elsewhere, where the own GEMM's scalar build would keep its bytes but run through
    /// `fmaf` at a fraction of OpenBLAS's speed. `RKAN_WINO_GEMM` overrides it.
    public static var standard: WinogradGEMM { CPUFeatures.current.isV3 ? .own : .openblas }

    /// The environment variable that picks the GEMM (`openblas` or `own`).
    public static let environmentVariable = "RKAN_WINO_GEMM"

    /// `RKAN_WINO_GEMM` parsed; nil when unset or empty.
    /// - Throws: `EngineError.invalidArgument` naming the variable and its values.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> WinogradGEMM? {
        guard let v = env[environmentVariable], !v.isEmpty else { return nil }
        guard let g = WinogradGEMM(rawValue: v) else {
            throw EngineError.invalidArgument(op: environmentVariable, detail:
                "\"\(v)\" is not one of \(allCases.map(\.rawValue).joined(separator: ", ")); unset it for the default (\(standard.rawValue) on this CPU)")
        }
        return g
    }
}
