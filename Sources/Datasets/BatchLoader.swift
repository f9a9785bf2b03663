import Engine
import Foundation

/// One mini-batch: normalised images and their labels.
public struct Batch: @unchecked Sendable {
    /// Batch number within the epoch.
    public let index: Int
    /// `(N, H, W, C)` float32, augmented and normalised.
    public let images: Tensor
    /// `(N)` class labels.
    public let labels: [Int]
    /// `(N)` dataset indices of the samples (for checks and debugging).
    public let samples: [Int]
}

/// Which positions of batch `batch` (of `count` samples) to decode and augment; the others stay
/// zero (a data-parallel rank builds only its shards and their mixing partners).
public typealias BatchPositions = @Sendable (_ batch: Int, _ count: Int) -> [Bool]

/// Deterministic mini-batches of one epoch, prepared ahead by background threads.
///
/// Sample order: the `indices` (default: all samples) permuted by
/// `Philox(seed, .shuffle, index: epoch).permutation(n)` when `shuffle` is on, else in the given
/// order. Batch `b` holds order positions `b·batchSize ..< (b+1)·batchSize`; a final partial batch
/// is dropped when `dropLast` (training) and kept otherwise (evaluation). Each batch is a pure
/// function of (dataset, indices, seed, epoch, b), built whole by one worker, so the bytes do not
/// depend on the number of workers. With `workers > 0`, threads build up to `prefetch` batches
/// ahead of the consumer; `close()` (or dropping the loader) stops and joins them.
public final class BatchLoader {
    public let dataset: any ImageDataset
    public let augment: Augment
    public let batchSize: Int, seed: UInt64, epoch: Int
    /// Dataset indices in epoch order.
    public let order: [Int]
    /// Number of batches in the epoch.
    public let count: Int
    /// `(H, W, C)` of each output image.
    public let outputShape: [Int]

    private let prefetcher: Prefetcher?
    /// Builds batches on the consumer's thread when `workers == 0`, and for `batch(_:)`.
    private let local: AugmentWorker
    private var nextBatch: Int
    private let positions: BatchPositions?

    /// - Parameters:
    ///   - dataset: the samples.
    ///   - indices: the samples to use (e.g. a `classBalancedSubset`); `nil` for all.
    ///   - batchSize: samples per batch (> 0).
    ///   - seed: experiment seed (shuffle and augmentation streams).
    ///   - epoch: epoch number (keys the shuffle and augmentation).
    ///   - shuffle: permute the samples (training) or keep their order (evaluation).
    ///   - dropLast: drop a final partial batch.
    ///   - augment: the per-sample pipeline.
    ///   - workers: background threads (0: build each batch on the caller's thread in `next()`).
    ///   - prefetch: batches built ahead of the consumer (≥ 1).
    ///   - startBatch: first batch `next()` returns (resuming inside an epoch).
    ///   - positions: when given, only these positions of each batch are built (the others are
    ///     zeros; labels and samples are always complete). A built image is the same bytes either way.
    /// - Throws: `DatasetError.invalidRequest` for an index out of range or a bad `augment`.
    public init(dataset: any ImageDataset, indices: [Int]? = nil, batchSize: Int, seed: UInt64, epoch: Int,
                shuffle: Bool, dropLast: Bool, augment: Augment, workers: Int = 2, prefetch: Int = 3,
                startBatch: Int = 0, positions: BatchPositions? = nil) throws {
        precondition(batchSize > 0 && workers >= 0 && prefetch >= 1 && epoch >= 0 && startBatch >= 0,
                     "BatchLoader: batchSize \(batchSize), workers \(workers), prefetch \(prefetch), epoch \(epoch), startBatch \(startBatch)")
        let base = indices ?? Array(0..<dataset.count)
        if let bad = base.first(where: { $0 < 0 || $0 >= dataset.count }) {
            throw DatasetError.invalidRequest("BatchLoader: index \(bad) is outside \(dataset.name)'s 0..<\(dataset.count)")
        }
        self.dataset = dataset
        self.augment = augment
        self.batchSize = batchSize; self.seed = seed; self.epoch = epoch
        self.positions = positions
        if shuffle {
            let perm = Philox(seed: seed, purpose: .shuffle, index: UInt64(epoch)).permutation(base.count)
            order = perm.map { base[$0] }
        } else {
            order = base
        }
        count = dropLast ? order.count / batchSize : (order.count + batchSize - 1) / batchSize
        local = try AugmentWorker(augment, channels: dataset.channels, height: dataset.height, width: dataset.width)
        outputShape = [local.outHeight, local.outWidth, dataset.channels]
        nextBatch = startBatch
        if workers > 0 && startBatch < count {
            let job = BatchJob(dataset: dataset, order: order, batchSize: batchSize, seed: seed, epoch: epoch, positions: positions)
            let states = try (0..<workers).map { _ in
                try AugmentWorker(augment, channels: dataset.channels, height: dataset.height, width: dataset.width)
            }
            prefetcher = Prefetcher(job: job, total: count, start: startBatch, ahead: prefetch, workers: states)
        } else {
            prefetcher = nil
        }
    }

