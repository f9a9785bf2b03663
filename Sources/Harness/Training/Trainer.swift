import Foundation
import Engine
import Zoo
import RunStore

/// Where a run's file lives: `OUT/SUITE/PROFILE/ID/seed-S.h5` (DESIGN.md).
public enum RunPaths {
    public static func file(out: URL, suite: String, profile: String, experiment: String, seed: Int) -> URL {
        out.appendingPathComponent(suite).appendingPathComponent(profile).appendingPathComponent(experiment)
            .appendingPathComponent("seed-\(seed).h5")
    }
}

/// How a run ended (or was found).
public enum TrainOutcome: Equatable, Sendable {
    /// `detail` says what became non-finite where (training or validation, epoch, batch).
    case finished, diverged(epoch: Int, step: Int, detail: String), skipped(RunStore.RunStatus)
}

/// Trains one run (experiment × seed) with checkpoints after every epoch, resuming from the
/// run file when it exists. Deterministic: the same config, seed and thread count give the same
/// weight bytes, whether the run was interrupted or not, because every random draw is keyed by
/// (seed, purpose, epoch, index) and all state (weights, BN statistics, optimizer buffers, step
/// counters) is checkpointed.
public final class Trainer {
    public let config: RunConfig
    public let data: TrainingData
    public let url: URL
    public let machine: MachineInfo
    /// The engine settings the run's model trains with (threads, conv algorithm).
    public let engine: EngineContext
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// Test hook: called after each optimizer step with (epoch, batch); may exit the process.
    public var afterStep: ((Int, Int) -> Void)?
    /// Test hook (`RKAN_INJECT_NAN_AT_STEP`): treat the loss of this step as NaN, to exercise the
    /// divergence path without waiting for a real blow-up.
    public var injectNaNAtStep: Int? = ProcessInfo.processInfo.environment["RKAN_INJECT_NAN_AT_STEP"].flatMap { Int($0) }
    /// The run's `/state` extra JSON, `{"init_weights_sha256": ...}`: the digest of the weights the
    /// run started from, the bytes `rkan-repro init` writes for the same spec, classes, channels
    /// and seed. Set by `run()` (kept from the run file on resume).
    private var stateExtra = "{}"
    /// Training img/s of the whole run (all ranks) so far in this process, for the run file.
    private var throughput = 0.0

    /// The run's ranks (one process unless `engine.sharding` has an MPI communicator).
    var ranks: DataParallel { DataParallel(sharding: engine.sharding) }

    public init(config: RunConfig, data: TrainingData, url: URL, machine: MachineInfo, engine: EngineContext) {
        self.config = config; self.data = data; self.url = url; self.machine = machine; self.engine = engine
    }

