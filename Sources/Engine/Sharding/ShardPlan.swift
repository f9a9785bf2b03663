/// How one global batch is cut into virtual shards, and which shards each rank owns.
///
/// The batch of B images is cut into `shardCount` contiguous shards (K = 8): shard i holds images
/// `⌊i·B/K⌋ ..< ⌊(i+1)·B/K⌋`. The cut depends only on B, never on the number of ranks, so every
/// batch reduction computed per shard and folded over shards in one fixed tree (`ShardFold`) gives
/// the same bytes whether one process computes all shards or R ranks compute K/R each. Rank r of R
/// owns the contiguous shards `r·K/R ..< (r+1)·K/R`; R must divide K (1, 2, 4 or 8).
public struct ShardPlan: Equatable, Sendable {
    /// Shards per batch: a power of two, so every valid rank count owns whole subtrees of the fold.
    public static let shardCount = 8

    /// B, the global batch.
    public let batch: Int
    /// K.
    public var shards: Int { ShardPlan.shardCount }

    public init(batch: Int) {
        precondition(batch >= 0, "ShardPlan: negative batch \(batch)")
        self.batch = batch
    }

    /// Images of shard `i` in the global batch.
    public func images(ofShard i: Int) -> Range<Int> {
        precondition(i >= 0 && i < shards, "ShardPlan: shard \(i) of \(shards)")
        return (i * batch / shards)..<((i + 1) * batch / shards)
    }

    /// The shards rank `rank` of `ranks` owns.
    public func shards(ofRank rank: Int, ranks: Int) -> Range<Int> {
        precondition(ShardPlan.validRankCounts.contains(ranks) && rank >= 0 && rank < ranks,
                     "ShardPlan: rank \(rank) of \(ranks) (valid rank counts \(ShardPlan.validRankCounts))")
        let per = shards / ranks
        return (rank * per)..<((rank + 1) * per)
    }

    /// The images rank `rank` of `ranks` computes: the union of its shards, contiguous.
    public func images(ofRank rank: Int, ranks: Int) -> Range<Int> {
        let s = shards(ofRank: rank, ranks: ranks)
        return images(ofShard: s.lowerBound).lowerBound..<images(ofShard: s.upperBound - 1).upperBound
    }

    /// Rank counts that divide the shard count.
    public static var validRankCounts: [Int] { (1...shardCount).filter { shardCount % $0 == 0 } }

    /// Checks a rank count.
    /// - Throws: `EngineError.invalidArgument` naming the valid counts.
    public static func check(ranks: Int) throws {
        guard validRankCounts.contains(ranks) else {
            throw EngineError.invalidArgument(op: "--ranks", detail:
                "\(ranks) ranks do not divide the \(shardCount) virtual shards of every batch (the cut that keeps the bytes independent of the rank count); use one of \(validRankCounts.map(String.init).joined(separator: ", "))")
        }
    }
}
