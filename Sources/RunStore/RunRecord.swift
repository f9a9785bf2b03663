import Engine

/// Where a run stands; stored as the root attribute `status`.
public enum RunStatus: String, Sendable, CaseIterable {
    /// Training has started; the file is the last epoch's checkpoint.
    case running
    /// All epochs done, evaluated and benchmarked.
    case finished
    /// The loss became NaN or infinite; the run stopped.
    case diverged
}

/// The root attributes of a run file: what was run, where, and how it ended.
/// `RunFile.readAttributes(_:)` reads just these, without the tensors.
public struct RunAttributes: Equatable, Sendable {
    /// The layout version this build writes and reads. `rkan-repro/2` added the per-part
    /// content digests (`sha256_<part>`, see `ContentDigest`) and stores strings fixed-length;
    /// `rkan-repro/1` files are refused with the command that retrains them.
    public static let currentSchema = "rkan-repro/2"

    public var schema: String = RunAttributes.currentSchema
    /// Suite name (`cifar100`).
    public var suite: String
    /// Experiment id within the suite (`rkanet101`).
    public var experiment: String
    /// Model spec (`resnet101+rkan`).
    public var model: String
    public var seed: Int
    /// Profile name (`paper`, `nightly`, `smoke`).
    public var profile: String
    /// The resolved configuration as JSON.
    public var config: String
    public var gitCommit: String
    /// OpenBLAS core name (`Zen`).
    public var blasCore: String
    public var threads: Int
    public var host: String
    public var status: RunStatus
    /// `WeightsDigest.sha256(of: weights)`; `RunFile.write` fills it in when empty.
    public var weightsSHA256: String
    /// The engine's algorithm for 3×3 stride-1 convs (`winograd-mixed`, `winograd-f4a`, `winograd-f2` or `im2col`); it changes the
    /// rounding, so digests compare only between runs with the same one.
    public var convAlgorithm: String
    /// The GEMM of the Winograd forward and input-gradient products (`openblas` or `own`); it
    /// changes the rounding like `convAlgorithm`. Files written before it was recorded ran
    /// `openblas` and are read so.
    public var winogradGEMM: String = "openblas"
    /// The values `winograd_gemm` may hold (the engine's `WinogradGEMM` cases).
    public static var winogradGEMMs: [String] { WinogradGEMM.allCases.map(\.rawValue) }
    /// Data-parallel ranks the run trained with (1: one process). Never changes the weights.
    public var ranks: Int = 1
    /// Training images per second of the whole run (all ranks; training loop only, no evaluation).
    public var trainImagesPerSecond: Double = 0
    /// `trainImagesPerSecond / (ranks · single-process train img/s)` with the single-process
    /// figure the run's own `/bench/train_img_s` (0 when unknown).
    public var scalingEfficiency: Double = 0

    public init(suite: String, experiment: String, model: String, seed: Int, profile: String,
                config: String, gitCommit: String, blasCore: String, threads: Int, host: String,
                status: RunStatus, weightsSHA256: String = "", convAlgorithm: String = "im2col") {
        self.suite = suite; self.experiment = experiment; self.model = model; self.seed = seed
        self.profile = profile; self.config = config; self.gitCommit = gitCommit
        self.blasCore = blasCore; self.threads = threads; self.host = host; self.status = status
        self.weightsSHA256 = weightsSHA256; self.convAlgorithm = convAlgorithm
    }
}

/// Training progress needed to resume bit-identically (`/state`).
public struct RunState: Equatable, Sendable {
    /// Epochs completed.
    public var epoch: Int
    /// Optimizer steps taken.
    public var step: Int
    /// Other named integers (e.g. `data_order_epoch`): `/state/values/<name>`, int64.
    public var values: [String: Int64]
    /// Named RNG counters (Philox stream positions): `/state/rng/<name>`, uint64.
    public var rngCounters: [String: UInt64]
    /// Anything else, as a small JSON document: attribute `extra` of `/state`.
    public var extraJSON: String

    public init(epoch: Int = 0, step: Int = 0, values: [String: Int64] = [:],
                rngCounters: [String: UInt64] = [:], extraJSON: String = "{}") {
        self.epoch = epoch; self.step = step; self.values = values
        self.rngCounters = rngCounters; self.extraJSON = extraJSON
    }
}

/// One throughput measurement (`/bench/<name>`): img/s values with their batch and image size.
public struct BenchEntry: Equatable, Sendable {
    /// E.g. `train_img_s`, `infer_img_s`.
    public var name: String
    /// One value per repetition (img/s).
    public var values: [Double]
    public var batch: Int
    /// Input resolution in pixels (square).
    public var size: Int

    public init(name: String, values: [Double], batch: Int, size: Int) {
        self.name = name; self.values = values; self.batch = batch; self.size = size
    }
}

/// Everything one run file holds (docs/design.md, "HDF5 run file").
public struct RunRecord: Equatable, Sendable {
    public var attributes: RunAttributes
    /// The model's state dict in PyTorch's keys and shapes (`/weights/<key>`), in any order when
    /// written; read back in key order (`RunFile.write` stores them so).
    public var weights: [WeightEntry]
    /// Optimizer state such as momentum buffers (`/optimizer/<key>`).
    public var optimizer: [WeightEntry]
    public var state: RunState
    /// One value per epoch: `train_loss`, `train_top1`, `val_loss`, `val_top1`, `val_top5`,
    /// `lr`, `epoch_seconds` (`/metrics/<name>`, float64).
    public var metrics: [String: [Double]]
    /// Throughput measurements (`/bench/<name>`).
    public var bench: [BenchEntry]

    public init(attributes: RunAttributes, weights: [WeightEntry] = [], optimizer: [WeightEntry] = [],
                state: RunState = RunState(), metrics: [String: [Double]] = [:], bench: [BenchEntry] = []) {
        self.attributes = attributes; self.weights = weights; self.optimizer = optimizer
        self.state = state; self.metrics = metrics; self.bench = bench
    }

    /// The metric names docs/design.md fixes, in report order.
    public static let standardMetrics = ["train_loss", "train_top1", "val_loss", "val_top1", "val_top5",
                                         "lr", "epoch_seconds"]
}
