import Foundation
import Engine

/// A run's ranks as the trainer sees them: which images of each global batch this process
/// computes, cross-rank sums of metric counts, and who writes the run file.
///
/// Every rank decodes only its shards' images and their CutMix/MixUp partners (same Philox keys,
/// so image i is augmented and mixed identically everywhere; `TrainingData.trainLoader(rank:)`)
/// and keeps the images of its shards (`ShardPlan.images(ofRank:ranks:)`);
/// the model's layers then fold every batch reduction over all shards of all ranks
/// (`BatchSharding`), so the weights are the same bytes for every valid rank count (those dividing
/// the run's shard count, `ShardPlan.shards(forBatch:)`: up to 8). With one rank the batch stays
/// whole and nothing is exchanged.
/// The images of a batch of n that one rank builds.
public typealias LoaderShare = @Sendable (_ n: Int) -> Range<Int>

public struct DataParallel {
    /// The engine's shard reducer (its communicator is the run's ranks).
    public let sharding: BatchSharding
    public var communicator: Communicator { sharding.communicator }
    public var ranks: Int { communicator.size }
    public var rank: Int { communicator.rank }
    /// Rank 0 writes run files and logs; the others compute.
    public var isWriter: Bool { rank == 0 }

    public init(sharding: BatchSharding) { self.sharding = sharding }

    /// This rank's part of `batch` (images, labels, soft targets), and the sharding scope set
    /// for the model's passes over it.
    public func local(_ batch: TrainBatch) -> TrainBatch {
        let n = batch.labels.count
        if ranks == 1 { sharding.scope = .whole; return batch }
        sharding.scope = .distributed(globalBatch: n)
        let r = sharding.plan(globalBatch: n).images(ofRank: rank, ranks: ranks)
        var out = TrainBatch(images: DataParallel.rows(batch.images, r), labels: Array(batch.labels[r]), targets: .labels([]))
        switch batch.targets {
        case let .labels(l): out.targets = .labels(Array(l[r]))
        case let .soft(t): out.targets = .soft(DataParallel.rows(t, r))
        }
        return out
    }

    /// Rows `r` (first dimension) of `t`, copied.
    static func rows(_ t: Tensor, _ r: Range<Int>) -> Tensor {
        let per = t.shape.dropFirst().reduce(1, *)
        let out = Tensor(uninitialized: [r.count] + t.shape.dropFirst())
        out.data.update(from: t.data + r.lowerBound * per, count: r.count * per)
        return out
    }

    /// Sums integer counts over the ranks (exact: Doubles below 2⁵³).
    public func sum(_ counts: [Int]) -> [Int] {
        if ranks == 1 || counts.isEmpty { return counts }
        let v = UnsafeMutablePointer<Double>.allocate(capacity: counts.count)
        defer { v.deallocate() }
        for (i, c) in counts.enumerated() { v[i] = Double(c) }
        ShardFold.acrossRanks(v, count: counts.count, communicator)
        return (0..<counts.count).map { Int(v[$0]) }
    }

    /// Whether every rank says `ok` (a cross-rank AND), so all ranks take the same branch.
    public func all(_ ok: Bool) -> Bool { sum([ok ? 0 : 1])[0] == 0 }

    /// For the loaders: the images of a batch of n this rank builds, its shards (nil with one
    /// rank: the whole batch).
    public var loaderShare: LoaderShare? {
        if ranks == 1 { return nil }
        let (k, rank, ranks) = (sharding.shardsPerBatch, rank, ranks)
        return { n in ShardPlan(batch: n, shards: k).images(ofRank: rank, ranks: ranks) }
    }

    /// Sets the run's shard count from its batch size (a last, smaller batch keeps it).
    /// - Throws: `EngineError.invalidArgument` when the rank count does not divide it.
    public func configure(batchSize: Int, what: String) throws {
        try ShardPlan.check(ranks: ranks, batchSize: batchSize, what: what)
        sharding.shardsPerBatch = ShardPlan.shards(forBatch: batchSize)
    }

    /// Sets the shard count of `run`'s batch size (see `configure(batchSize:what:)`).
    public func configure(for run: RunConfig) throws {
        try configure(batchSize: run.training.batchSize, what: DataParallel.name(run))
    }

    /// Checks `ranks` against every run's batch size, before any of them trains.
    /// - Throws: `EngineError.invalidArgument` naming the first run whose shard count it does not divide.
    public static func check(ranks: Int, for runs: [RunConfig]) throws {
        for c in runs { try ShardPlan.check(ranks: ranks, batchSize: c.training.batchSize, what: name(c)) }
    }

    /// How messages name a run: its suite file and experiment.
    static func name(_ c: RunConfig) -> String { "\(c.suite).yaml (\(c.experiment))" }

    /// Waits for every rank (before rank 0 writes a checkpoint, and after).
    public func barrier() { communicator.barrier() }
}

extension DataParallel {
    /// Rank 0's `values` (`count` of them) on every rank.
    public func fromWriter(_ values: [Double], count: Int) -> [Double] {
        if ranks == 1 { return values }
        var v = isWriter ? values : [Double](repeating: 0, count: count)
        precondition(v.count == count, "DataParallel.fromWriter: \(v.count) values, expected \(count)")
        v.withUnsafeMutableBytes { communicator.broadcast($0.baseAddress!, bytes: $0.count, root: 0) }
        return v
    }
}

extension DataParallel {
    /// Rank counts some batch size accepts (those dividing the most shards of a batch; a run's
    /// batch size may allow fewer: `ShardPlan.check(ranks:batchSize:what:)`).
    public static var validRankCounts: [Int] { ShardPlan.validRankCounts }

    /// Why `ranks` is refused, with the valid counts.
    public static func rankAdvice(_ ranks: Int) -> String {
        "\(ranks) ranks do not divide the virtual shards of a batch (one per \(ShardPlan.minImagesPerShard) images, at most \(ShardPlan.maxShards)); use one of \(validRankCounts.map(String.init).joined(separator: ", ")) (and a batch size of at least \(ShardPlan.minImagesPerShard) × ranks)"
    }
}
