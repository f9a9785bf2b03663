import Zoo
import RunStore

/// What a report needs from one run file. Plain values, so reports are testable without HDF5.
///
/// Accuracy metrics (`val_top1`, `val_top5`, `train_top1`) are in **percent** (0–100), one value
/// per finished epoch, epoch 1 first; losses in nats; `lr` as is.
public struct RunSummary: Equatable, Sendable {
    public var suite: String
    /// Experiment id.
    public var experiment: String
    /// Model spec the run trains (the suite row's, at the profile's width).
    public var model: ModelSpec
    public var role: ExperimentRole
    /// Baseline experiment id (RKAN rows).
    public var baseline: String?
    public var seed: Int
    public var profile: String
    /// The run file's status; nil when the plan has the run but no file exists (missing).
    public var status: RunStatus?
    /// Every parameter the forward pass uses (0 when unknown, e.g. a missing run).
    public var params: Int
    /// Parameters under thop's counting convention (what the paper prints), when known.
    public var paramsThop: Int?
    /// Multiply-accumulates of one forward pass, when known.
    public var macs: Int?
    /// Per-epoch metrics by name (`val_top1`, `val_loss`, ...), percent for accuracies.
    public var metrics: [String: [Double]]
    /// Training throughput, images per second.
    public var trainImgPerSec: Double?
    /// Inference throughput, images per second: the median of its rounds (a detector's FPS at
    /// batch 1 in a detection suite).
    public var inferImgPerSec: Double?
    /// Inference img/s of this RKAN run over its baseline's, one value per round of a measurement
    /// that alternated the two models (`Throughput.measureInterleaved`); nil for older run files
    /// and baseline rows.
    public var inferRatioVsBaseline: [Double]?
    /// The run file's `weights_sha256` (nil: missing run).
    public var weightsSHA256: String?
    /// Side S of the square image the inference throughput was measured on (detection runs:
    /// `/bench/infer_fps`'s size), when known.
    public var inferSize: Int?

    /// Creates a run summary.
    public init(suite: String, experiment: String, model: ModelSpec, role: ExperimentRole, baseline: String? = nil,
                seed: Int, profile: String, status: RunStatus?, params: Int, paramsThop: Int? = nil, macs: Int? = nil,
                metrics: [String: [Double]] = [:], trainImgPerSec: Double? = nil, inferImgPerSec: Double? = nil) {
        self.suite = suite
        self.experiment = experiment
        self.model = model
        self.role = role
        self.baseline = baseline
        self.seed = seed
        self.profile = profile
        self.status = status
        self.params = params
        self.paramsThop = paramsThop
        self.macs = macs
        self.metrics = metrics
        self.trainImgPerSec = trainImgPerSec
        self.inferImgPerSec = inferImgPerSec
    }

    /// `finished`, `running`, `diverged` or `missing`.
    public var statusText: String { Self.text(of: status) }

    /// The name of a status as reports print it (nil: `missing`).
    static func text(of status: RunStatus?) -> String { status?.rawValue ?? "missing" }

    /// Best validation top-1 over epochs (percent), nil without epochs.
    public var bestTop1: Double? { metrics["val_top1"]?.max() }
    /// Validation top-1 of the last epoch (percent), nil without epochs.
    public var finalTop1: Double? { metrics["val_top1"]?.last }
}

/// Where and how a report's numbers were made; printed at the top of the report.
public struct ReportHeader: Equatable, Sendable {
    /// Host name or machine description.
    public var machine: String
    /// CPU model.
    public var cpu: String
    /// OpenBLAS core (e.g. `Zen`).
    public var blasCore: String
    /// Threads used.
    public var threads: Int
    /// Git commit of the code.
    public var commit: String
    /// Profile the runs used.
    public var profile: String
    /// Seeds the runs used.
    public var seeds: [Int]
    /// Date string, printed verbatim (the only time in the report).
    public var date: String
    /// Command that regenerates the report.
    public var command: String

    /// Creates a header.
    public init(machine: String, cpu: String, blasCore: String, threads: Int, commit: String,
                profile: String, seeds: [Int], date: String, command: String) {
        self.machine = machine
        self.cpu = cpu
        self.blasCore = blasCore
        self.threads = threads
        self.commit = commit
        self.profile = profile
        self.seeds = seeds
        self.date = date
        self.command = command
    }
}

/// A plot the report links to.
public struct ReportPlot: Equatable, Sendable {
    /// Caption / alt text.
    public var title: String
    /// Path relative to the markdown file, e.g. `fashion-mnist/curves.svg`.
    public var path: String

    /// Creates a plot link.
    public init(title: String, path: String) {
        self.title = title
        self.path = path
    }
}
