/// The training protocol of a suite: what the paper used, applied unchanged by profile `paper`.
///
/// Field names follow the YAML keys (`batch_size` ↔ `batchSize`); see docs/design.md "Suite files".
public struct TrainingProtocol: Codable, Equatable, Sendable {
    /// Number of training epochs.
    public var epochs: Int
    /// Mini-batch size.
    public var batchSize: Int
    /// Optimizer and its hyper-parameters.
    public var optimizer: OptimizerConfig
    /// Learning-rate schedule.
    public var schedule: ScheduleConfig
    /// Label smoothing ε of the cross-entropy (0 = none).
    public var labelSmoothing: Double
    /// Training-time augmentation.
    public var augment: AugmentConfig
    /// Where a detector's backbone starts (nil for classification, which starts from the seed).
    public var start: StartWeights? = nil

    enum CodingKeys: String, CodingKey {
        case epochs, optimizer, schedule, augment, start
        case batchSize = "batch_size", labelSmoothing = "label_smoothing"
    }
}

/// Where a detection run's backbone weights come from (`start:` in a detection suite's protocol
/// or profile). The heads always start from the seed, as torchvision initialises them.
public enum StartWeights: String, Codable, CaseIterable, Sendable {
    /// The ImageNet classification weights of the same backbone: the finished run of the row of
    /// suite `imagenet` whose model is this detector's backbone, or a state dict given with
    /// `--start-weights` (the reference's `train_status = "load_weights"`).
    case imagenet
    /// The seed's random initialisation: not the protocol; for smoke and nightly profiles.
    case random
}

/// Optimizer settings (`optimizer:` in a suite).
public struct OptimizerConfig: Codable, Equatable, Sendable {
    /// Which optimizer.
    public enum Name: String, Codable, CaseIterable, Sendable { case sgd, adamw }

    /// Which optimizer.
    public var name: Name
    /// Peak learning rate.
    public var lr: Double
    /// SGD momentum (0 when not given; SGD only).
    public var momentum: Double
    /// Nesterov momentum (false when not given; SGD only).
    public var nesterov: Bool
    /// L2 weight decay (decoupled for AdamW).
    public var weightDecay: Double
    /// AdamW (β1, β2); nil for SGD, (0.9, 0.999) when AdamW is given without them.
    public var betas: [Double]?

    enum CodingKeys: String, CodingKey {
        case name, lr, momentum, nesterov, betas
        case weightDecay = "weight_decay"
    }
}

/// Learning-rate schedule settings (`schedule:` in a suite).
public struct ScheduleConfig: Codable, Equatable, Sendable {
    /// Which schedule.
    public enum Name: String, Codable, CaseIterable, Sendable {
        case warmupCosine = "warmup_cosine", onecycle, multistep, constant
    }

    /// Which schedule.
    public var name: Name
    /// Epochs of linear warm-up from 0 to the peak lr (0 when not given).
    public var warmupEpochs: Int
    /// Floor of the cosine / one-cycle decay (0 when not given).
    public var minLr: Double
    /// Epochs at which `multistep` multiplies the lr by `gamma` (multistep only).
    public var milestones: [Int]?
    /// Factor of `multistep` (0.1 when not given; multistep only).
    public var gamma: Double?

    enum CodingKeys: String, CodingKey {
        case name, milestones, gamma
        case warmupEpochs = "warmup_epochs", minLr = "min_lr"
    }
}

/// Training-time augmentation (`augment:` in a suite or a profile).
public struct AugmentConfig: Codable, Equatable, Sendable {
    /// RandAugment(n ops, magnitude m).
    public struct RandAugment: Codable, Equatable, Sendable {
        /// Number of operations per image.
        public var n: Int
        /// Magnitude, 0...30 as in torchvision.
        public var m: Int
    }

    /// CutMix or MixUp: applied with probability `p`, mixing weight drawn from Beta(α, α).
    public struct Mix: Codable, Equatable, Sendable {
        /// Probability of applying it to a batch.
        public var p: Double
        /// Beta distribution parameter α.
        public var alpha: Double
    }

    /// torchvision AutoAugment policies.
    public enum AutoAugmentPolicy: String, Codable, CaseIterable, Sendable { case imagenet, cifar10, svhn }

    /// Random horizontal flip with p = 0.5.
    public var hflip: Bool
    /// Zero-pad by this many pixels, then random crop back to size.
    public var padCrop: Int?
    /// RandAugment settings.
    public var randaugment: RandAugment?
    /// AutoAugment policy.
    public var autoaugment: AutoAugmentPolicy?
    /// CutMix settings.
    public var cutmix: Mix?
    /// MixUp settings (tried when CutMix was not drawn, as in the reference notebook).
    public var mixup: Mix?

    /// No augmentation at all.
    public static let none = AugmentConfig(hflip: false)

    /// Creates an augmentation setting; everything but `hflip` defaults to off.
    public init(hflip: Bool, padCrop: Int? = nil, randaugment: RandAugment? = nil,
                autoaugment: AutoAugmentPolicy? = nil, cutmix: Mix? = nil, mixup: Mix? = nil) {
        self.hflip = hflip
        self.padCrop = padCrop
        self.randaugment = randaugment
        self.autoaugment = autoaugment
        self.cutmix = cutmix
        self.mixup = mixup
    }

    enum CodingKeys: String, CodingKey {
        case hflip, randaugment, autoaugment, cutmix, mixup
        case padCrop = "pad_crop"
    }
}
