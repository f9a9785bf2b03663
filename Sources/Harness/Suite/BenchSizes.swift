/// A profile's override of the end-of-run throughput measurement (`bench: {warmup: 1,
/// iterations: 2}`); what is nil keeps the default: batch min(batch_size, 32), 3 warm-up and
/// 8 timed iterations, 3 repeats (timm's method, scaled to a CPU).
public struct BenchSizes: Codable, Equatable, Sendable {
    /// Images per timed step, untimed steps, timed steps per repeat, repeats.
    public var batch, warmup, iterations, repeats: Int?

    /// Creates an override; every size defaults to none.
    public init(batch: Int? = nil, warmup: Int? = nil, iterations: Int? = nil, repeats: Int? = nil) {
        self.batch = batch; self.warmup = warmup; self.iterations = iterations; self.repeats = repeats
    }

    /// The sizes for a run of `batchSize`.
    /// - Parameter detection: a detector's defaults instead: the reference's `measure_inference_speed`,
    ///   batch 1, 10 warm-up and 100 timed passes (3 repeats, alternated with the baseline).
    func resolved(batchSize: Int, detection: Bool = false) -> RunConfig.BenchConfig {
        if detection {
            return RunConfig.BenchConfig(batch: 1, warmup: warmup ?? 10, iterations: iterations ?? 100, repeats: repeats ?? 3)
        }
        return RunConfig.BenchConfig(batch: batch ?? min(batchSize, 32), warmup: warmup ?? 3, iterations: iterations ?? 8,
                                     repeats: repeats ?? 3)
    }
}