    /// Runs (or resumes, or skips) the run.
    /// - Throws: `HarnessError` for an incompatible run file, data or model problems; I/O errors.
    @discardableResult
    public func run() throws -> TrainOutcome {
        let c = config
        let spec = try ModelSpec(parsing: c.model)
        let model = try Model(spec: spec, classes: data.classes, inChannels: data.channels, context: engine)
        let opt = try makeOptimizer(model.store)
        var metrics: [String: [Double]] = [:]
        var bench: [BenchEntry] = []
        var epoch = 0, step = 0
        let dp = ranks
        var trainSeconds = 0.0, trainImages = 0
        if dp.ranks > 1, let p = model.store.parameters.first(where: { !$0.foldsOverShards }) {
            throw HarnessError.unsupported(what: "--ranks \(dp.ranks) with \(c.model)", detail:
                "its layer of \(p.name) does not fold its gradient over batch shards yet (data-parallel runs support conv, linear, BatchNorm and Chebyshev KAN layers: every backbone but ela_l_resnet50, with rkan(kan=chebyshev)); train this model with one rank")
        }

        if FileManager.default.fileExists(atPath: url.path) {
            let rec = try RunFile.read(url, slot: RunSlot(suite: c.suite, profile: c.profile, experiment: c.experiment, seed: c.seed))
            guard rec.attributes.config == c.canonicalJSON else {
                throw HarnessError.incompatibleRunFile(path: url.path, detail:
                    "it was made with a different configuration (suite, profile or code changed); move it aside and retrain it, or pass another --out folder")
            }
            switch rec.attributes.status {
            case .running where rec.attributes.convAlgorithm != engine.conv.algorithm.rawValue:
                throw HarnessError.incompatibleRunFile(path: url.path, detail:
                    "it was trained with \(rec.attributes.convAlgorithm) convolutions and this process uses \(engine.conv.algorithm.rawValue), so resuming would not give the bytes of an uninterrupted run. Resume with RKAN_CONV_ALGO=\(rec.attributes.convAlgorithm), or move the file aside and retrain it")
            case .finished: return .skipped(.finished)
            case .diverged: return .skipped(.diverged)
            case .running: break
            }
            try restore(model: model, optimizer: opt, from: rec)
            metrics = rec.metrics
            bench = rec.bench
            epoch = rec.state.epoch
            step = rec.state.step
            stateExtra = rec.state.extraJSON
            log("\(c.experiment) seed \(c.seed): resuming after epoch \(epoch) from \(url.path)")
        } else {
            model.initialize(seed: UInt64(c.seed))
            let digest = WeightsDigest.sha256(of: stateEntries(model))
            stateExtra = "{\"init_weights_sha256\":\"\(digest)\"}"
        }

        let stepsPerEpoch = data.trainBatchesPerEpoch(batchSize: c.training.batchSize)
        guard stepsPerEpoch > 0 else {
            throw HarnessError.badConfig(what: "\(c.suite)/\(c.experiment)", detail:
                "the training split has no images; raise train_subset or check the dataset folder")
        }
        let schedule = c.lrSchedule(stepsPerEpoch: stepsPerEpoch)
        let progress = ProgressBar(title: "\(c.experiment) seed \(c.seed)", totalSteps: c.training.epochs * stepsPerEpoch, alreadyDone: step,
                                   output: dp.isWriter ? .standardError : .nullDevice)   // rank 0 speaks for all

        while epoch < c.training.epochs {
            let t0 = Date()
            var lossSum = 0.0, correct = 0, seen = 0
            var batchIndex = 0
            let stream = try data.trainLoader(epoch: epoch, seed: c.seed, batchSize: c.training.batchSize, augment: c.training.augment,
                                              rank: dp.loaderRank)
            defer { stream.close() }
            while let whole = try stream.next() {
                let tb = Date()
                let batch = dp.local(whole), globalCount = whole.labels.count
                model.store.zeroGrad()
                let logits = try model.forward(batch.images, mode: .train)
                var (loss, dlogits) = try softmaxCrossEntropy(logits: logits, targets: batch.targets,
                                                              labelSmoothing: Float(c.training.labelSmoothing), sharding: engine.sharding)
                if step == injectNaNAtStep { loss = .nan }
                let logitsFinite = dp.all(Trainer.allFinite(logits))
                guard loss.isFinite && logitsFinite else {
                    let what = logitsFinite ? "training loss \(loss)" : "training logits (non-finite values)"
                    let detail = "\(what) at epoch \(epoch + 1), batch \(batchIndex + 1) (step \(step))"
                    progress.message("diverged: \(detail)")
                    try save(model: model, optimizer: opt, metrics: metrics, bench: bench, epoch: epoch, step: step, status: .diverged)
                    return .diverged(epoch: epoch, step: step, detail: detail)
                }
                model.backward(dlogits)
                opt.step(lr: Float(schedule.lr(at: step)))
                step += 1
                lossSum += loss * Double(globalCount)
                correct += dp.sum([topKCorrect(logits: logits, labels: batch.labels, k: 1)])[0]
                seen += globalCount
                let dt = Date().timeIntervalSince(tb)
                (trainSeconds, trainImages) = (trainSeconds + dt, trainImages + globalCount)
                let ips = Double(globalCount) / max(dt, 1e-9)
                progress.step(epoch: epoch, epochs: c.training.epochs, batch: batchIndex, batches: stepsPerEpoch,
                              loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen), imagesPerSecond: ips)
                afterStep?(epoch, batchIndex)
                batchIndex += 1
            }
            let ev: (loss: Double, top1: Double, top5: Double)
            do { ev = try evaluate(model) } catch let d as ValidationDivergence {
                let detail = "\(d.what) at epoch \(epoch + 1), validation batch \(d.batch)"
                progress.message("diverged: \(detail)")
                try save(model: model, optimizer: opt, metrics: metrics, bench: bench, epoch: epoch, step: step, status: .diverged)
                return .diverged(epoch: epoch, step: step, detail: detail)
            }
            let lr = schedule.lr(at: max(step - 1, 0))
            let record: [(String, Double)] = [
                ("train_loss", lossSum / Double(max(seen, 1))), ("train_top1", 100 * Double(correct) / Double(max(seen, 1))),
                ("val_loss", ev.loss), ("val_top1", ev.top1), ("val_top5", ev.top5), ("lr", lr),
                ("epoch_seconds", Date().timeIntervalSince(t0)),
            ]
            for (k, v) in record { metrics[k, default: []].append(v) }
            epoch += 1
            progress.message(String(format: "epoch %d/%d: train loss %.4f, val loss %.4f, val top-1 %.2f%%, top-5 %.2f%%",
                                    epoch, c.training.epochs, record[0].1, ev.loss, ev.top1, ev.top5))
            if trainSeconds > 0 { throughput = Double(trainImages) / trainSeconds }
            try save(model: model, optimizer: opt, metrics: metrics, bench: bench, epoch: epoch, step: step, status: .running)
        }

