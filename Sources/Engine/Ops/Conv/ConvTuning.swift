import Foundation

/// How 3×3 and im2col convolutions are computed: the algorithm and the chunk size of the
/// im2col / Winograd paths. A value passed to the conv kernels (never a global).
public struct ConvTuning: Equatable, Sendable {
    /// Which algorithm 3×3 stride-1 convs use (see `ConvAlgorithm`).
    public var algorithm: ConvAlgorithm
    /// Floats of one chunk's col (im2col) or V/M (Winograd) buffer; see `ConvTuning`.
    public var chunkFloats: Int
    /// The GEMM of the Winograd forward and input-gradient products (`WinogradGEMM`); OpenBLAS
    /// unless a benchmark asks for the experimental one.
    public var winogradGEMM: WinogradGEMM = .openblas

    public init(algorithm: ConvAlgorithm = .standard, chunkFloats: Int = ConvTuning.defaultChunkFloats) {
        precondition(chunkFloats > 0, "ConvTuning: chunkFloats must be positive, got \(chunkFloats)")
        self.algorithm = algorithm; self.chunkFloats = chunkFloats
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
/// each element of the output once
/// as one fused multiply-add chain (OpenBLAS packs both operands per call and zeroes C first). It
/// rounds differently from OpenBLAS, so a run's bytes would change: it is an experiment that only
/// `rkan-repro bench` takes (`RKAN_WINO_GEMM=own`); run files are always made with `openblas`.
public enum WinogradGEMM: String, Sendable, CaseIterable {
    case openblas, own

    /// `RKAN_WINO_GEMM` parsed; nil when unset or empty.
    /// - Throws: `EngineError.invalidArgument` naming the variable and its values.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> WinogradGEMM? {
        guard let v = env["RKAN_WINO_GEMM"], !v.isEmpty else { return nil }
        guard let g = WinogradGEMM(rawValue: v) else {
            throw EngineError.invalidArgument(op: "RKAN_WINO_GEMM", detail:
                "\"\(v)\" is not one of \(allCases.map(\.rawValue).joined(separator: ", ")); unset it for OpenBLAS")
        }
        return g
    }
}
