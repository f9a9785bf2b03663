import Foundation

/// Everything that determines one run (experiment × seed × profile), fully resolved from the
/// suite and profile. Stored as the run file's `config` attribute (sorted-key JSON); a resume
/// refuses a run file whose config differs.
public struct RunConfig: Codable, Equatable, Sendable {
    public var suite: String
    public var experiment: String
    /// Model spec with the profile's width applied (canonical text).
    public var model: String
    public var seed: Int
    public var profile: String
    public var dataset: String
    /// Side of the square input images the model sees.
    public var imageSize: Int
    public var epochs: Int
    public var batchSize: Int
    public var evalBatchSize: Int
    public var optimizer: OptimizerConfig
    public var schedule: ScheduleConfig
    public var labelSmoothing: Double
    public var augment: AugmentConfig
    /// Class-balanced training/test subsets (nil: the whole split).
    public var trainSubset: Int?
    public var testSubset: Int?
    public var bench: BenchConfig

    public struct OptimizerConfig: Codable, Equatable, Sendable {
        public var name: String          // sgd | adamw
        public var lr: Double
        public var momentum: Double
        public var nesterov: Bool
        public var weightDecay: Double
        public var betas: [Double]?
        public init(name: String, lr: Double, momentum: Double, nesterov: Bool, weightDecay: Double, betas: [Double]? = nil) {
            self.name = name; self.lr = lr; self.momentum = momentum; self.nesterov = nesterov
            self.weightDecay = weightDecay; self.betas = betas
        }
    }

    public struct ScheduleConfig: Codable, Equatable, Sendable {
        public var name: String          // warmup_cosine | onecycle | multistep | constant
        public var warmupEpochs: Double
        public var minLR: Double
        public var milestones: [Int]?
        public var gamma: Double?
        public init(name: String, warmupEpochs: Double = 0, minLR: Double = 0, milestones: [Int]? = nil, gamma: Double? = nil) {
            self.name = name; self.warmupEpochs = warmupEpochs; self.minLR = minLR; self.milestones = milestones; self.gamma = gamma
        }
    }

    public struct AugmentConfig: Codable, Equatable, Sendable {
        public var hflip: Bool
        /// Zero padding of a random crop back to the input size (RandomCrop(size, padding)).
        public var padCrop: Int?
        public var cutmixP: Double?
        public var cutmixAlpha: Double?
        public var mixupP: Double?
        public var mixupAlpha: Double?
        public init(hflip: Bool = false, padCrop: Int? = nil, cutmixP: Double? = nil, cutmixAlpha: Double? = nil,
                    mixupP: Double? = nil, mixupAlpha: Double? = nil) {
            self.hflip = hflip; self.padCrop = padCrop; self.cutmixP = cutmixP; self.cutmixAlpha = cutmixAlpha
            self.mixupP = mixupP; self.mixupAlpha = mixupAlpha
        }
    }

    public struct BenchConfig: Codable, Equatable, Sendable {
        public var batch: Int
        public var warmup: Int
        public var iterations: Int
        public var repeats: Int
        public init(batch: Int, warmup: Int, iterations: Int, repeats: Int) {
            self.batch = batch; self.warmup = warmup; self.iterations = iterations; self.repeats = repeats
        }
    }

    /// Sorted-key JSON: the canonical text stored in run files.
    public var canonicalJSON: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The learning-rate schedule in optimizer steps.
    public func lrSchedule(stepsPerEpoch: Int) -> LRScheduleSpec {
        LRScheduleSpec(config: self, stepsPerEpoch: stepsPerEpoch)
    }
}

import Engine

/// Builds the engine's `LRSchedule` from a run config.
public struct LRScheduleSpec {
    public let schedule: LRSchedule
    init(config c: RunConfig, stepsPerEpoch: Int) {
        let total = c.epochs * stepsPerEpoch
        switch c.schedule.name {
        case "warmup_cosine":
            schedule = .warmupCosine(lr: c.optimizer.lr, warmupSteps: Int((c.schedule.warmupEpochs * Double(stepsPerEpoch)).rounded()),
                                     totalSteps: total, minLR: c.schedule.minLR)
        case "onecycle":
            schedule = .oneCycle(maxLR: c.optimizer.lr, totalSteps: total, pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4)
        case "multistep":
            schedule = .multiStep(lr: c.optimizer.lr, milestones: c.schedule.milestones ?? [], gamma: c.schedule.gamma ?? 0.1,
                                  stepsPerEpoch: stepsPerEpoch)
        default:
            schedule = .constant(lr: c.optimizer.lr)
        }
    }
}