        if bench.isEmpty {
            for mode in BenchMode.allCases {
                // One process's img/s (also the reference of the scaling efficiency): rank 0
                // measures while the other ranks wait, then sends them its figures.
                var repeats: [Double] = []
                if dp.isWriter {
                    let r = try Throughput.measure(spec: spec, classes: data.classes, inChannels: data.channels, mode: mode,
                                                   batch: c.bench.batch, size: c.imageSize, warmup: c.bench.warmup,
                                                   iterations: c.bench.iterations, repeats: c.bench.repeats, engine: engine)
                    repeats = r.repeats
                    progress.message(String(format: "%@ throughput %.1f img/s (batch %d, %d×%d, %d threads)",
                                            mode.rawValue, r.imagesPerSecond, r.batch, r.size, r.size, r.threads))
                }
                repeats = dp.fromWriter(repeats, count: c.bench.repeats)
                bench.append(BenchEntry(name: "\(mode.rawValue)_img_s", values: repeats, batch: c.bench.batch, size: c.imageSize))
            }
        }
        if trainSeconds > 0 { throughput = Double(trainImages) / trainSeconds }
        try save(model: model, optimizer: opt, metrics: metrics, bench: bench, epoch: epoch, step: step, status: .finished)
        return .finished
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

    /// A non-finite value during evaluation (1-based validation batch).
    struct ValidationDivergence: Error { var what: String; var batch: Int }

    /// Test hook (`RKAN_INJECT_NAN_LOGITS_AT_EVAL`): the validation logits of this epoch's
    /// evaluation (0-based count of evaluations) get a NaN, to exercise the validation check.
    var injectNaNLogitsAtEval: Int? = ProcessInfo.processInfo.environment["RKAN_INJECT_NAN_LOGITS_AT_EVAL"].flatMap { Int($0) }
    private var evaluations = 0

    /// Whether every value of `t` is finite.
    static func allFinite(_ t: Tensor) -> Bool {
        let p = t.data
        for i in 0..<t.count where !p[i].isFinite { return false }
        return true
    }

