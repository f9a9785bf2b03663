import Foundation
import Engine
import Zoo
import Detection
import RunStore

/// Trains one detection run (experiment × seed) as the reference trains Mask R-CNN
/// (22e50367:training.ipynb, "Object Detection", `train_status = "load_weights"`), resuming from
/// its run file when there is one, with the classification trainer's run file, checkpoints and
/// determinism (`RunCheckpoint`, `TrainingPosition`):
///
/// - per batch: the five losses summed, backward, SGD (Nesterov, weight decay on every tensor as
///   `model.parameters()`), the learning rate of the suite's schedule (`MultiStepLR` stepped per
///   epoch); a batch whose summed loss or any gradient is not finite is skipped (no update) and
///   counted (`skipped_batches`), as the notebook skips a non-finite loss (float32 here, AMP there);
/// - the sampled anchors and proposals of step s come from `Philox(seed, .sample, s·2¹⁶ + image)`,
///   the augmentation and the order from the data's streams (`DetectionData`); `step` counts
///   batches, skipped ones included, so a resumed run meets the same keys;
/// - after each epoch, `DetectionEvaluation` (the notebook's AP and the official one);
/// - at the end, the detector's FPS as `measure_inference_speed` takes it (eval, batch 1, one
///   random 3×S×S image), alternated with the row's baseline detector when it has one.
///
/// An epoch whose every batch was skipped, or non-finite detections, end the run as diverged.
final class DetectionTrainer {
    let config: RunConfig
    let data: DetectionData
    let url: URL
    let machine: MachineInfo
    let hooks: TrainingHooks
    let checkpointInterval: CheckpointInterval
    let engine: EngineContext
    /// What the backbone starts from on a fresh start (nil: `start: random`).
    let start: (() throws -> DetectionStart.Source)?
    var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
    /// The row's baseline detector (profile applied), for the alternated FPS rounds; nil for a baseline row.
    var pairedBaseline: ModelSpec?
    private var evaluations = 0

    /// The five losses under torchvision's names, in the order of the run file's metrics.
    static let lossNames = ["loss_classifier", "loss_box_reg", "loss_mask", "loss_objectness", "loss_rpn_box_reg"]

    init(config: RunConfig, data: DetectionData, url: URL, machine: MachineInfo, engine: EngineContext, hooks: TrainingHooks,
         checkpointInterval: CheckpointInterval, start: (() throws -> DetectionStart.Source)?) {
        self.config = config; self.data = data; self.url = url; self.machine = machine; self.engine = engine
        self.hooks = hooks; self.checkpointInterval = checkpointInterval; self.start = start
    }

