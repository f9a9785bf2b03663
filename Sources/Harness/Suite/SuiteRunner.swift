import Foundation
import Engine
import Zoo
import RunStore
import Distributed

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
    /// Data-parallel ranks (`--ranks`): must equal the MPI launcher's world size; nil takes the
    /// world size (1 without a launcher). Changes speed, never the bytes.
    public var ranks: Int? = nil

    public init(suite: String, profile: String, only: [String]? = nil, seeds: [Int]? = nil, suitesFolder: URL,
                dataFolder: URL? = nil, outFolder: URL, threads: Int, loaderWorkers: Int = 2, restart: [RestartTarget] = []) {
        self.suite = suite; self.profile = profile; self.only = only; self.seeds = seeds
        self.suitesFolder = suitesFolder; self.dataFolder = dataFolder; self.outFolder = outFolder
        self.threads = threads; self.loaderWorkers = loaderWorkers; self.restart = restart
    }
}

/// Turns a suite and profile into runs and trains each that is not finished yet.
public enum SuiteRunner {
    /// Loads a suite with model specs validated by the Zoo's parser.
    public static func loadSuite(_ name: String, folder: URL) throws -> Suite {
        try SuiteLibrary.find(name, in: folder, validateModel: { _ = try ModelSpec(parsing: $0) })
    }

    /// The resolved configuration of every run of the plan.
    public static func configs(suite: Suite, plan: ResolvedPlan, info: DatasetInfo) throws -> [RunConfig] {
        try plan.runs.map { run in
            var spec = try ModelSpec(parsing: run.experiment.model)
            spec.width *= plan.width
            let size = plan.resolution ?? info.nativeSize
            let benchBatch = min(plan.training.batchSize, 32)
            let quick = plan.profile == "smoke"
            return RunConfig(suite: suite.suite, experiment: run.experiment.id, model: spec.description, seed: run.seed,
                             profile: plan.profile, dataset: plan.dataset, imageSize: size, trainSubset: plan.trainSubset,
                             testSubset: plan.testSubset, training: plan.training, evalBatchSize: max(plan.training.batchSize, 64),
                             bench: .init(batch: benchBatch, warmup: quick ? 1 : 3, iterations: quick ? 2 : 8, repeats: 3))
        }
    }

