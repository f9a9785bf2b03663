import Foundation
import Engine
import Zoo
import RunStore

/// How a run ended (or was found).
public enum TrainOutcome: Equatable, Sendable {
    /// `detail` says what became non-finite where (training or validation, epoch, batch).
    case finished, diverged(epoch: Int, step: Int, detail: String), skipped(RunStore.RunStatus)
}

/// Trains one run (experiment × seed), resuming from its run file when it exists: checkpoints
/// at every epoch end and every `checkpointInterval` inside an epoch (`RunCheckpoint`), the
/// epoch's batches (`TrainingEpoch`), validation after each epoch (`Evaluation`) and a
/// throughput measurement at the end. Deterministic: the same config, seed and thread count give
/// the same weight bytes, whether the run was interrupted or not, because every random draw is
/// keyed by (seed, purpose, epoch, index) and all state (weights, BN statistics, optimizer
/// buffers, step counters, the batch position and running sums of the epoch) is checkpointed.
public final class Trainer {
    public let config: RunConfig
    public let data: TrainingData
    public let url: URL
    public let machine: MachineInfo
    /// Test hooks from the caller (crash points, NaN injection); none by default.
    public let hooks: TrainingHooks
    /// How often a checkpoint is saved inside an epoch.
    public let checkpointInterval: CheckpointInterval
    /// The engine settings the run's model trains with (threads, conv algorithm).
    public let engine: EngineContext
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// The model of this row's baseline (an RKAN row's pair), with the profile applied: the end-of-run
    /// throughput then times both in alternation and records the RKAN / baseline ratio of each round
    /// (`<mode>_ratio_vs_baseline` in `/bench`). Nil for a baseline row.
    public var pairedBaseline: ModelSpec?
    /// Evaluations made by this trainer (for `TrainingHooks.nanLogitsAtEvaluation`).
    private var evaluations = 0

    public init(config: RunConfig, data: TrainingData, url: URL, machine: MachineInfo, engine: EngineContext,
                hooks: TrainingHooks = TrainingHooks(), checkpointInterval: CheckpointInterval = .standard) {
        self.config = config; self.data = data; self.url = url; self.machine = machine; self.engine = engine
        self.hooks = hooks; self.checkpointInterval = checkpointInterval
    }

    /// Runs (or resumes, or skips) the run.
    /// - Throws: `HarnessError` for an incompatible run file, data or model problems; I/O errors.
    @discardableResult
    public func run() throws -> TrainOutcome {
        let c = config
        let spec = c.model
        let model = try Model(spec: spec, classes: data.classes, inChannels: data.channels, context: engine)
        let optimizer = try makeOptimizer(model.store)
        let dp = DataParallel(sharding: engine.sharding)
        try dp.configure(for: c)
        if dp.ranks > 1, let p = model.store.parameters.first(where: { !$0.foldsOverShards }) {
            throw HarnessError.unsupported(what: "--ranks \(dp.ranks) with \(c.model)", detail:
                "its layer of \(p.name) does not fold its gradient over batch shards yet (data-parallel runs support conv, linear, BatchNorm and Chebyshev KAN layers: every backbone but ela_l_resnet50, with rkan(kan=chebyshev)); train this model with one rank")
        }
        let checkpoint = RunCheckpoint(config: c, url: url, machine: machine, engine: engine, interval: checkpointInterval)
        let existing = try checkpoint.verify()
        if let status = existing?.attributes.status, status != .running { return .skipped(status) }
        let batches = data.trainBatchesPerEpoch(batchSize: c.training.batchSize)
        guard batches > 0 else {
            throw HarnessError.badConfig(what: "\(c.suite)/\(c.experiment)", detail:
                "the training split has no images; raise train_subset or check the dataset folder")
        }
        var position = try resumeOrStart(existing, model: model, optimizer: optimizer, checkpoint: checkpoint, batches: batches)
        let progress = ProgressBar(title: "\(c.experiment) seed \(c.seed)", totalSteps: c.training.epochs * batches, alreadyDone: position.step,
                                   output: dp.isWriter ? .standardError : .nullDevice)   // rank 0 speaks for all
        let epoch = TrainingEpoch(config: c, data: data, model: model, optimizer: optimizer, schedule: c.lrSchedule(stepsPerEpoch: batches),
                                  batchesPerEpoch: batches, hooks: hooks, checkpoint: checkpoint, progress: progress)
        while position.epoch < c.training.epochs {
            let t0 = Date(), secondsBefore = position.sums.seconds
            let ev: Evaluation.Result
            switch try trainAndEvaluate(epoch, &position) {
            case let .success(result): ev = result
            case let .failure(diverged):
                progress.message("diverged: \(diverged.detail)")
                try checkpoint.save(model: model, optimizer: optimizer, position: position, status: .diverged, divergedAtStep: position.step)
                return .diverged(epoch: position.epoch, step: position.step, detail: diverged.detail)
            }
            position.finishEpoch(evaluation: ev, lr: epoch.schedule.lr(at: max(position.step - 1, 0)),
                                 seconds: secondsBefore + Date().timeIntervalSince(t0))
            progress.message(String(format: "epoch %d/%d: train loss %.4f, val loss %.4f, val top-1 %.2f%%, top-5 %.2f%%",
                                    position.epoch, c.training.epochs, position.metrics["train_loss"]!.last!, ev.loss, ev.top1, ev.top5))
            try checkpoint.save(model: model, optimizer: optimizer, position: position, status: .running)
        }
        if position.bench.isEmpty { position.bench = try measureThroughput(spec, progress: progress) }
        try checkpoint.save(model: model, optimizer: optimizer, position: position, status: .finished)
        return .finished
    }