    @discardableResult
    func run() throws -> TrainOutcome {
        let c = config
        let detector = try DetectorBuild.make(c.model, size: c.imageSize, context: engine)
        let o = c.training.optimizer
        guard o.name == .sgd else {
            throw HarnessError.badConfig(what: "\(c.suite)/\(c.experiment)", detail: "detection runs train with SGD as the reference; set protocol.optimizer.name: sgd")
        }
        let optimizer = try SGD(store: detector.store, momentum: Float(o.momentum), nesterov: o.nesterov, weightDecay: Float(o.weightDecay))
        let checkpoint = RunCheckpoint(config: c, url: url, machine: machine, engine: engine, interval: checkpointInterval)
        let existing = try checkpoint.verify()
        if let status = existing?.attributes.status, status != .running { return .skipped(status) }
        let batches = data.batchesPerEpoch(batchSize: c.training.batchSize)
        var position: TrainingPosition
        if let rec = existing {
            position = try checkpoint.restore(rec, store: detector.store, optimizer: optimizer, batchesPerEpoch: batches)
            let within = position.isMidEpoch ? " and batch \(position.batch) of \(batches) of epoch \(position.epoch + 1)" : ""
            log("\(c.experiment) seed \(c.seed): resuming after epoch \(position.epoch)\(within) from \(url.path)")
        } else {
            position = try fresh(detector)
        }
        let progress = ProgressBar(title: "\(c.experiment) seed \(c.seed)", totalSteps: c.training.epochs * batches, alreadyDone: position.step)
        let schedule = c.lrSchedule(stepsPerEpoch: batches)
        while position.epoch < c.training.epochs {
            let t0 = Date(), secondsBefore = position.sums.seconds
            if let detail = try trainEpoch(detector, optimizer, schedule: schedule, batches: batches, &position, checkpoint: checkpoint, progress: progress) {
                return try diverged(detail, detector, optimizer, position, checkpoint, progress)
            }
            let metrics: [(String, Double)]
            do {
                defer { evaluations += 1 }
                metrics = try DetectionEvaluation(data: data, batchSize: c.evalBatchSize)
                    .run(detector, injectNaN: evaluations == hooks.nanLogitsAtEvaluation)
            } catch let d as DetectionEvaluation.Divergence {
                return try diverged("\(d.detail) after epoch \(position.epoch + 1)", detector, optimizer, position, checkpoint, progress)
            }
            let s = position.sums
            let trained = max(s.seen, 1)
            var record: [(String, Double)] = [("train_loss", s.lossSum / Double(trained))]
            record += Self.lossNames.map { ("train_\($0)", (s.named[$0] ?? 0) / Double(trained)) }
            record += [("skipped_batches", s.named["skipped"] ?? 0), ("lr", schedule.lr(at: max(position.step - 1, 0))),
                       ("epoch_seconds", secondsBefore + Date().timeIntervalSince(t0))]
            position.finishEpoch(record: record + metrics)
            let m = Dictionary(metrics, uniquingKeysWith: { a, _ in a })
            progress.message(String(format: "epoch %d/%d: train loss %.4f (%d batches skipped), box AP %.2f (AP50 %.2f), mask AP %.2f (AP50 %.2f)",
                                    position.epoch, c.training.epochs, record[0].1, Int(s.named["skipped"] ?? 0),
                                    m["val_bbox_ap"]!, m["val_bbox_ap50"]!, m["val_segm_ap"]!, m["val_segm_ap50"]!))
            try checkpoint.save(store: detector.store, optimizer: optimizer, position: position, status: .running)
        }
        if position.bench.isEmpty { position.bench = try measureFPS(progress: progress) }
        try checkpoint.save(store: detector.store, optimizer: optimizer, position: position, status: .finished)
        return .finished
    }

    /// The start: every tensor from the seed, then the backbone from the start weights.
    private func fresh(_ detector: MaskRCNN) throws -> TrainingPosition {
        detector.initialize(seed: UInt64(config.seed))
        var start = TrainingPosition()
        let initDigest = WeightsDigest.sha256(of: detector.store.weightEntries())
        if let source = try self.start?() {
            try DetectionStart.apply(source, to: detector)
            log("\(config.experiment) seed \(config.seed): backbone from \(source.description) (sha256 \(source.digest.prefix(12))…)")
            start.extraJSON = "{\"init_weights_sha256\":\"\(initDigest)\",\"start_weights\":\(jsonString(source.description)),\"start_weights_sha256\":\"\(source.digest)\"}"
        } else {
            start.extraJSON = "{\"init_weights_sha256\":\"\(initDigest)\",\"start_weights\":\"random\",\"start_weights_sha256\":\"\(initDigest)\"}"
        }
        return start
    }

