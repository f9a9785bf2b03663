import Foundation
import Engine
import Zoo
import COCO
import RunStore

/// `run` for a detection suite (dataset `coco`): the data (the `--data` folder in the COCO 2017
/// layout, or the profile's generated shapes data), each row's start weights, and one
/// `DetectionTrainer` per run under the same locks and run files as classification.
enum DetectionRunner {
    static func run(_ r: RunRequest, suite: Suite, configs: [RunConfig], engine: EngineContext, log: @escaping (String) -> Void) throws -> Int32 {
        for id in r.startWeights.keys.sorted() where suite.experiment(id) == nil {
            throw HarnessError.badConfig(what: "--start-weights \(id)=…", detail:
                "suite \(suite.suite) has no row '\(id)'; give a row id: \(suite.experiments.map(\.id).joined(separator: ", "))")
        }
        let overrides = try suite.overrides(profile: r.profile)
        let folder = try dataFolder(r, shapes: overrides.shapes, log: log)
        let first = configs[0]
        let data = try DetectionData.load(folder: folder, trainSubset: first.trainSubset, testSubset: first.testSubset, workers: max(r.loaderWorkers, r.threads))
        let tree = RunTree(out: r.outFolder)
        let machine = MachineInfo.current(threads: r.threads)
        log("\(suite.suite) (\(r.profile)): \(configs.count) runs, \(data.trainIndices.count) training / \(data.valIndices.count) validation images "
            + "from \(folder.path), shorter side \(first.imageSize) px, \(r.threads) threads, BLAS core \(machine.blasCore)")
        let models = Dictionary(try suite.runs(profile: r.profile).map { ($0.experiment, $0.model) }, uniquingKeysWith: { a, _ in a })
        var diverged = 0
        for (i, c) in configs.enumerated() {
            let url = tree.file(for: c.slot)
            log("[\(i + 1)/\(configs.count)] \(c.experiment) (\(c.model)) seed \(c.seed) → \(url.path)")
            let trainer = DetectionTrainer(config: c, data: data, url: url, machine: machine, engine: engine, hooks: r.hooks,
                                           checkpointInterval: r.checkpointInterval, start: try start(c, request: r))
            trainer.log = log
            trainer.pairedBaseline = suite.experiments.first { $0.id == c.experiment }?.baseline.flatMap { models[$0] }
            if try SuiteRunner.guarded(c, tree: tree, engine: engine, request: r, log: log, { try trainer.run() }) == .diverged { diverged += 1 }
        }
        return diverged > 0 ? 1 : 0
    }

    /// Where a run's backbone starts: nil for `start: random`; else a reader of the state dict
    /// `--start-weights ROW=FILE` names, or of the run tree's finished `imagenet` run of the
    /// backbone (looked up when the run starts, not when it resumes).
    static func start(_ c: RunConfig, request r: RunRequest) throws -> (() throws -> DetectionStart.Source)? {
        if let file = r.startWeights[c.experiment] {
            return { try DetectionStart.read(file) }
        }
        switch c.training.start ?? .imagenet {
        case .random: return nil
        case .imagenet:
            return {
                let url = try DetectionStart.imagenetRun(of: c.model.classifierSpec, seed: c.seed, profile: c.profile,
                                                         tree: RunTree(out: r.startRuns ?? r.outFolder), suitesFolder: r.suitesFolder, row: c.experiment)
                return try DetectionStart.read(url)
            }
        }
    }

    /// The data folder: `--data`, else the profile's shapes data under `<runs>/data` (made once,
    /// in a temporary folder renamed into place, so a folder there is always complete).
    static func dataFolder(_ r: RunRequest, shapes: ShapesData?, log: (String) -> Void) throws -> URL {
        if let d = r.dataFolder { return d }
        guard let shapes else {
            throw HarnessError.dataMissing(dataset: "coco", detail:
                "give --data DIR, a folder with COCO 2017 (train2017/, val2017/, annotations/instances_{train,val}2017.json); "
                + "profiles smoke and nightly train on data rkan-repro makes itself (`rkan-repro run \(r.suite) --profile smoke`)")
        }
        let parent = r.outFolder.appendingPathComponent("data", isDirectory: true)
        let target = parent.appendingPathComponent(shapes.folderName, isDirectory: true)
        if FileManager.default.fileExists(atPath: target.appendingPathComponent("annotations/instances_val2017.json").path) { return target }
        if FileManager.default.fileExists(atPath: target.path) {
            throw HarnessError.io(path: target.path, detail: "exists but holds no annotations/instances_val2017.json, so it is not the generated shapes data; move it aside and run again")
        }
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let temporary = parent.appendingPathComponent(".\(shapes.folderName).tmp-\(getpid())", isDirectory: true)
        try? FileManager.default.removeItem(at: temporary)
        log("making the shapes data set (\(shapes.images) training images of \(shapes.size)×\(shapes.size), seed \(shapes.seed)) in \(target.path)")
        let summary = try ShapesDataset.generate(out: temporary, seed: UInt64(shapes.seed), images: shapes.images, size: shapes.size)
        do { try FileManager.default.moveItem(at: temporary, to: target) } catch {
            try? FileManager.default.removeItem(at: temporary)
            // Another process made it meanwhile: use theirs.
            guard FileManager.default.fileExists(atPath: target.appendingPathComponent("annotations/instances_val2017.json").path) else { throw error }
        }
        log("  \(summary)")
        return target
    }
}