    deinit { close() }

    /// The next batch of the epoch, or `nil` after the last one.
    /// - Throws: the error a sample raised while its batch was built (`DatasetError`).
    public func next() throws -> Batch? {
        guard nextBatch < count else { return nil }
        defer { nextBatch += 1 }
        if let prefetcher { return try prefetcher.take(nextBatch).get() }
        return try batch(nextBatch)
    }

    /// Builds batch `b` on the calling thread (random access; does not move `next()`).
    public func batch(_ b: Int) throws -> Batch {
        precondition(b >= 0 && b < count, "BatchLoader: batch \(b) of \(count)")
        return try BatchJob(dataset: dataset, order: order, batchSize: batchSize, seed: seed, epoch: epoch, positions: positions)
            .build(b, with: local)
    }

    /// Stops the background threads and waits for them (idempotent; `deinit` calls it).
    public func close() { prefetcher?.stop() }
}

/// What a batch is made of: everything but the scratch buffers, so it can be shared by threads.
struct BatchJob: @unchecked Sendable {
    let dataset: any ImageDataset
    let order: [Int]
    let batchSize: Int, seed: UInt64, epoch: Int
    let positions: BatchPositions?

    /// Builds batch `b` using `worker`'s scratch buffers.
    func build(_ b: Int, with worker: AugmentWorker) throws -> Batch {
        let lo = b * batchSize, hi = min(lo + batchSize, order.count)
        let per = worker.outputCount
        let images = Tensor(uninitialized: [hi - lo, worker.outHeight, worker.outWidth, worker.channels])
        let samples = Array(order[lo..<hi])
        let wanted = positions?(b, samples.count)
        for (k, i) in samples.enumerated() {
            if let wanted, !wanted[k] { (images.data + k * per).update(repeating: 0, count: per); continue }
            try worker.apply(images.data + k * per, dataset: dataset, index: i, seed: seed, epoch: epoch)
        }
        return Batch(index: b, images: images, labels: samples.map { dataset.label(at: $0) }, samples: samples)
    }
}

/// Background threads and the bounded queue between them and the consumer.
final class Prefetcher: @unchecked Sendable {
    private let job: BatchJob
    private let total: Int, ahead: Int
    private let cond = NSCondition()
    // Guarded by `cond`:
    private var claimed: Int          // next batch a worker may start
    private var consumed: Int         // next batch the consumer will take
    private var ready: [Int: Result<Batch, Error>] = [:]
    private var stopped = false
    private var alive = 0

    init(job: BatchJob, total: Int, start: Int, ahead: Int, workers: [AugmentWorker]) {
        self.job = job; self.total = total; self.ahead = ahead
        claimed = start; consumed = start
        alive = workers.count
        for (w, state) in workers.enumerated() {
            let thread = Thread { [self] in run(state) }
            thread.name = "rkan-loader-\(w)"
            thread.start()
        }
    }

    /// Worker loop: claim the lowest unclaimed batch within `ahead` of the consumer, build it, post it.
    private func run(_ state: AugmentWorker) {
        cond.lock()
        while !stopped && claimed < total {
            if claimed >= consumed + ahead { cond.wait(); continue }
            let b = claimed
            claimed += 1
            cond.unlock()
            let result = Result { try job.build(b, with: state) }
            cond.lock()
            if !stopped { ready[b] = result }
            cond.broadcast()
        }
        alive -= 1
        cond.broadcast()
        cond.unlock()
    }

    /// Waits for batch `b` (the consumer's next) and removes it from the queue.
    func take(_ b: Int) -> Result<Batch, Error> {
        cond.lock()
        defer { cond.unlock() }
        precondition(b == consumed, "Prefetcher: batches are taken in order (\(b) asked, \(consumed) next)")
        while ready[b] == nil {
            precondition(!stopped, "BatchLoader: next() after close()")
            cond.wait()
        }
        consumed += 1
        cond.broadcast()
        return ready.removeValue(forKey: b)!
    }

    /// Tells the workers to stop after their current batch and waits until all have exited.
    func stop() {
        cond.lock()
        stopped = true
        ready.removeAll()
        cond.broadcast()
        while alive > 0 { cond.wait() }
        cond.unlock()
    }
}