    private func jsonString(_ s: String) -> String {
        String(decoding: (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
    }

    private func diverged(_ detail: String, _ detector: MaskRCNN, _ optimizer: Optimizer, _ position: TrainingPosition,
                          _ checkpoint: RunCheckpoint, _ progress: ProgressBar) throws -> TrainOutcome {
        progress.message("diverged: \(detail)")
        try checkpoint.save(store: detector.store, optimizer: optimizer, position: position, status: .diverged, divergedAtStep: position.step)
        return .diverged(epoch: position.epoch, step: position.step, detail: detail)
    }

    /// Trains the rest of the position's epoch.
    /// - Returns: nil, or why the run diverged (every batch of the epoch skipped).
    private func trainEpoch(_ detector: MaskRCNN, _ optimizer: Optimizer, schedule: LRSchedule, batches: Int, _ position: inout TrainingPosition,
                            checkpoint: RunCheckpoint, progress: ProgressBar) throws -> String? {
        let c = config
        let resumedAt = Date()
        let secondsBefore = position.sums.seconds
        let store = detector.store
        let order = data.epochOrder(epoch: position.epoch, seed: c.seed)
        while position.batch < batches {
            let tb = Date()
            let indices = data.trainBatch(position.batch, order: order, batchSize: c.training.batchSize)
            let inputs = try data.samples(indices, of: data.train, augment: (position.epoch, c.seed)).map(DetectionData.detectorInput)
            store.zeroGrad()
            let w = hooks.detectionLossWeights ?? [1, 1, 1, 1, 1]
            let (losses, _) = try detector.trainingStep(images: inputs.map(\.image), targets: inputs.map(\.target),
                                                        seed: UInt64(c.seed), step: position.step,
                                                        weights: DetectionLosses(classifier: w[0], boxReg: w[1], mask: w[2], objectness: w[3], rpnBoxReg: w[4]))
            var total = Double(losses.total)
            if position.step == hooks.nanLossAtStep { total = .nan }
            let finite = total.isFinite && gradientsFinite(store)
            if finite {
                optimizer.step(lr: Float(schedule.lr(at: position.step)))
                position.sums.lossSum += total
                let parts = [losses.classifier, losses.boxReg, losses.mask, losses.objectness, losses.rpnBoxReg]
                for (name, v) in zip(Self.lossNames, parts) { position.sums.named[name, default: 0] += Double(v) }
                position.sums.seen += 1
            } else {
                position.sums.named["skipped", default: 0] += 1
                progress.message("epoch \(position.epoch + 1), batch \(position.batch + 1): the loss or a gradient is not finite (loss \(total)); batch skipped")
            }
            position.step += 1
            position.batch += 1
            let dt = Date().timeIntervalSince(tb)
            checkpoint.countTraining(images: indices.count, seconds: dt)
            trainedImages += indices.count; trainedSeconds += dt
            progress.step(epoch: position.epoch, epochs: c.training.epochs, batch: position.batch - 1, batches: batches,
                          loss: position.sums.seen > 0 ? position.sums.lossSum / Double(position.sums.seen) : .nan, accuracy: nil,
                          imagesPerSecond: Double(indices.count) / max(dt, 1e-9))
            position.sums.seconds = secondsBefore + Date().timeIntervalSince(resumedAt)
            if position.batch < batches && checkpoint.isDue {
                try checkpoint.save(store: store, optimizer: optimizer, position: position, status: .running)
            }
            hooks.afterStep?(position.epoch, position.batch - 1)
        }
        if position.sums.seen == 0 {
            return "every batch of epoch \(position.epoch + 1) had a non-finite loss or gradient (\(batches) skipped)"
        }
        return nil
    }

    private func gradientsFinite(_ store: ParameterStore) -> Bool {
        guard let g = store.grads else { return true }
        var ok = true
        for i in 0..<store.parameterCount where !g[i].isFinite { ok = false; break }
        return ok
    }

    /// FPS as the reference's `measure_inference_speed` (eval, batch 1, random 3×S×S image):
    /// `infer_fps` per round, and against the paired baseline detector `infer_fps_ratio_vs_baseline`.
    private func measureFPS(progress: ProgressBar) throws -> [BenchEntry] {
        let c = config, size = c.imageSize
        let specs = (pairedBaseline.map { [$0] } ?? []) + [c.model]
        let rates = try Throughput.measureInterleaved(specs: specs, classes: DetectorBuild.cocoClasses, inChannels: 3, mode: .infer, batch: 1,
                                                      size: size, warmup: c.bench.warmup, iterations: c.bench.iterations,
                                                      repeats: c.bench.repeats, engine: engine)
        let mine = rates.last!
        var entries = [BenchEntry(name: "infer_fps", values: mine, batch: 1, size: size)]
        var text = String(format: "detector FPS %.2f (batch 1, %d×%d, %d threads", Throughput.median(mine), size, size, engine.threads)
        if pairedBaseline != nil {
            let ratios = zip(rates[1], rates[0]).map { $0 / $1 }
            entries.append(BenchEntry(name: "infer_fps_ratio_vs_baseline", values: ratios, batch: 1, size: size))
            text += String(format: "), %.2f× its baseline (median of %d alternated rounds)", Throughput.median(ratios), ratios.count)
        } else { text += ")" }
        if trainedSeconds > 0 {
            entries.append(BenchEntry(name: "train_img_s", values: [Double(trainedImages) / trainedSeconds], batch: c.training.batchSize, size: size))
        }
        progress.message(text)
        return entries
    }

    /// Images and seconds of this process's training loop (`train_img_s`: none when it trained nothing).
    private var trainedImages = 0, trainedSeconds = 0.0
}
