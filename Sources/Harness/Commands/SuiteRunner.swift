import Foundation
import Engine
import Zoo
import RunStore
import Distributed

/// Turns a suite and profile into runs and trains each that is not finished yet.
public enum SuiteRunner {
    /// Trains every unfinished run of the request, in suite order.
    /// - Returns: 0 when every run finished, 1 when one diverged.
    /// - Throws: suite, data, model and I/O errors (each one paragraph naming the file and the fix).
    public static func run(_ r: RunRequest, log: @escaping (String) -> Void) throws -> Int32 {
        let suite = try SuiteLibrary.find(r.suite, in: r.suitesFolder)
        let configs = try suite.runs(profile: r.profile, only: r.only, seeds: r.seeds)
        for t in r.restart where !configs.contains(where: { $0.experiment == t.experiment && $0.seed == t.seed }) {
            throw HarnessError.badConfig(what: "--restart \(t.experiment):\(t.seed)", detail:
                "it names no run of this plan (\(configs.map { "\($0.experiment):\($0.seed)" }.joined(separator: ", "))); "
                + "give an experiment id and a seed that --only and --seeds select")
        }
        try checkOutFolder(r.outFolder)
        if suite.dataset.name.isDetection, let n = r.ranks, n > 1 { throw detectionRanks(n, suite: r.suite) }
        let comm = try MPILaunch.communicator(requested: r.ranks)
        let engine = try EngineContext.fromEnvironment(threads: r.threads, sharding: BatchSharding(communicator: comm))
        let dp = DataParallel(sharding: engine.sharding)
        let log: (String) -> Void = dp.isWriter ? log : { _ in }
        if dp.isWriter {
            var resume = RunFileAccess.runCommand(suite: r.suite, profile: r.profile, RunFileAccess.Context(out: r.outFolder, suitesFolder: r.suitesFolder))
            if let only = r.only { resume += " --only \(only.joined(separator: ","))" }
            if let seeds = r.seeds { resume += " --seeds \(seeds.map(String.init).joined(separator: ","))" }
            if let data = r.dataFolder { resume += " --data \(RunFileAccess.shellQuoted(data.path))" }
            // A checkpoint resumes only under the OpenBLAS core, conv algorithm and Winograd GEMM
            // that wrote it: the ones asked for here are part of the command.
            if let core = BLASCoreStartup.requestedChoice { resume += " --blas-core \(RunFileAccess.shellQuoted(core))" }
            let env = ProcessInfo.processInfo.environment
            let settings = ["RKAN_CONV_ALGO", WinogradGEMM.environmentVariable].compactMap { k in
                env[k].flatMap { $0.isEmpty ? nil : "\(k)=\(RunFileAccess.shellQuoted($0)) " }
            }
            resume = settings.joined() + resume
            RunLock.announceInterruptions(resume: resume + (dp.ranks > 1 ? " (under the same launcher and rank count, or any valid one)" : ""))
        }
        if !suite.dataset.name.isDetection && (!r.startWeights.isEmpty || r.startRuns != nil) {
            throw HarnessError.badConfig(what: r.startWeights.isEmpty ? "--start-runs" : "--start-weights", detail:
                "suite \(r.suite) trains classifiers, which start from the seed; start weights are for detection suites (coco)")
        }
        if suite.dataset.name.isDetection {
            guard dp.ranks == 1 else { throw detectionRanks(dp.ranks, suite: r.suite) }
            return try DetectionRunner.run(r, suite: suite, configs: configs, engine: engine, log: log)
        }
        try agree(dp, configs: configs, request: r, engine: engine)
        try DataParallel.check(ranks: dp.ranks, for: configs)   // every run's batch size must allow it
        let first = configs[0]
        if dp.ranks > 1 {
            let k = ShardPlan.shards(forBatch: first.training.batchSize)
            log("data-parallel: \(dp.ranks) ranks × \(r.threads) threads, \(k) shards per batch of \(first.training.batchSize) (rank r trains shards r·\(k / dp.ranks) ..< (r+1)·\(k / dp.ranks))")
        }
        let data = try TrainingData.load(dataset: first.dataset, folder: r.dataFolder, imageSize: first.imageSize,
                                         trainSubset: first.trainSubset, testSubset: first.testSubset, workers: r.loaderWorkers,
                                         subsetSeed: 0)
        for c in configs {
            try SizeLimits.checkModelInput(classes: data.classes, inChannels: data.channels, batch: max(c.training.batchSize, c.evalBatchSize),
                                           side: c.imageSize, names: ("classes", "channels", "\(c.suite).yaml batch_size", "\(c.suite).yaml resolution"))
        }
        let tree = RunTree(out: r.outFolder)
        let machine = MachineInfo.current(threads: r.threads)
        log("\(suite.suite) (\(r.profile)): \(configs.count) runs, \(data.trainIndices.count) training / \(data.testIndices.count) test images at \(data.imageSize)×\(data.imageSize), \(r.threads) threads, BLAS core \(machine.blasCore)")
        try estimate(configs, data: data, tree: tree, restart: Set(r.restart), engine: engine, log: log)
        // Each RKAN row's baseline model under this profile (also when --only leaves the baseline out).
        let models = Dictionary(try suite.runs(profile: r.profile).map { ($0.experiment, $0.model) }, uniquingKeysWith: { a, _ in a })
        var diverged = 0
        for (i, c) in configs.enumerated() {
            log("[\(i + 1)/\(configs.count)] \(c.experiment) (\(c.model)) seed \(c.seed) → \(tree.file(for: c.slot).path)")
            let baseline = suite.experiments.first { $0.id == c.experiment }?.baseline.flatMap { models[$0] }
            if try train(c, data: data, tree: tree, machine: machine, engine: engine, request: r, pairedBaseline: baseline,
                         log: log) == .diverged { diverged += 1 }
        }
        // A clean end of every rank (MPI_Finalize); on an error the process exits 1 without it,
        // and the launcher ends the other ranks.
        dp.barrier()
        (comm as? MPICommunicator)?.finalize()
        return diverged > 0 ? 1 : 0
    }

