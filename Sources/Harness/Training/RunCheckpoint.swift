import Foundation
import Engine
import Zoo
import RunStore

/// A run's checkpoint file: checks that an existing one can be resumed (`verify`), sets a model
/// and optimizer from it (`restore`) and writes it (`save`, atomic: see `RunFile.write` and
/// `AtomicFile`), at epoch ends and, every `interval`, inside an epoch.
///
/// A mid-epoch checkpoint is a `running` file like any other (its `/state/epoch` counts the
/// completed epochs, its metrics only theirs), so `status` and `report` never take it for a
/// finished run; its extra `/state/values` (`TrainingPosition.MidEpochKey`) say where in the
/// epoch it was saved.
final class RunCheckpoint {
    let config: RunConfig
    let url: URL
    let machine: MachineInfo
    /// The engine the run trains with (its conv algorithm is recorded and checked on resume).
    let engine: EngineContext
    let interval: CheckpointInterval
    /// When the file was last written (or the run started): the interval counts from here.
    private var lastSave = Date()

    init(config: RunConfig, url: URL, machine: MachineInfo, engine: EngineContext, interval: CheckpointInterval) {
        self.config = config; self.url = url; self.machine = machine; self.engine = engine; self.interval = interval
    }

    /// Whether `interval` has passed since the last save.
    var isDue: Bool { interval.seconds.map { Date().timeIntervalSince(lastSave) >= $0 } ?? false }

    /// `isDue` agreed by every rank of a data-parallel run (due when it is on any rank), so all
    /// enter `save`'s barriers together; one process: `isDue`.
    var isDueOnEveryRank: Bool {
        let dp = DataParallel(sharding: engine.sharding)
        return dp.ranks > 1 ? !dp.all(!isDue) : isDue
    }

    /// Training images and seconds of this process's training loop (all ranks' images), for the
    /// run file's `train_img_s` and scaling efficiency.
    private var trainedImages = 0, trainedSeconds = 0.0
    func countTraining(images: Int, seconds: Double) { trainedImages += images; trainedSeconds += seconds }

    // MARK: Verify

