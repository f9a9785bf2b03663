import Foundation

/// How 3×3 and im2col convolutions are computed: the algorithm and the chunk size of the
/// im2col / Winograd paths. A value passed to the conv kernels (never a global).
public struct ConvTuning: Equatable, Sendable {
    /// Which algorithm 3×3 stride-1 convs use (see `ConvAlgorithm`).
    public var algorithm: ConvAlgorithm
    /// Floats of one chunk's col (im2col) or V/M (Winograd) buffer; see `ConvTuning`.
    public var chunkFloats: Int

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