    /// Checks that every rank of a data-parallel run was started with the same request: the
    /// resolved runs (seeds, rows, profile, suite content), the output and data folders, the
    /// restarts, the conv algorithm, the Winograd GEMM and the OpenBLAS core. Ranks that disagree would train
    /// different runs into one file. One process: nothing to check.
    /// - Throws: `HarnessError.badConfig` on every rank when any rank's request differs from rank 0's.
    static func agree(_ dp: DataParallel, configs: [RunConfig], request r: RunRequest, engine: EngineContext) throws {
        guard dp.ranks > 1 else { return }
        var text = configs.map(\.canonicalJSON).joined(separator: "\n")
        text += "\nout=\(r.outFolder.standardizedFileURL.path)\ndata=\(r.dataFolder?.standardizedFileURL.path ?? "-")"
        text += "\nrestart=\(r.restart.map { "\($0.experiment):\($0.seed)" }.sorted())\nconv=\(engine.conv.algorithm.rawValue)\ngemm=\(engine.conv.winogradGEMM.rawValue)\nblas=\(BLAS.coreName)"
        var h = SHA256()
        h.update(Array(text.utf8))
        let digest = h.finalize()
        // 8 words of 32 bits: exact as Doubles.
        let words = (0..<8).map { i in Double((0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(digest[4 * i + $1]) }) }
        let writer = dp.fromWriter(words, count: 8)
        guard dp.all(writer == words) else {
            throw HarnessError.badConfig(what: "rank \(dp.rank) of \(dp.ranks)", detail:
                "the ranks of this data-parallel run were not started with the same request (seeds, --only, profile, suite file, "
                + "--out, --data, --restart, RKAN_CONV_ALGO, the Winograd GEMM (RKAN_WINO_GEMM, or a CPU without AVX2 + FMA) or the OpenBLAS core differ between them), so they would train different runs "
                + "into one file; start every rank with the same command line and environment (one mpirun … rkan-repro run …)")
        }
    }

    /// How one run of `run` ended, as far as the exit code cares.
    enum Ending { case done, diverged, skipped }

    /// Trains (or resumes, or skips) one run under its lock.
    static func train(_ c: RunConfig, data: TrainingData, tree: RunTree, machine: MachineInfo, engine: EngineContext, request r: RunRequest,
                      pairedBaseline: ModelSpec? = nil, log: @escaping (String) -> Void) throws -> Ending {
        let url = tree.file(for: c.slot)
        let trainer = Trainer(config: c, data: data, url: url, machine: machine, engine: engine, hooks: r.hooks, checkpointInterval: r.checkpointInterval)
        trainer.log = log
        trainer.pairedBaseline = pairedBaseline
        return try guarded(c, tree: tree, engine: engine, request: r, log: log) { try trainer.run() }
    }

