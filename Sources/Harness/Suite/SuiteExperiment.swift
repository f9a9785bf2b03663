import Zoo

/// Whether an experiment is a plain backbone or its RKAN counterpart.
public enum ExperimentRole: String, Codable, CaseIterable, Sendable {
    case baseline, rkan
}

/// One row of a suite's table: a model spec, trained once per seed.
public struct SuiteExperiment: Codable, Equatable, Sendable {
    /// Unique id within the suite (also the run folder name).
    public var id: String
    /// Model spec, e.g. `resnet18(stem=small)+rkan` (grammar in docs/design.md "Model specs"),
    /// parsed when the suite is decoded; encoded as its canonical text.
    public var model: ModelSpec
    /// Id of the baseline this row is compared with (RKAN rows).
    public var baseline: String?
    /// Role; when the file omits it, `rkan` if `baseline` is given, else `baseline`.
    public var role: ExperimentRole
    /// The notebook era (a key of the suite's `eras`) that produced the published value.
    public var era: String?
    /// Published values, when the paper has this row.
    public var paper: PaperValues?
    /// Free text shown under the report table.
    public var note: String?

    /// Creates an experiment.
    public init(id: String, model: ModelSpec, baseline: String? = nil, role: ExperimentRole? = nil,
                era: String? = nil, paper: PaperValues? = nil, note: String? = nil) {
        self.id = id
        self.model = model
        self.baseline = baseline
        self.role = role ?? (baseline == nil ? .baseline : .rkan)
        self.era = era
        self.paper = paper
        self.note = note
    }
}

/// Values printed in the paper (README tables) for one row; each may be absent.
public struct PaperValues: Codable, Equatable, Sendable {
    /// Best validation top-1, percent.
    public var top1: Double?
    /// Throughput, images per second.
    public var imgPerSec: Double?
    /// Parameter count in millions (thop convention).
    public var paramsM: Double?
    /// Detection tables (Mask R-CNN on COCO): box AP@[.5:.95], box AP@.5, mask AP@[.5:.95] and mask
    /// AP@.5, percent; `imgPerSec` is then the detector's FPS (batch 1).
    public var apBox: Double?
    public var ap50Box: Double?
    public var apMask: Double?
    public var ap50Mask: Double?
    /// README versions that print these values (tags of the reference's README history, e.g. `R3`).
    public var readme: [String]?
    /// Where the values come from.
    public var source: String?

    /// Creates published values.
    public init(top1: Double? = nil, imgPerSec: Double? = nil, paramsM: Double? = nil, readme: [String]? = nil,
                source: String? = nil, apBox: Double? = nil, ap50Box: Double? = nil, apMask: Double? = nil,
                ap50Mask: Double? = nil) {
        self.top1 = top1
        self.imgPerSec = imgPerSec
        self.paramsM = paramsM
        self.readme = readme
        self.source = source
        self.apBox = apBox
        self.ap50Box = ap50Box
        self.apMask = apMask
        self.ap50Mask = ap50Mask
    }

    /// Whether any detection value is given.
    public var hasDetectionValues: Bool { apBox != nil || ap50Box != nil || apMask != nil || ap50Mask != nil }

    enum CodingKeys: String, CodingKey {
        case top1, source, readme
        case imgPerSec = "img_s", paramsM = "params_m"
        case apBox = "ap_box", ap50Box = "ap50_box", apMask = "ap_mask", ap50Mask = "ap50_mask"
    }
}

/// Scaled overrides of the protocol for machines without the paper's budget.
///
/// Every field is optional; what is nil keeps the protocol's value. `augment`, when given,
/// replaces the protocol's augmentation as a whole.
public struct SuiteProfile: Codable, Equatable, Sendable {
    public var epochs: Int?
    public var batchSize: Int?
    /// Train on the first N images of a fixed seeded permutation (nil: all).
    public var trainSubset: Int?
    /// Evaluate on the first N test images (nil: all).
    public var testSubset: Int?
    /// Input resolution in pixels (nil: the dataset's).
    public var resolution: Int?
    /// Channel width multiplier of the backbone (nil: 1).
    public var width: Double?
    /// Peak learning rate.
    public var lr: Double?
    public var warmupEpochs: Int?
    /// Seeds to run (nil: the suite's).
    public var seeds: [Int]?
    /// Replacement augmentation.
    public var augment: AugmentConfig?
    /// Sizes of the end-of-run throughput measurement (nil fields: `BenchSizes`' defaults).
    public var bench: BenchSizes?
    /// Whose values the protocol takes where the README text and a row's era notebook disagree
    /// (nil: the README's, as profile `paper`).
    public var follow: ProtocolSource?
    /// Where a detector's backbone starts (nil: the protocol's `start`).
    public var start: StartWeights?
    /// The data set `run` makes and trains on when no `--data` is given (detection profiles on
    /// the generated shapes data).
    public var shapes: ShapesData?

    /// Creates a profile; every override defaults to none.
    public init(epochs: Int? = nil, batchSize: Int? = nil, trainSubset: Int? = nil, testSubset: Int? = nil,
                resolution: Int? = nil, width: Double? = nil, lr: Double? = nil, warmupEpochs: Int? = nil,
                seeds: [Int]? = nil, augment: AugmentConfig? = nil, bench: BenchSizes? = nil,
                follow: ProtocolSource? = nil, start: StartWeights? = nil, shapes: ShapesData? = nil) {
        self.start = start
        self.shapes = shapes
        self.epochs = epochs
        self.batchSize = batchSize
        self.trainSubset = trainSubset
        self.testSubset = testSubset
        self.resolution = resolution
        self.width = width
        self.lr = lr
        self.warmupEpochs = warmupEpochs
        self.seeds = seeds
        self.augment = augment
        self.bench = bench
        self.follow = follow
    }

    enum CodingKeys: String, CodingKey {
        case epochs, resolution, width, lr, seeds, augment, bench, follow, start, shapes
        case batchSize = "batch_size", trainSubset = "train_subset", testSubset = "test_subset"
        case warmupEpochs = "warmup_epochs"
    }
}

/// The generated detection data set of a profile (`shapes: {images, size, seed}`): what
/// `rkan-repro data make shapes --images N --size PX --seed S` writes.
public struct ShapesData: Codable, Equatable, Sendable {
    public static let maxImages = 200_000
    public static let sizes = 32...1024
    /// Training images (validation gets a fifth as many more, as `data make shapes` makes them).
    public var images: Int
    /// Side of the square images in pixels.
    public var size: Int
    public var seed: Int
    public init(images: Int, size: Int, seed: Int) { self.images = images; self.size = size; self.seed = seed }

    /// The folder name under `<runs>/data` (one per setting, reused by every run).
    public var folderName: String { "shapes-s\(seed)-n\(images)-\(size)px" }
}
