import Foundation

/// The engine settings one model runs with: worker threads, the conv tuning, the MAC counter and
/// the batch-shard reducer. Layers receive it through the `ParameterStore` they are built with (`store.context`)
/// and read it at every forward and backward, so two models in one process can run with
/// different settings and nothing leaks from one run (or test) into the next.
///
/// Threads change speed, never bytes; the conv algorithm and the Winograd GEMM change bytes (run
/// files record both).
public final class EngineContext {
    /// Workers of the engine's own loops and GEMM splits (OpenBLAS itself stays single-threaded).
    public var threads: Int { didSet { threads = max(1, threads) } }
    /// Algorithm and chunking of the conv kernels.
    public var conv: ConvTuning
    /// Counts MACs of forward passes run with this context (off unless `macs.count` runs).
    public let macs = MACCounter()
    /// Virtual batch shards, their fold order and the ranks of a data-parallel run.
    public let sharding: BatchSharding

    public init(threads: Int = 1, conv: ConvTuning = ConvTuning(), sharding: BatchSharding = BatchSharding()) {
        self.threads = max(1, threads); self.conv = conv; self.sharding = sharding
    }

    /// A context whose conv algorithm comes from `RKAN_CONV_ALGO` (default `ConvAlgorithm.standard`,
    /// `winograd-mixed`) and whose Winograd GEMM comes from `RKAN_WINO_GEMM` (default
    /// `WinogradGEMM.standard`). Both change bytes; run files record both.
    /// - Throws: `EngineError.invalidArgument` for an unknown `RKAN_CONV_ALGO` or `RKAN_WINO_GEMM`.
    public static func fromEnvironment(threads: Int, sharding: BatchSharding = BatchSharding(),
                                       _ env: [String: String] = ProcessInfo.processInfo.environment) throws -> EngineContext {
        var conv = ConvTuning(algorithm: try ConvAlgorithm.fromEnvironment(env) ?? .standard)
        conv.winogradGEMM = try WinogradGEMM.fromEnvironment(env) ?? .standard
        return EngineContext(threads: threads, conv: conv, sharding: sharding)
    }

    /// Runs `body` with the engine's parallel loops on this context's thread count (on the
    /// calling thread; restored after).
    @inlinable
    public func run<T>(_ body: () throws -> T) rethrows -> T {
        try Parallel.withThreads(threads, body)
    }
}
