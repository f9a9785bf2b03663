import ArgumentParser
import Foundation
import Harness
import RunStore

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train every unfinished run of a suite (rows × seeds of a profile); rerunning resumes.",
        discussion: "Run files go to OUT/SUITE/PROFILE/ID/seed-S.h5 with a checkpoint after every epoch and every --checkpoint-every inside one. Exit 1 when a run diverged.")

    @OptionGroup var suite: SuiteOptions
    @OptionGroup var plan: PlanOptions
    @OptionGroup var tree: RunTreeOption
    @Option(help: "Background threads decoding and augmenting batches.")
    var loaderWorkers: Int = 2
    @Option(help: ArgumentHelp("First remove this profile's run locks older than AGE (90s, 30m, 2h, 1d; 0: all) unless their process runs on this host.",
                               discussion: "For locks left by a task killed on another host (rkan-repro status shows them); a live lock of this host is never removed.",
                               valueName: "AGE"))
    var breakLocks: String?
    @Option(help: ArgumentHelp("Move these runs' files aside (to seed-S.h5.bad-TIME, kept) and train them from scratch.",
                               discussion: "For a run file that fails its checks (damaged, of another run, of an older layout): the error prints this command.",
                               valueName: "ID:SEED,..."))
    var restart: String?
    @Option(help: ArgumentHelp("Save a checkpoint inside an epoch every INTERVAL (30s, 10m, 2h; 0 or off: at epoch ends only).",
                               discussion: "A killed run resumes from its last checkpoint to the same bytes as an uninterrupted run, so it loses at most INTERVAL of training.",
                               valueName: "INTERVAL"))
    var checkpointEvery: String = "10m"
    @Option(help: ArgumentHelp("Data-parallel ranks: start with `mpirun -np N` (or srun) and pass the same N (default: the launcher's world size, 1 without one).",
                               discussion: "Every batch is cut into K virtual shards (one per 16 images of the suite's batch size, a power of two up to 8: K = 8 from batch 128); rank r trains shards r·K/N ..< (r+1)·K/N and every batch reduction is folded over the shards in one fixed tree, so the weights are the same bytes for every N that divides K (and resume on another count works).",
                               valueName: "N"))
    var ranks: Int?
    @Option(name: .customLong("start-weights"), parsing: .singleValue,
            help: ArgumentHelp("Detection suites: the state dict row ID's backbone starts from (its ImageNet classifier: a run file, an init file, or a .pth converted by python3 -m Tools.weights.pth_h5 to-h5). Repeat for several rows.",
                               valueName: "ID=FILE"))
    var startWeights: [String] = []
    @Option(help: ArgumentHelp("Detection suites: the run tree whose finished imagenet runs give the backbones' start weights (default: --runs).",
                                valueName: "DIR"))
    var startRuns: String?
    @OptionGroup var common: CommonOptions

    /// `--start-weights` as row → file.
    var startWeightFiles: [String: URL] {
        Dictionary(startWeights.compactMap { item -> (String, URL)? in
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex, item.index(after: eq) != item.endIndex else { return nil }
            return (String(item[..<eq]), URL(fileURLWithPath: String(item[item.index(after: eq)...])))
        }, uniquingKeysWith: { _, b in b })
    }

    func validate() throws {
        if let n = ranks, !DataParallel.validRankCounts.contains(n) { throw ValidationError("--ranks: " + DataParallel.rankAdvice(n)) }
        if let r = restart, RestartTarget.parseList(r) == nil {
            throw ValidationError("--restart must be ID:SEED (comma-separated for several, seeds ≥ 0), got '\(r)'")
        }
        if loaderWorkers < 0 { throw ValidationError("--loader-workers must be ≥ 0") }
        if CheckpointInterval.parse(checkpointEvery) == nil { throw ValidationError(CheckpointInterval.usage(checkpointEvery)) }
        for item in startWeights {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--start-weights must be ID=FILE (a row id of the suite, then the state dict's path), got '\(item)'")
            }
            guard FileManager.default.fileExists(atPath: String(parts[1])) else {
                throw ValidationError("--start-weights \(item): no file at \(parts[1]); give the path of the row's ImageNet classifier state dict")
            }
        }
        if let b = breakLocks, RunLock.parseAge(b) == nil { throw ValidationError("--break-locks must be an age like 90s, 30m, 2h or 1d, got '\(b)'") }
    }

    func run() throws {
        try runReportingErrors {
            var req = RunRequest(suite: suite.suite, profile: plan.profile, only: plan.onlyIDs, seeds: plan.seedList,
                                 suitesFolder: try suite.folder, dataFolder: common.dataURL, outFolder: tree.url,
                                 threads: common.resolvedThreads, loaderWorkers: loaderWorkers,
                                 restart: restart.flatMap(RestartTarget.parseList) ?? [],
                                 checkpointInterval: CheckpointInterval.parse(checkpointEvery)!,
                                 // The CLI tests' crash and NaN hooks reach child processes as variables, read here only.
                                 hooks: TrainingHooks(environment: ProcessInfo.processInfo.environment))
            req.ranks = ranks
            req.startWeights = startWeightFiles
            req.startRuns = startRuns.map { URL(fileURLWithPath: $0) }
            if let age = breakLocks.flatMap(RunLock.parseAge) {
                for (path, owner) in RunLock.breakLocks(in: tree.tree, suite: suite.suite, profile: plan.profile, olderThan: age) {
                    let who = owner.map { "\($0.host):\($0.pid) since \($0.started)" } ?? "unreadable"
                    FileHandle.standardError.write(Data("removed lock \(path) (\(who))\n".utf8))
                }
            }
            return try SuiteRunner.run(req) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        }
    }
}