    /// The position to train from: the run file's when there is one (its weights, optimizer state
    /// and position restored), else the start, with the weights initialised from the seed.
    private func resumeOrStart(_ existing: RunRecord?, model: Model, optimizer: Optimizer, checkpoint: RunCheckpoint,
                               batches: Int) throws -> TrainingPosition {
        let c = config
        guard let rec = existing else {
            model.initialize(seed: UInt64(c.seed))
            var start = TrainingPosition()
            start.extraJSON = "{\"init_weights_sha256\":\"\(WeightsDigest.sha256(of: model.store.weightEntries()))\"}"
            return start
        }
        let position = try checkpoint.restore(rec, model: model, optimizer: optimizer, batchesPerEpoch: batches)
        let within = position.isMidEpoch ? " and batch \(position.batch) of \(batches) of epoch \(position.epoch + 1)" : ""
        log("\(c.experiment) seed \(c.seed): resuming after epoch \(position.epoch)\(within) from \(url.path)")
        return position
    }

    /// A non-finite training loss or logit, or validation value: what, and where.
    struct Diverged: Error { var detail: String }

    /// Trains the rest of the position's epoch, then evaluates it (with the NaN hook of this
    /// evaluation when asked for).
    /// - Returns: the validation results, or what diverged where.
    private func trainAndEvaluate(_ epoch: TrainingEpoch, _ position: inout TrainingPosition) throws -> Result<Evaluation.Result, Diverged> {
        if case let .diverged(detail) = try epoch.train(&position) { return .failure(Diverged(detail: detail)) }
        defer { evaluations += 1 }
        do {
            return .success(try Evaluation(data: data, batchSize: config.evalBatchSize)
                .run(epoch.model, injectNaN: evaluations == hooks.nanLogitsAtEvaluation))
        } catch let d as Evaluation.Divergence {
            return .failure(Diverged(detail: "\(d.what) at epoch \(position.epoch + 1), validation batch \(d.batch)"))
        }
    }

    /// img/s of training and inference steps (`Throughput`), the run's `/bench`.
    /// One process's img/s (also the reference of the scaling efficiency): in a data-parallel
    /// run rank 0 measures while the other ranks wait, then sends them its figures.
    private func measureThroughput(_ spec: ModelSpec, progress: ProgressBar) throws -> [BenchEntry] {
        let c = config, dp = DataParallel(sharding: engine.sharding)
        return try BenchMode.allCases.flatMap { mode -> [BenchEntry] in
            var repeats: [Double] = [], ratios: [Double] = []
            if dp.isWriter {
                if let baseline = pairedBaseline {
                    let rates = try Throughput.measureInterleaved(
                        specs: [baseline, spec], classes: data.classes, inChannels: data.channels, mode: mode, batch: c.bench.batch,
                        size: c.imageSize, warmup: c.bench.warmup, iterations: c.bench.iterations, repeats: c.bench.repeats, engine: engine)
                    repeats = rates[1]
                    ratios = zip(rates[1], rates[0]).map { $0 / $1 }
                    progress.message(String(format: "%@ throughput %.1f img/s, %.2f× its baseline (median of %d alternated rounds)",
                                            mode.rawValue, Throughput.median(repeats), Throughput.median(ratios), ratios.count))
                } else {
                    let r = try Throughput.measure(spec: spec, classes: data.classes, inChannels: data.channels, mode: mode,
                                                   batch: c.bench.batch, size: c.imageSize, warmup: c.bench.warmup,
                                                   iterations: c.bench.iterations, repeats: c.bench.repeats, engine: engine)
                    progress.message(String(format: "%@ throughput %.1f img/s (batch %d, %d×%d, %d threads)",
                                            mode.rawValue, r.imagesPerSecond, r.batch, r.size, r.size, r.threads))
                    repeats = r.repeats
                }
            }
            var entries = [BenchEntry(name: "\(mode.rawValue)_img_s", values: dp.fromWriter(repeats, count: c.bench.repeats),
                                      batch: c.bench.batch, size: c.imageSize)]
            if pairedBaseline != nil {
                entries.append(BenchEntry(name: "\(mode.rawValue)_ratio_vs_baseline", values: dp.fromWriter(ratios, count: c.bench.repeats),
                                          batch: c.bench.batch, size: c.imageSize))
            }
            return entries
        }
    }

    private func makeOptimizer(_ store: ParameterStore) throws -> Optimizer {
        let o = config.training.optimizer
        switch o.name {
        case .sgd:
            return try SGD(store: store, momentum: Float(o.momentum), nesterov: o.nesterov, weightDecay: Float(o.weightDecay))
        case .adamw:
            let b = o.betas ?? [0.9, 0.999]
            return try AdamW(store: store, beta1: Float(b[0]), beta2: Float(b[1]), weightDecay: Float(o.weightDecay))
        }
    }
}