    /// Trains every unfinished run of the request, in suite order.
    /// - Returns: 0 when every run finished, 1 when one diverged.
    /// - Throws: suite, data, model and I/O errors (each one paragraph naming the file and the fix).
    public static func run(_ r: RunRequest, log: @escaping (String) -> Void) throws -> Int32 {
        let suite = try loadSuite(r.suite, folder: r.suitesFolder)
        if suite.dataset.name == "coco" {
            throw HarnessError.unsupported(what: "run \(r.suite)", detail:
                "the COCO table needs a Mask R-CNN detector, which rkan-repro does not have yet. `rkan-repro models coco` reports the backbones' parameter counts.")
        }
        let plan = try suite.resolved(profile: r.profile, only: r.only, seeds: r.seeds)
        for t in r.restart where !plan.runs.contains(where: { $0.experiment.id == t.experiment && $0.seed == t.seed }) {
            throw HarnessError.badConfig(what: "--restart \(t.experiment):\(t.seed)", detail:
                "it names no run of this plan (\(plan.runs.map { "\($0.experiment.id):\($0.seed)" }.joined(separator: ", "))); "
                + "give an experiment id and a seed that --only and --seeds select")
        }
        try checkOutFolder(r.outFolder)
        let comm = try MPILaunch.communicator(requested: r.ranks)
        let engine = try EngineContext.fromEnvironment(threads: r.threads, sharding: BatchSharding(communicator: comm))
        let dp = DataParallel(sharding: engine.sharding)
        let log: (String) -> Void = dp.isWriter ? log : { _ in }
        if dp.ranks > 1 { log("data-parallel: \(dp.ranks) ranks × \(r.threads) threads, \(ShardPlan.shardCount) shards per batch (rank r trains shards r·\(ShardPlan.shardCount / dp.ranks) ..< (r+1)·\(ShardPlan.shardCount / dp.ranks))") }
        let data = try TrainingData.load(dataset: plan.dataset, folder: r.dataFolder, resolution: plan.resolution,
                                         trainSubset: plan.trainSubset, testSubset: plan.testSubset, workers: r.loaderWorkers,
                                         subsetSeed: 0)
        let configs = try configs(suite: suite, plan: plan, info: data.info)
        for c in configs {
            try SizeLimits.checkModelInput(classes: data.classes, inChannels: data.channels, batch: max(c.training.batchSize, c.evalBatchSize),
                                           side: c.imageSize, names: ("classes", "channels", "\(c.suite).yaml batch_size", "\(c.suite).yaml resolution"))
        }
        let access = RunFileAccess.Context(out: r.outFolder, suitesFolder: r.suitesFolder)
        let machine = MachineInfo.current(threads: r.threads)
        log("\(suite.suite) (\(plan.profile)): \(configs.count) runs, \(data.trainIndices.count) training / \(data.testIndices.count) test images at \(data.imageSize)×\(data.imageSize), \(r.threads) threads, BLAS core \(machine.blasCore)")
        try estimate(configs, data: data, out: r.outFolder, restart: Set(r.restart), engine: engine, log: log)
        var diverged = 0
        for (i, c) in configs.enumerated() {
            let url = RunPaths.file(out: r.outFolder, suite: c.suite, profile: c.profile, experiment: c.experiment, seed: c.seed)
            log("[\(i + 1)/\(configs.count)] \(c.experiment) (\(c.model)) seed \(c.seed) → \(url.path)")
            let trainer = Trainer(config: c, data: data, url: url, machine: machine, engine: engine)
            trainer.log = log
            trainer.afterStep = CrashHook.fromEnvironment(rank: dp.rank)
            // Rank 0 alone takes the lock and tidies the file; the others follow its decision.
            var lock: RunLock?
            if dp.isWriter {
                switch try RunLock.acquire(runFile: url, log: log) {
                case let .acquired(l): lock = l
                case let .busy(o): log("  being trained by \(o.map { "\($0.host):\($0.pid)" } ?? "another process") (lock \(RunLock.path(for: url))); skipped")
                }
            }
            guard dp.all(lock != nil || !dp.isWriter) else { continue }
            defer { lock?.release() }
            let slot = RunSlot(suite: c.suite, profile: c.profile, experiment: c.experiment, seed: c.seed)
            if dp.isWriter {
                for path in StaleTemporaries.remove(of: url.path) { log("  removed \(path), left by a process that no longer runs") }
                if r.restart.contains(RestartTarget(experiment: c.experiment, seed: c.seed)), let moved = try RunFileAccess.moveAside(url) {
                    log("  --restart: moved \(url.path) aside to \(moved.lastPathComponent); training from scratch")
                }
            }
            dp.barrier()
            let outcome: TrainOutcome
            do { outcome = try trainer.run() } catch let e as RunStoreError {
                switch e {
                case .cannotWrite, .hdf5: throw e
                default: throw HarnessError.badRunFile(detail: "\(e)", fix: RunFileAccess.restartCommand(slot, access))
                }
            } catch HarnessError.incompatibleRunFile(let path, let detail) {
                throw HarnessError.badRunFile(detail: "run file \(path) cannot be resumed: \(detail)",
                                              fix: RunFileAccess.restartCommand(slot, access))
            }
            switch outcome {
            case .finished: break
            case let .skipped(status):
                log("  already \(status.rawValue); skipped (to retrain: \(RunFileAccess.restartCommand(slot, access)))")
                if status == .diverged { diverged += 1 }
            case let .diverged(_, _, detail): diverged += 1
                log("  diverged: \(detail); recorded with status=diverged. Lower the learning rate (protocol.optimizer.lr, or lr in the profile) "
                    + "or check the data, then retrain with \(RunFileAccess.restartCommand(slot, access))")
            }
        }
        // A clean end of every rank (MPI_Finalize); on an error the process exits 1 without it,
        // and the launcher ends the other ranks.
        dp.barrier()
        (comm as? MPICommunicator)?.finalize()
        return diverged > 0 ? 1 : 0
    }
}

