import Foundation

/// What `rkan-repro run` was asked to do.
public struct RunRequest: Sendable {
    public var suite: String
    public var profile: String
    public var only: [String]?
    public var seeds: [Int]?
    public var suitesFolder: URL
    public var dataFolder: URL?
    public var outFolder: URL
    public var threads: Int
    /// Background threads that decode and augment batches.
    public var loaderWorkers: Int
    /// Runs (experiment id, seed) whose file is moved aside (`RunFileAccess.moveAside`) and
    /// retrained (`--restart ID:SEED`).
    public var restart: [RestartTarget]
    /// How often each run saves a checkpoint inside an epoch (`--checkpoint-every`).
    public var checkpointInterval: CheckpointInterval
    /// Test hooks handed to every run's `Trainer` (none in normal use).
    public var hooks: TrainingHooks
    /// Data-parallel ranks (`--ranks`): must equal the MPI launcher's world size; nil takes the
    /// world size (1 without a launcher). Changes speed, never the bytes.
    public var ranks: Int? = nil
    /// Detection runs: the state dict each row's backbone starts from (`--start-weights ROW=FILE`),
    /// before the run tree's `imagenet` runs are looked up.
    public var startWeights: [String: URL] = [:]
    /// Detection runs: the run tree whose `imagenet` runs give the backbones' start (`--start-runs`;
    /// nil: `outFolder`).
    public var startRuns: URL? = nil

    public init(suite: String, profile: String, only: [String]? = nil, seeds: [Int]? = nil, suitesFolder: URL,
                dataFolder: URL? = nil, outFolder: URL, threads: Int, loaderWorkers: Int = 2, restart: [RestartTarget] = [],
                checkpointInterval: CheckpointInterval = .standard, hooks: TrainingHooks = TrainingHooks()) {
        self.suite = suite; self.profile = profile; self.only = only; self.seeds = seeds
        self.suitesFolder = suitesFolder; self.dataFolder = dataFolder; self.outFolder = outFolder
        self.threads = threads; self.loaderWorkers = loaderWorkers; self.restart = restart
        self.checkpointInterval = checkpointInterval; self.hooks = hooks
    }
}
