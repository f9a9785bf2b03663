import Foundation
import Engine
import Zoo
import Datasets
import RunStore

/// Everything that determines one run (experiment × seed × profile), fully resolved from the
/// suite and profile by `Suite.runs(profile:only:seeds:)`. Stored as the run file's `config`
/// attribute (sorted-key JSON; the spec and dataset as their text); a resume refuses a run file
/// whose config differs.
public struct RunConfig: Codable, Equatable, Sendable {
    public var suite: String
    public var experiment: String
    /// Model spec with the profile's width applied (stored as its canonical text).
    public var model: ModelSpec
    public var seed: Int
    public var profile: String
    public var dataset: DatasetName
    /// Side of the square input images the model sees.
    public var imageSize: Int
    /// Class-balanced training/test subsets (nil: the whole split).
    public var trainSubset: Int?
    public var testSubset: Int?
    /// Epochs, batch, optimizer, schedule, label smoothing, augmentation.
    public var training: TrainingProtocol
    public var evalBatchSize: Int
    public var bench: BenchConfig

    /// How `run` measures img/s at the end of a run (timm's method, scaled by the profile).
    public struct BenchConfig: Codable, Equatable, Sendable {
        public var batch: Int
        public var warmup: Int
        public var iterations: Int
        public var repeats: Int
        public init(batch: Int, warmup: Int, iterations: Int, repeats: Int) {
            self.batch = batch; self.warmup = warmup; self.iterations = iterations; self.repeats = repeats
        }
    }

    enum CodingKeys: String, CodingKey {
        case suite, experiment, model, seed, profile, dataset, training, bench
        case imageSize = "image_size", trainSubset = "train_subset", testSubset = "test_subset", evalBatchSize = "eval_batch_size"
    }

    /// Where the run's file belongs in the run tree.
    public var slot: RunSlot { RunSlot(suite: suite, profile: profile, experiment: experiment, seed: seed) }

    /// Sorted-key JSON: the canonical text stored in run files.
    public var canonicalJSON: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The learning-rate schedule in optimizer steps. Warm-up + cosine and multi-step change the rate
    /// once per epoch, as the reference notebook steps them (22e50367:training.ipynb `validate`);
    /// one-cycle per batch (the notebook steps `OneCycleLR` in its batch loop).
    public func lrSchedule(stepsPerEpoch: Int) -> LRSchedule {
        let t = training
        let total = t.epochs * stepsPerEpoch
        switch t.schedule.name {
        case .warmupCosine:
            return .warmupCosine(lr: t.optimizer.lr, warmupEpochs: t.schedule.warmupEpochs, epochs: t.epochs,
                                 minLR: t.schedule.minLr, stepsPerEpoch: stepsPerEpoch)
        case .onecycle:
            return .oneCycle(maxLR: t.optimizer.lr, totalSteps: total, pctStart: 0.3, divFactor: 25,
                             finalDivFactor: t.schedule.minLr > 0 ? t.optimizer.lr / 25 / t.schedule.minLr : 1e4)
        case .multistep:
            return .multiStep(lr: t.optimizer.lr, milestones: t.schedule.milestones ?? [], gamma: t.schedule.gamma ?? 0.1,
                              stepsPerEpoch: stepsPerEpoch)
        case .constant:
            return .constant(lr: t.optimizer.lr)
        }
    }
}