    /// Reads the run file, if there is one, and checks that it belongs to this configuration.
    /// - Returns: nil when there is no file; else its record (status `finished` and `diverged`
    ///   included: the caller skips those).
    /// - Throws: `RunStoreError` (damaged, another slot), `HarnessError.incompatibleRunFile` (made
    ///   with another configuration; a running file of another conv algorithm or Winograd GEMM, which could not
    ///   resume to the bytes of an uninterrupted run).
    func verify() throws -> RunRecord? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let c = config
        let rec = try RunFile.read(url, slot: c.slot)
        guard rec.attributes.config == c.canonicalJSON else {
            throw HarnessError.incompatibleRunFile(path: url.path, detail:
                "it was made with a different configuration (suite, profile or code changed); move it aside and retrain it, or pass another --out folder")
        }
        if rec.attributes.status == .running && rec.attributes.convAlgorithm != engine.conv.algorithm.rawValue {
            throw HarnessError.incompatibleRunFile(path: url.path, detail:
                "it was trained with \(rec.attributes.convAlgorithm) convolutions and this process uses \(engine.conv.algorithm.rawValue), so resuming would not give the bytes of an uninterrupted run. Resume with RKAN_CONV_ALGO=\(rec.attributes.convAlgorithm), or move the file aside and retrain it")
        }
        // With the algorithm equal, the labels differ only in a GEMM that runs (not for im2col).
        let gemm = engine.conv.winogradGEMM.rawValue
        if rec.attributes.status == .running
            && ConvTuning.label(algorithm: rec.attributes.convAlgorithm, gemm: rec.attributes.winogradGEMM) != engine.conv.label {
            throw HarnessError.incompatibleRunFile(path: url.path, detail:
                "it was trained with the \(rec.attributes.winogradGEMM) Winograd GEMM and this process uses \(gemm), so resuming would not give the bytes of an uninterrupted run. Resume with \(WinogradGEMM.environmentVariable)=\(rec.attributes.winogradGEMM), or move the file aside and retrain it")
        }
        if rec.attributes.status == .running && rec.attributes.blasCore != machine.blasCore {
            throw HarnessError.incompatibleRunFile(path: url.path, detail:
                "it was trained with the OpenBLAS core \(rec.attributes.blasCore) and this process runs \(machine.blasCore), so resuming would give weights "
                + "that match neither core's uninterrupted run (a Slurm requeue onto another node type does this). Resume with --blas-core "
                + "\(rec.attributes.blasCore) (or RKAN_BLAS_CORE=\(rec.attributes.blasCore)) on a CPU that runs it, or move the file aside and retrain it")
        }
        return rec
    }

    // MARK: Restore

    /// Sets `model` (every tensor and counter, `ParameterStore.load`) and `optimizer` (buffers
    /// and step count) from `rec`.
    /// - Returns: the position it was saved at.
    /// - Throws: `HarnessError.incompatibleRunFile` naming what does not fit.
    func restore(_ rec: RunRecord, model: Model, optimizer: Optimizer, batchesPerEpoch: Int) throws -> TrainingPosition {
        try restore(rec, store: model.store, optimizer: optimizer, batchesPerEpoch: batchesPerEpoch)
    }

    /// `restore` for any model's parameter store (a detector's).
    func restore(_ rec: RunRecord, store: ParameterStore, optimizer: Optimizer, batchesPerEpoch: Int) throws -> TrainingPosition {
        let position = try TrainingPosition(record: rec, batchesPerEpoch: batchesPerEpoch, path: url.path)
        do { try store.load(rec.weights, from: url.path) } catch let RunStoreError.invalidValue(_, _, detail) {
            throw HarnessError.incompatibleRunFile(path: url.path, detail: "/weights: \(detail)")
        }
        let opt = Dictionary(rec.optimizer.compactMap { e in e.values.floats.map { (e.key, $0) } }, uniquingKeysWith: { a, _ in a })
        if !opt.isEmpty {
            do { try optimizer.restoreState(store, opt) } catch {
                throw HarnessError.incompatibleRunFile(path: url.path, detail: "optimizer state: \(error)")
            }
        }
        optimizer.stepCount = rec.state.values["optimizer_steps"] ?? Int64(rec.state.step)
        return position
    }

    // MARK: Save

    /// Writes the run file atomically: weights in state_dict order (`ParameterStore.weightEntries`;
    /// the file stores them in key order), optimizer state, the position and `status`.
    /// - Parameter divergedAtStep: the step whose loss or logits were not finite (status `diverged`).
    func save(model: Model, optimizer: Optimizer, position: TrainingPosition, status: RunStore.RunStatus,
              divergedAtStep: Int? = nil) throws {
        try save(store: model.store, optimizer: optimizer, position: position, status: status, divergedAtStep: divergedAtStep)
    }

    /// `save` for any model's parameter store (a detector's).
    func save(store: ParameterStore, optimizer: Optimizer, position: TrainingPosition, status: RunStore.RunStatus,
              divergedAtStep: Int? = nil) throws {
        let c = config
        let opt = optimizer.perParameterState(store).map { WeightEntry(key: $0.key, shape: $0.shape, values: .float32($0.values)) }
        var attrs = RunAttributes(suite: c.suite, experiment: c.experiment, model: c.model.description, seed: c.seed,
                                  profile: c.profile, config: c.canonicalJSON, gitCommit: machine.commit,
                                  blasCore: machine.blasCore, threads: machine.threads, host: machine.host, status: status,
                                  convAlgorithm: engine.conv.algorithm.rawValue)
        attrs.winogradGEMM = engine.conv.winogradGEMM.rawValue
        let dp = DataParallel(sharding: engine.sharding)
        let rate = trainedSeconds > 0 ? Double(trainedImages) / trainedSeconds : 0
        let single = position.bench.first { $0.name == "train_img_s" }.map { Throughput.median($0.values) } ?? 0
        attrs.ranks = dp.ranks
        attrs.trainImagesPerSecond = rate
        attrs.scalingEfficiency = single > 0 && rate > 0 ? rate / (Double(dp.ranks) * single) : 0
        let state = position.state(optimizerSteps: optimizer.stepCount, divergedAtStep: divergedAtStep)
        let rec = RunRecord(attributes: attrs, weights: store.weightEntries(), optimizer: opt, state: state,
                            metrics: position.metrics, bench: position.bench)
        // Every rank holds the same bytes; rank 0 writes once all have arrived, then all go on.
        dp.barrier()
        if dp.isWriter { try RunFile.write(rec, to: url) }
        dp.barrier()
        lastSave = Date()
    }
}