    /// Mean loss (no label smoothing), top-1 and top-5 in percent over the test subset.
    /// - Throws: `ValidationDivergence` at the first batch whose logits or loss are not finite.
    func evaluate(_ model: Model) throws -> (loss: Double, top1: Double, top5: Double) {
        var loss = 0.0, c1 = 0, c5 = 0, n = 0
        let stream = try data.testLoader(batchSize: config.evalBatchSize, rank: ranks.loaderRank)
        defer { stream.close() }
        let inject = evaluations == injectNaNLogitsAtEval
        evaluations += 1
        var batchIndex = 0
        let dp = ranks
        while let whole = try stream.next() {
            batchIndex += 1
            let batch = dp.local(whole)
            let logits = try model.forward(batch.images, mode: .eval)
            if inject && logits.count > 0 && dp.isWriter { logits.data[0] = .nan }
            guard dp.all(Trainer.allFinite(logits)) else {
                throw ValidationDivergence(what: "validation logits (non-finite values)", batch: batchIndex)
            }
            let (l, _) = try softmaxCrossEntropy(logits: logits, targets: .labels(batch.labels), sharding: engine.sharding)
            guard l.isFinite else { throw ValidationDivergence(what: "validation loss \(l)", batch: batchIndex) }
            loss += l * Double(whole.labels.count)
            let counts = dp.sum([topKCorrect(logits: logits, labels: batch.labels, k: 1),
                                 topKCorrect(logits: logits, labels: batch.labels, k: min(5, data.classes))])
            c1 += counts[0]; c5 += counts[1]
            n += whole.labels.count
        }
        let d = Double(max(n, 1))
        return (loss / d, 100 * Double(c1) / d, 100 * Double(c5) / d)
    }

    /// The model's state dict as the run file stores it (sorted by key).
    private func stateEntries(_ model: Model) -> [WeightEntry] {
        var weights = model.store.floatEntries.map { WeightEntry(key: $0.name, shape: $0.shape, values: .float32($0.torchValues())) }
        weights += model.store.counters.map { WeightEntry(key: $0.name, shape: [], values: .int64([$0.value])) }
        weights.sort { $0.key < $1.key }
        return weights
    }

    private func save(model: Model, optimizer: Optimizer, metrics: [String: [Double]], bench: [BenchEntry],
                      epoch: Int, step: Int, status: RunStore.RunStatus) throws {
        let weights = stateEntries(model)
        let opt = optimizer.perParameterState(model.store).map { WeightEntry(key: $0.key, shape: $0.shape, values: .float32($0.values)) }
        var attrs = RunAttributes(suite: config.suite, experiment: config.experiment, model: config.model, seed: config.seed,
                                  profile: config.profile, config: config.canonicalJSON, gitCommit: machine.commit,
                                  blasCore: machine.blasCore, threads: machine.threads, host: machine.host, status: status,
                                  convAlgorithm: engine.conv.algorithm.rawValue)
        attrs.ranks = ranks.ranks
        attrs.trainImagesPerSecond = throughput
        let single = bench.first { $0.name == "train_img_s" }.map { Throughput.median($0.values) } ?? 0
        attrs.scalingEfficiency = single > 0 && throughput > 0 ? throughput / (Double(ranks.ranks) * single) : 0
        var values = ["optimizer_steps": optimizer.stepCount]
        if status == .diverged { values["diverged_at_step"] = Int64(step) }
        let state = RunState(epoch: epoch, step: step, values: values, extraJSON: stateExtra)
        let rec = RunRecord(attributes: attrs, weights: weights, optimizer: opt, state: state, metrics: metrics, bench: bench)
        // Every rank holds the same bytes; rank 0 writes once all have arrived, then all go on.
        ranks.barrier()
        if ranks.isWriter { try RunFile.write(rec, to: url) }
        ranks.barrier()
    }

    private func restore(model: Model, optimizer: Optimizer, from rec: RunRecord) throws {
        let byKey = Dictionary(rec.weights.renamingLegacyKANKeys().map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for p in model.store.floatEntries {
            guard let e = byKey[p.name], e.shape == p.shape, let v = e.values.floats else {
                throw HarnessError.incompatibleRunFile(path: url.path, detail: "weight \(p.name) is missing or has another shape")
            }
            p.setTorchValues(v)
        }
        for cnt in model.store.counters {
            guard let v = byKey[cnt.name]?.values.int64s?.first else {
                throw HarnessError.incompatibleRunFile(path: url.path, detail: "counter \(cnt.name) is missing")
            }
            cnt.value = v
        }
        let opt = Dictionary(rec.optimizer.compactMap { e in e.values.floats.map { (e.key, $0) } }, uniquingKeysWith: { a, _ in a })
        if !opt.isEmpty {
            do { try optimizer.restoreState(model.store, opt) } catch {
                throw HarnessError.incompatibleRunFile(path: url.path, detail: "optimizer state: \(error)")
            }
        }
        optimizer.stepCount = rec.state.values["optimizer_steps"] ?? Int64(rec.state.step)
    }
}