extension SuiteRunner {
    /// `--out` must be a folder or not exist yet (it is created); a file, or a file where a
    /// parent folder belongs, is named as such.
    static func checkOutFolder(_ out: URL) throws {
        var isFolder: ObjCBool = false
        var path = out.standardizedFileURL.path
        while !path.isEmpty && path != "/" {
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
                guard isFolder.boolValue else {
                    throw HarnessError.io(path: out.path, detail: path == out.standardizedFileURL.path
                        ? "--out names a file, not a folder; pass a folder for the run files (it is created when missing)"
                        : "--out cannot be created: \(path) is a file, not a folder; pass another --out")
                }
                return
            }
            path = (path as NSString).deletingLastPathComponent
        }
    }

    /// Prints an estimate of the total time of the unfinished runs from a short measurement of
    /// each distinct model (2 timed training steps, 2 inference passes).
    static func estimate(_ configs: [RunConfig], data: TrainingData, out: URL, restart: Set<RestartTarget> = [],
                         engine: EngineContext, log: (String) -> Void) throws {
        let todo = configs.filter { c in
            if restart.contains(RestartTarget(experiment: c.experiment, seed: c.seed)) { return true }
            let url = RunPaths.file(out: out, suite: c.suite, profile: c.profile, experiment: c.experiment, seed: c.seed)
            return (try? RunFile.readAttributes(url).status) != .finished
        }
        guard !todo.isEmpty else { log("all \(configs.count) runs are finished; nothing to train"); return }
        var rates: [String: (train: Double, infer: Double)] = [:]
        var total = 0.0
        for c in todo {
            if rates[c.model] == nil {
                let spec = try ModelSpec(parsing: c.model)
                let b = min(c.training.batchSize, 64)
                let t = try Throughput.measure(spec: spec, classes: data.classes, inChannels: data.channels, mode: .train,
                                               batch: b, size: c.imageSize, warmup: 1, iterations: 2, repeats: 1, engine: engine)
                let i = try Throughput.measure(spec: spec, classes: data.classes, inChannels: data.channels, mode: .infer,
                                               batch: b, size: c.imageSize, warmup: 1, iterations: 2, repeats: 1, engine: engine)
                rates[c.model] = (t.imagesPerSecond, i.imagesPerSecond)
            }
            let r = rates[c.model]!
            let perEpoch = Double(data.trainIndices.count) / r.train
                + Double(data.testIndices.count) / r.infer
            total += Double(c.training.epochs) * perEpoch
        }
        log("estimated training time for \(todo.count) unfinished runs: ~\(ProgressBar.clock(total)) (from a short measurement; resumed runs take less)")
    }
}

/// Test hook for the resume tests: `RKAN_CRASH_AFTER_STEPS=N` makes the process SIGKILL itself
/// after N optimizer steps (counted across runs), simulating a crash at an exact point.
enum CrashHook {
    nonisolated(unsafe) static var steps = 0

    /// `RKAN_CRASH_AFTER_STEPS=n`: SIGKILL after n steps (`RKAN_CRASH_SIGNAL=STOP`: SIGSTOP, a
    /// process alive but silent); with `RKAN_CRASH_RANK=r` only on rank r of a data-parallel run
    /// (the others must then fail cleanly, not hang).
    static func fromEnvironment(rank: Int = 0) -> ((Int, Int) -> Void)? {
        let env = ProcessInfo.processInfo.environment
        guard let v = env["RKAN_CRASH_AFTER_STEPS"], let n = Int(v) else { return nil }
        if let r = env["RKAN_CRASH_RANK"].flatMap(Int.init), r != rank { return nil }
        let signal = env["RKAN_CRASH_SIGNAL"] == "STOP" ? SIGSTOP : SIGKILL
        return { _, _ in
            steps += 1
            if steps >= n { kill(getpid(), signal) }
        }
    }
}
