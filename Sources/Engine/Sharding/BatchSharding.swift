/// The batch-shard reducer of an `EngineContext`: which shards of the current batch this process
/// computes, and the sum of per-shard partials over all shards of all ranks (`ShardFold`).
///
/// Layers run their kernels once per shard (so an image's bytes never depend on how many images
/// a call held) and compute every batch reduction (weight and bias gradients, BatchNorm statistics
/// and sums, loss sums) per shard; `sum` folds them in the one fixed order. A single process is
/// the same computation with all K shards local.
public final class BatchSharding {
    /// The ranks; `SingleProcess` unless the run is data-parallel.
    public let communicator: Communicator
    /// How the current batch is split between the ranks.
    public enum Scope: Equatable, Sendable {
        /// The tensor a layer sees is the whole batch (no communication).
        case whole
        /// The tensor a layer sees holds this rank's shards of a batch of `globalBatch` images.
        case distributed(globalBatch: Int)
    }
    /// Set by the data-parallel driver before each distributed pass.
    public var scope: Scope = .whole
    /// The run's shard count, `ShardPlan.shards(forBatch:)` of its batch size, set by the trainer
    /// so a last, smaller batch keeps it; nil (bench, forward, tests): each pass's own batch size
    /// decides.
    public var shardsPerBatch: Int?

    /// The shard plan of a global batch of `n` images under this reducer's settings.
    public func plan(globalBatch n: Int) -> ShardPlan { ShardPlan(batch: n, shards: shardsPerBatch) }

    public init(communicator: Communicator = SingleProcess()) { self.communicator = communicator }

    deinit { scratch?.deallocate() }

    /// Float rows of `perShard`, reused by every layer (layers reduce one after another): the
    /// largest layer's K rows stay allocated, and a step neither allocates nor page-faults them.
    private var scratch: UnsafeMutablePointer<Float>?
    private var scratchCapacity = 0
    private var scratchInUse = false

    /// The scratch rows, at least `count` floats (released by `ShardTotal.release`).
    func takeScratch(_ count: Int) -> UnsafeMutablePointer<Float> {
        precondition(!scratchInUse, "BatchSharding: perShard rows taken twice (release the previous ShardTotal first)")
        if count > scratchCapacity {
            scratch?.deallocate()
            scratch = .allocate(capacity: count)
            scratchCapacity = count
        }
        scratchInUse = true
        return scratch!
    }

    func giveScratch() { scratchInUse = false }

    /// The plan of the current batch, given the rows the layer sees.
    private func plan(localBatch n: Int) -> (ShardPlan, owned: Range<Int>, ranks: Int, rank: Int) {
        switch scope {
        case .whole:
            let p = plan(globalBatch: n)
            return (p, 0..<p.shards, 1, 0)
        case let .distributed(b):
            let p = plan(globalBatch: b), (r, size) = (communicator.rank, communicator.size)
            precondition(p.images(ofRank: r, ranks: size).count == n,
                         "BatchSharding: a layer got \(n) images; rank \(r) of \(size) owns \(p.images(ofRank: r, ranks: size)) of \(b)")
            return (p, p.shards(ofRank: r, ranks: size), size, r)
        }
    }

    /// Whether `sum` also folds across ranks (a distributed pass on more than one rank).
    public var isDistributed: Bool {
        if case .distributed = scope { return communicator.size > 1 }
        return false
    }

    /// The global batch of the current pass, given the images a layer sees.
    public func globalBatch(localBatch n: Int) -> Int {
        if case let .distributed(b) = scope { return b }
        return n
    }

    /// The image ranges, within the tensor a layer sees, of the shards this process computes, in
    /// shard order (empty shards included: their partials are zeros).
    public func localShards(batch n: Int) -> [Range<Int>] {
        let (p, owned, _, _) = plan(localBatch: n)
        let base = p.images(ofShard: owned.lowerBound).lowerBound
        return owned.map { i in let r = p.images(ofShard: i); return (r.lowerBound - base)..<(r.upperBound - base) }
    }

    /// Sums per-shard partials over every shard of the batch: `partials` holds
    /// `localShards(batch:).count` rows of `count` values; on return row 0 holds the total (the
    /// same bytes on every rank and for every rank count).
    public func sum<T: ShardScalar>(_ partials: UnsafeMutablePointer<T>, count: Int, shards: Int) {
        ShardFold.local(partials, count: count, shards: shards)
        if isDistributed { ShardFold.acrossRanks(partials, count: count, communicator) }
    }

    /// Whether the shards of one call may run at the same time.
    public enum Execution: Sendable {
        /// One after the other (bodies that share scratch, or are too small to split).
        case inOrder
        /// As parallel tasks, one shard each, their kernels serial inside (`Parallel` nesting):
        /// the same bytes, since a shard's kernels cut their work by its shape alone.
        case concurrent
    }

    /// Runs `body(images)` for every non-empty local shard (bodies write disjoint memory).
    public func forEachShard(batch n: Int, _ execution: Execution, _ body: (Range<Int>) -> Void) {
        let shards = localShards(batch: n).filter { !$0.isEmpty }
        switch execution {
        case .inOrder: for r in shards { body(r) }
        case .concurrent: Parallel.forEach(shards.count) { body(shards[$0]) }
        }
    }

    /// Runs `body(shard, images, row)` for every local shard, each with its own zeroed `row` of
    /// `count` values, then folds the rows (`sum`, on the calling thread) and returns row 0, the
    /// total. The pointer is valid until `release` (callers add it into their gradients first).
    /// With `zeroed` false only the rows of empty shards are zeroed, and `body` must write every
    /// value of the row of a non-empty shard (a kernel that overwrites saves a pass over K rows).
    public func perShard<T: ShardScalar>(batch n: Int, count: Int, _ execution: Execution = .inOrder,
                                         zeroed: Bool = true,
                                         _ body: (Int, Range<Int>, UnsafeMutablePointer<T>) -> Void) -> ShardTotal<T> {
        let shards = localShards(batch: n)
        let total = ShardTotal<T>(count: max(1, shards.count * count), scratch: self)
        let rows = total.values
        if zeroed {
            Parallel.forEachChunk(count: shards.count * count, chunk: Parallel.elementChunk(shards.count * count)) { r in
                (rows + r.lowerBound).update(repeating: 0, count: r.count)
            }
        } else {
            for (i, r) in shards.enumerated() where r.isEmpty { (rows + i * count).update(repeating: 0, count: count) }
        }
        switch execution {
        case .inOrder: for (i, r) in shards.enumerated() { body(i, r, rows + i * count) }
        case .concurrent: Parallel.forEach(shards.count) { i in body(i, shards[i], rows + i * count) }
        }
        sum(rows, count: count, shards: shards.count)
        return total
    }
}

/// The rows of `BatchSharding.perShard`, row 0 the folded total; call `release` after reading
/// it. Float rows (gradients: K × a layer's weights, every step) are the sharding's reused
/// scratch; Double rows (BatchNorm and loss sums, small) are allocated.
public struct ShardTotal<T> {
    public let values: UnsafeMutablePointer<T>
    private let owner: BatchSharding?

    init(count: Int, scratch sharding: BatchSharding) {
        if T.self == Float.self {
            values = UnsafeMutableRawPointer(sharding.takeScratch(count)).assumingMemoryBound(to: T.self)
            owner = sharding
        } else {
            values = .allocate(capacity: count)
            owner = nil
        }
    }

    public func release() {
        if let owner { owner.giveScratch() } else { values.deallocate() }
    }
}