    /// Runs `body` (a trainer's `run`) for run `c` under its lock: the lock, stale temporaries,
    /// `--restart`, and the run-file errors turned into their fix.
    static func guarded(_ c: RunConfig, tree: RunTree, engine: EngineContext, request r: RunRequest, log: @escaping (String) -> Void,
                        _ body: () throws -> TrainOutcome) throws -> Ending {
        let url = tree.file(for: c.slot)
        let access = RunFileAccess.Context(out: r.outFolder, suitesFolder: r.suitesFolder)
        // Rank 0 alone takes the lock and tidies the file; the other ranks follow its decision.
        let dp = DataParallel(sharding: engine.sharding)
        var lock: RunLock?
        if dp.isWriter {
            switch try RunLock.acquire(runFile: url, log: log) {
            case let .acquired(l): lock = l
            case let .busy(o):
                log("  being trained by \(o.map { "\($0.host):\($0.pid)" } ?? "another process") (lock \(tree.lock(for: c.slot).path)); skipped")
            }
        }
        guard dp.all(lock != nil || !dp.isWriter) else { return .skipped }
        defer { lock?.release() }
        if dp.isWriter {
            for path in StaleTemporaries.remove(of: url.path) { log("  removed \(path), left by a process that no longer runs") }
            if r.restart.contains(RestartTarget(experiment: c.experiment, seed: c.seed)), let moved = try RunFileAccess.moveAside(url) {
                log("  --restart: moved \(url.path) aside to \(moved.lastPathComponent); training from scratch")
            }
        }
        dp.barrier()
        let outcome: TrainOutcome
        do { outcome = try body() } catch let e as RunStoreError {
            switch e {
            case .cannotWrite, .hdf5, .notReadable: throw e
            default: throw HarnessError.badRunFile(detail: "\(e)", fix: RunFileAccess.restartCommand(c.slot, access))
            }
        } catch HarnessError.incompatibleRunFile(let path, let detail) {
            throw HarnessError.badRunFile(detail: "run file \(path) cannot be resumed: \(detail)",
                                          fix: RunFileAccess.restartCommand(c.slot, access))
        }
        switch outcome {
        case .finished: return .done
        case let .skipped(status):
            log("  already \(status.rawValue); skipped (to retrain: \(RunFileAccess.restartCommand(c.slot, access)))")
            return status == .diverged ? .diverged : .skipped
        case let .diverged(_, _, detail):
            log("  diverged: \(detail); recorded with status=diverged. Lower the learning rate (protocol.optimizer.lr, or lr in the profile) "
                + "or check the data, then retrain with \(RunFileAccess.restartCommand(c.slot, access))")
            return .diverged
        }
    }
}

extension SuiteRunner {
    /// Why a detection suite trains on one rank.
    static func detectionRanks(_ n: Int, suite: String) -> HarnessError {
        .unsupported(what: "--ranks \(n) for the detection suite \(suite)", detail:
            "a data-parallel detector needs shards of images of different sizes and BatchNorm statistics synchronised over the images of "
            + "every rank, which rkan-repro does not have yet (docs/design.md, \"Detection runs\"); train it with one rank (more --threads instead)")
    }

    /// `--out` must be a folder or not exist yet (it is created); a file, or a file where a
    /// parent folder belongs, is named as such.
    static func checkOutFolder(_ out: URL) throws {
        var isFolder: ObjCBool = false
        var path = out.standardizedFileURL.path
        while !path.isEmpty && path != "/" {
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
                guard isFolder.boolValue else {
                    throw HarnessError.io(path: out.path, detail: path == out.standardizedFileURL.path
                        ? "--runs names a file, not a folder; pass a folder for the run files (it is created when missing)"
                        : "--runs cannot be created: \(path) is a file, not a folder; pass another --runs")
                }
                return
            }
            path = (path as NSString).deletingLastPathComponent
        }
    }

    /// Prints an estimate of the total time of the unfinished runs from a short measurement of
    /// each distinct model (2 timed training steps, 2 inference passes).
    static func estimate(_ configs: [RunConfig], data: TrainingData, tree: RunTree, restart: Set<RestartTarget> = [],
                         engine: EngineContext, log: (String) -> Void) throws {
        let todo = configs.filter { c in
            if restart.contains(RestartTarget(experiment: c.experiment, seed: c.seed)) { return true }
            return (try? RunFile.readAttributes(tree.file(for: c.slot)).status) != .finished
        }
        guard !todo.isEmpty else { log("all \(configs.count) runs are finished; nothing to train"); return }
        var rates: [ModelSpec: (train: Double, infer: Double)] = [:]
        var total = 0.0
        for c in todo {
            if rates[c.model] == nil {
                let b = min(c.training.batchSize, 64)
                let t = try Throughput.measure(spec: c.model, classes: data.classes, inChannels: data.channels, mode: .train,
                                               batch: b, size: c.imageSize, warmup: 1, iterations: 2, repeats: 1, engine: engine)
                let i = try Throughput.measure(spec: c.model, classes: data.classes, inChannels: data.channels, mode: .infer,
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
