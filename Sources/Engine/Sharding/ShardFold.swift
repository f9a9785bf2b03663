/// Scalars the shard fold adds: Float (gradients) and Double (BatchNorm and loss sums).
public protocol ShardScalar: BinaryFloatingPoint {}
extension Float: ShardScalar {}
extension Double: ShardScalar {}

/// The one fixed order in which per-shard partial sums are added: a binary tree over shard
/// indices, `((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))` for K = 8.
///
/// Rank r of R (R | K, both powers of two) owns the shards of one whole subtree, folds them
/// locally, then the ranks combine subtree roots by recursive doubling: at distance d = 1, 2, …,
/// R/2 rank r exchanges its value with rank r ⊕ d and both compute (lower rank's) + (upper rank's),
/// which is the tree's next level. Every rank ends with the root, and the additions are the same
/// ones in the same order as in a single process, so the bytes are the same for every R.
public enum ShardFold {
    /// Folds `shards` consecutive partials of `count` values (layout (shards, count)) in tree
    /// order into `partials[0 ..< count]`. `shards` must be a power of two. Elements are cut
    /// into chunks that run in parallel, each through the whole tree: every element's additions
    /// stay the same.
    public static func local<T: ShardScalar>(_ partials: UnsafeMutablePointer<T>, count: Int, shards: Int) {
        precondition(shards >= 1 && shards & (shards - 1) == 0, "ShardFold: \(shards) shards is not a power of two")
        if shards == 1 { return }
        Parallel.forEachChunk(count: count, chunk: Parallel.elementChunk(count)) { elements in
            var width = 1
            while width < shards {
                for i in stride(from: 0, to: shards, by: 2 * width) {
                    let lo = partials + i * count, hi = partials + (i + width) * count
                    for j in elements { lo[j] = lo[j] + hi[j] }
                }
                width *= 2
            }
        }
    }

    /// Continues the fold across ranks: `value` (count) holds this rank's subtree root and ends
    /// holding the root of the whole tree on every rank.
    public static func acrossRanks<T: ShardScalar>(_ value: UnsafeMutablePointer<T>, count: Int, _ comm: Communicator) {
        let ranks = comm.size
        if ranks == 1 || count == 0 { return }
        precondition(ranks & (ranks - 1) == 0, "ShardFold: \(ranks) ranks is not a power of two")
        let other = UnsafeMutablePointer<T>.allocate(capacity: count)
        defer { other.deallocate() }
        var d = 1
        while d < ranks {
            let partner = comm.rank ^ d
            comm.exchange(value, other, bytes: count * MemoryLayout<T>.stride, partner: partner)
            if comm.rank < partner {
                for j in 0..<count { value[j] = value[j] + other[j] }
            } else {
                for j in 0..<count { value[j] = other[j] + value[j] }
            }
            d *= 2
        }
    }
}
