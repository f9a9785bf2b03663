/// How one global batch is cut into virtual shards, and which shards each rank owns.
///
/// A run's batches are cut into K contiguous shards, K = `shards(forBatch:)` of the run's batch
/// size B: the largest power of two ≤ 8 that leaves every shard at least 16 images (K = 8 from
/// B = 128, the paper's batch; 4 at 64, 2 at 32, 1 below 32). Shard i of a batch of n images holds
/// images `⌊i·n/K⌋ ..< ⌊(i+1)·n/K⌋` (a last, smaller batch keeps the run's K). The cut depends
/// only on the batch size, never on the number of ranks, so every batch reduction computed per
/// shard and folded over shards in one fixed tree (`ShardFold`) gives the same bytes whether one
/// process computes all shards or R ranks compute K/R each. Rank r of R owns the contiguous
/// shards `r·K/R ..< (r+1)·K/R`; R must divide K.
///
/// Why not always 8: every layer runs its kernels once per shard (an image's bytes must not depend
/// on how many images one call holds), and below 16 images a shard's GEMMs get small enough that a
/// single process loses 7–13 % of its speed to the cut (ResNet-50 at batch 32 in 8 shards of 4);
/// shards of ≥ 16 images cost nothing measurable.
public struct ShardPlan: Equatable, Sendable {
    /// Most shards per batch: a power of two, so every valid rank count owns whole subtrees of the fold.
    public static let maxShards = 8
    /// Fewest images per shard the shard count is chosen for (the last batch may have fewer).
    public static let minImagesPerShard = 16

    /// n, the images of this batch.
    public let batch: Int
    /// K, a power of two ≤ `maxShards`.
    public let shards: Int

    /// The shard count of a run whose batch size is `batchSize`.
    public static func shards(forBatch batchSize: Int) -> Int {
        var k = 1
        while 2 * k <= maxShards && 2 * k * minImagesPerShard <= batchSize { k *= 2 }
        return k
    }

    /// A batch of `batch` images cut into `shards` shards (default: `shards(forBatch: batch)`,
    /// for a batch that is a run's whole batch size).
    public init(batch: Int, shards: Int? = nil) {
        let k = shards ?? ShardPlan.shards(forBatch: batch)
        precondition(batch >= 0, "ShardPlan: negative batch \(batch)")
        precondition(k >= 1 && k <= ShardPlan.maxShards && k & (k - 1) == 0,
                     "ShardPlan: \(k) shards (a power of two ≤ \(ShardPlan.maxShards))")
        self.batch = batch
        self.shards = k
    }

    /// Images of shard `i` in the global batch.
    public func images(ofShard i: Int) -> Range<Int> {
        precondition(i >= 0 && i < shards, "ShardPlan: shard \(i) of \(shards)")
        return (i * batch / shards)..<((i + 1) * batch / shards)
    }

    /// The shards rank `rank` of `ranks` owns.
    public func shards(ofRank rank: Int, ranks: Int) -> Range<Int> {
        precondition(validRankCounts.contains(ranks) && rank >= 0 && rank < ranks,
                     "ShardPlan: rank \(rank) of \(ranks) (valid rank counts for \(shards) shards: \(validRankCounts))")
        let per = shards / ranks
        return (rank * per)..<((rank + 1) * per)
    }

    /// The images rank `rank` of `ranks` computes: the union of its shards, contiguous.
    public func images(ofRank rank: Int, ranks: Int) -> Range<Int> {
        let s = shards(ofRank: rank, ranks: ranks)
        return images(ofShard: s.lowerBound).lowerBound..<images(ofShard: s.upperBound - 1).upperBound
    }

    /// Rank counts that divide this plan's shards.
    public var validRankCounts: [Int] { ShardPlan.validRankCounts(shards: shards) }

    /// Rank counts that divide `shards` shards.
    public static func validRankCounts(shards: Int) -> [Int] { (1...shards).filter { shards % $0 == 0 } }

    /// Rank counts some batch size allows (those dividing `maxShards`).
    public static var validRankCounts: [Int] { validRankCounts(shards: maxShards) }

    /// Checks a rank count against the largest shard count (before a run's batch size is known).
    /// - Throws: `EngineError.invalidArgument` naming the valid counts.
    public static func check(ranks: Int) throws {
        guard validRankCounts.contains(ranks) else {
            throw EngineError.invalidArgument(op: "--ranks", detail:
                "\(ranks) ranks do not divide the virtual shards of a batch (at most \(maxShards), the cut that keeps the bytes independent of the rank count); use one of \(validRankCounts.map(String.init).joined(separator: ", "))")
        }
    }

    /// Checks a rank count against a run's batch size.
    /// - Throws: `EngineError.invalidArgument` naming the batch size, its shard count, the valid
    ///   counts and the batch size that would allow `ranks`.
    public static func check(ranks: Int, batchSize: Int, what: String) throws {
        try check(ranks: ranks)
        let k = shards(forBatch: batchSize)
        guard k % ranks == 0 else {
            throw EngineError.invalidArgument(op: "--ranks", detail:
                "\(ranks) ranks do not divide the \(k) virtual shard\(k == 1 ? "" : "s") of \(what)'s batch size \(batchSize) (one shard per \(minImagesPerShard) images, at most \(maxShards)); use one of \(validRankCounts(shards: k).map(String.init).joined(separator: ", ")) ranks, or a batch size of at least \(ranks * minImagesPerShard) for \(ranks)")
        }
    }
}
