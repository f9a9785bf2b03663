import Foundation
import RunStore

/// Where a run stands, besides its tensors: what a checkpoint stores in `/state`, `/metrics` and
/// `/bench` so that training continues to the bytes of an uninterrupted run.
///
/// At an epoch end `batch` is 0 and `/state/values` holds only `optimizer_steps` (the layout of
/// every run file before mid-epoch checkpoints). Inside an epoch it also holds the batches done
/// and the epoch's running sums (`MidEpochKey`), so the resumed epoch reports the same training
/// loss and accuracy; the loader restarts at that batch with the same Philox keys.
struct TrainingPosition: Equatable {
    /// Epochs completed.
    var epoch = 0
    /// Optimizer steps taken.
    var step = 0
    /// Batches of epoch `epoch` already trained (0 at an epoch boundary).
    var batch = 0
    /// The running sums of epoch `epoch` over its first `batch` batches.
    var sums = EpochSums()
    /// One value per completed epoch (`RunRecord.standardMetrics`).
    var metrics: [String: [Double]] = [:]
    /// Throughput measurements, taken once after the last epoch.
    var bench: [BenchEntry] = []
    /// `/state` attribute `extra`: `{"init_weights_sha256": ...}`, the digest of the weights the
    /// run started from (the bytes `rkan-repro init` writes for the same spec and seed).
    var extraJSON = "{}"

    /// Training loss and accuracy sums of the batches done in an epoch, and its seconds so far.
    struct EpochSums: Equatable {
        var lossSum = 0.0
        var correct = 0
        var seen = 0
        var seconds = 0.0
        /// Further running sums by name (a detector's five losses, its skipped batches), stored
        /// mid-epoch as `epoch_sum_<name>_bits`; none in a classification run.
        var named: [String: Double] = [:]
    }

    /// The prefix and suffix of a named running sum in `/state/values`.
    static let namedSumKey = (prefix: "epoch_sum_", suffix: "_bits")

    /// The names of the mid-epoch values in `/state/values` (int64).
    enum MidEpochKey: String, CaseIterable {
        case batch = "epoch_batches_done", lossSumBits = "epoch_loss_sum_bits", correct = "epoch_correct"
        case seen = "epoch_seen", microseconds = "epoch_microseconds"
    }

    /// Whether the position is inside an epoch (a mid-epoch checkpoint).
    var isMidEpoch: Bool { batch > 0 }

    /// The `/state` of a checkpoint at this position.
    /// - Parameters:
    ///   - optimizerSteps: the optimizer's own step count.
    ///   - divergedAtStep: the step that diverged, for a diverged run (which keeps no mid-epoch values).
    func state(optimizerSteps: Int64, divergedAtStep: Int? = nil) -> RunState {
        var values = ["optimizer_steps": optimizerSteps]
        if let d = divergedAtStep {
            values["diverged_at_step"] = Int64(d)
        } else if isMidEpoch {
            values[MidEpochKey.batch.rawValue] = Int64(batch)
            values[MidEpochKey.lossSumBits.rawValue] = Int64(bitPattern: sums.lossSum.bitPattern)
            values[MidEpochKey.correct.rawValue] = Int64(sums.correct)
            values[MidEpochKey.seen.rawValue] = Int64(sums.seen)
            values[MidEpochKey.microseconds.rawValue] = Int64((sums.seconds * 1e6).rounded())
            for (k, v) in sums.named { values[Self.namedSumKey.prefix + k + Self.namedSumKey.suffix] = Int64(bitPattern: v.bitPattern) }
        }
        return RunState(epoch: epoch, step: step, values: values, extraJSON: extraJSON)
    }

    /// The position a run file was saved at.
    /// - Throws: `HarnessError.incompatibleRunFile` when the mid-epoch values are partial or
    ///   out of range (`batchesPerEpoch`).
    init(record rec: RunRecord, batchesPerEpoch: Int, path: String) throws {
        epoch = rec.state.epoch
        step = rec.state.step
        metrics = rec.metrics
        bench = rec.bench
        extraJSON = rec.state.extraJSON
        let v = MidEpochKey.allCases.map { rec.state.values[$0.rawValue] }
        guard v.allSatisfy({ $0 != nil }) else {
            guard v.allSatisfy({ $0 == nil }) else {
                throw HarnessError.incompatibleRunFile(path: path, detail:
                    "its /state/values has only some of the mid-epoch values (\(MidEpochKey.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return
        }
        batch = Int(v[0]!)
        sums = EpochSums(lossSum: Double(bitPattern: UInt64(bitPattern: v[1]!)), correct: Int(v[2]!), seen: Int(v[3]!),
                         seconds: Double(v[4]!) / 1e6)
        let (prefix, suffix) = Self.namedSumKey
        for (k, bits) in rec.state.values where k.hasPrefix(prefix) && k.hasSuffix(suffix) && k.count > prefix.count + suffix.count {
            sums.named[String(k.dropFirst(prefix.count).dropLast(suffix.count))] = Double(bitPattern: UInt64(bitPattern: bits))
        }
        guard batch >= 1 && batch <= batchesPerEpoch else {
            throw HarnessError.incompatibleRunFile(path: path, detail:
                "it was saved after batch \(batch) of an epoch and an epoch here has \(batchesPerEpoch) batches")
        }
    }

    init() {}

    /// Records the metrics of the epoch just trained and evaluated and moves to the next epoch's start.
    /// - Parameters:
    ///   - evaluation: the validation pass after it.
    ///   - lr: the learning rate of its last step.
    ///   - seconds: its wall time, training and validation, over every process that worked on it.
    mutating func finishEpoch(evaluation ev: Evaluation.Result, lr: Double, seconds: Double) {
        let n = Double(max(sums.seen, 1))
        let record: [(String, Double)] = [
            ("train_loss", sums.lossSum / n), ("train_top1", 100 * Double(sums.correct) / n),
            ("val_loss", ev.loss), ("val_top1", ev.top1), ("val_top5", ev.top5), ("lr", lr), ("epoch_seconds", seconds),
        ]
        for (k, v) in record { metrics[k, default: []].append(v) }
        epoch += 1
        batch = 0
        sums = EpochSums()
    }

    /// Records the metrics of a detection epoch (`record`: name and value, in order) and moves to
    /// the next epoch's start.
    mutating func finishEpoch(record: [(String, Double)]) {
        for (k, v) in record { metrics[k, default: []].append(v) }
        epoch += 1
        batch = 0
        sums = EpochSums()
    }
}
