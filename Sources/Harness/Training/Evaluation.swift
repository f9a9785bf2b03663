import Foundation
import Engine
import Zoo

/// The validation pass after each epoch: mean loss (no label smoothing), top-1 and top-5 in
/// percent over the test subset, in a fixed order without augmentation.
struct Evaluation {
    let data: TrainingData
    let batchSize: Int

    /// The results of one pass.
    struct Result: Equatable {
        var loss: Double
        var top1: Double
        var top5: Double
    }

    /// A non-finite value during evaluation (1-based validation batch).
    struct Divergence: Error {
        var what: String
        var batch: Int
    }

    /// Evaluates `model` in eval mode (BatchNorm running statistics).
    /// - Parameter injectNaN: test hook (`TrainingHooks.nanLogitsAtEvaluation`): the first
    ///   batch's logits get a NaN.
    /// - Throws: `Divergence` at the first batch whose logits or loss are not finite; data errors.
    func run(_ model: Model, injectNaN: Bool = false) throws -> Result {
        var loss = 0.0, c1 = 0, c5 = 0, n = 0
        let sharding = model.context.sharding, dp = DataParallel(sharding: sharding)
        let stream = try data.testLoader(batchSize: batchSize, share: dp.loaderShare)
        defer { stream.close() }
        var batchIndex = 0
        while let whole = try stream.next() {
            batchIndex += 1
            let batch = dp.local(whole)   // a data-parallel rank keeps its shards
            let logits = try model.forward(batch.images, mode: .eval)
            if injectNaN && logits.count > 0 && dp.isWriter { logits.data[0] = .nan }
            guard dp.all(Self.allFinite(logits)) else {
                throw Divergence(what: "validation logits (non-finite values)", batch: batchIndex)
            }
            let (l, _) = try softmaxCrossEntropy(logits: logits, targets: .labels(batch.labels), sharding: sharding)
            guard l.isFinite else { throw Divergence(what: "validation loss \(l)", batch: batchIndex) }
            loss += l * Double(whole.labels.count)
            let counts = dp.sum([topKCorrect(logits: logits, labels: batch.labels, k: 1),
                                 topKCorrect(logits: logits, labels: batch.labels, k: min(5, data.classes))])
            c1 += counts[0]; c5 += counts[1]
            n += whole.labels.count
        }
        let d = Double(max(n, 1))
        return Result(loss: loss / d, top1: 100 * Double(c1) / d, top5: 100 * Double(c5) / d)
    }

    /// Whether every value of `t` is finite.
    static func allFinite(_ t: Tensor) -> Bool {
        let p = t.data
        for i in 0..<t.count where !p[i].isFinite { return false }
        return true
    }
}
