import Foundation
import Engine
import Zoo

/// The training batches of one epoch: forward, loss, backward and an optimizer step per batch,
/// from the position's batch on (0, or where a mid-epoch checkpoint was saved), with a
/// checkpoint whenever `RunCheckpoint.isDue`.
struct TrainingEpoch {
    let config: RunConfig
    let data: TrainingData
    let model: Model
    let optimizer: Optimizer
    let schedule: LRSchedule
    let batchesPerEpoch: Int
    let hooks: TrainingHooks
    let checkpoint: RunCheckpoint
    let progress: ProgressBar

    /// How the epoch's batches ended.
    enum End: Equatable {
        /// Every batch trained; the position's sums hold the epoch's training loss and accuracy.
        case completed
        /// A training loss or logit was not finite (what, where); the position is that of the
        /// step before (nothing of the bad step was applied).
        case diverged(detail: String)
    }

    /// Trains the rest of epoch `position.epoch`, advancing `position` (step, batch, sums) after
    /// every batch and saving a mid-epoch checkpoint when one is due.
    /// - Throws: data, engine and checkpoint-writing errors.
    func train(_ position: inout TrainingPosition) throws -> End {
        let c = config
        let sharding = model.context.sharding, dp = DataParallel(sharding: sharding)
        let stream = try data.trainLoader(epoch: position.epoch, seed: c.seed, batchSize: c.training.batchSize,
                                          augment: c.training.augment, startBatch: position.batch, share: dp.loaderShare)
        defer { stream.close() }
        let resumedAt = Date()
        let secondsBefore = position.sums.seconds
        while let whole = try stream.next() {
            let tb = Date()
            // A data-parallel rank keeps its shards; sums and counts are of the whole batch.
            let batch = dp.local(whole), globalCount = whole.labels.count
            model.store.zeroGrad()
            let logits = try model.forward(batch.images, mode: .train)
            var (loss, dlogits) = try softmaxCrossEntropy(logits: logits, targets: batch.targets,
                                                          labelSmoothing: Float(c.training.labelSmoothing), sharding: sharding)
            if position.step == hooks.nanLossAtStep { loss = .nan }
            let logitsFinite = dp.all(Evaluation.allFinite(logits))
            guard loss.isFinite && logitsFinite else {
                let what = logitsFinite ? "training loss \(loss)" : "training logits (non-finite values)"
                return .diverged(detail: "\(what) at epoch \(position.epoch + 1), batch \(position.batch + 1) (step \(position.step))")
            }
            model.backward(dlogits)
            optimizer.step(lr: Float(schedule.lr(at: position.step)))
            position.step += 1
            position.sums.lossSum += loss * Double(globalCount)
            position.sums.correct += dp.sum([topKCorrect(logits: logits, labels: batch.labels, k: 1)])[0]
            position.sums.seen += globalCount
            let dt = Date().timeIntervalSince(tb)
            checkpoint.countTraining(images: globalCount, seconds: dt)
            let ips = Double(globalCount) / max(dt, 1e-9)
            progress.step(epoch: position.epoch, epochs: c.training.epochs, batch: position.batch, batches: batchesPerEpoch,
                          loss: position.sums.lossSum / Double(position.sums.seen),
                          accuracy: Double(position.sums.correct) / Double(position.sums.seen), imagesPerSecond: ips)
            position.batch += 1
            position.sums.seconds = secondsBefore + Date().timeIntervalSince(resumedAt)
            if checkpoint.isDueOnEveryRank { try checkpoint.save(model: model, optimizer: optimizer, position: position, status: .running) }
            hooks.afterStep?(position.epoch, position.batch - 1)
        }
        return .completed
    }
}
