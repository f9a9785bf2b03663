import ArgumentParser
import Foundation
import Engine
import Harness

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the runs of a suite's profile; with --slurm, write them as a Slurm job array (and --submit it).",
        discussion: """
        With --slurm this writes OUT/SUITE/PROFILE/slurm/plan.tsv (array index → experiment, seed, run file) and \
        job.sbatch (one `rkan-repro run --only ID --seeds S` per task, with this binary's absolute path). Resubmitting the \
        same script after a failure trains only what is unfinished; `rkan-repro status SUITE` shows progress and locks.
        """)

    @OptionGroup var suite: SuiteOptions
    @OptionGroup var plan: PlanOptions
    @Flag(help: "Write a Slurm job array (plan.tsv and job.sbatch).")
    var slurm = false
    @Option(help: "Slurm partition (default: the cluster's default).")
    var partition: String?
    @Option(help: "CPUs per task; each task trains with this many threads (use the same --threads locally to get the same bytes).")
    var cpusPerTask: Int = 2
    @Option(help: "Time limit per task (HH:MM:SS or D-HH:MM:SS).")
    var time: String?
    @Option(help: "Memory per task (e.g. 4G).")
    var mem: String?
    @OptionGroup var tree: RunTreeOption
    @Option(help: "Folder holding the datasets (default: what `run` finds on each node).")
    var data: String?
    @Option(help: "Data-parallel ranks per run: --ntasks=N per array task, started with srun (or --launcher mpirun); the same bytes as one process.")
    var ranksPerRun: Int = 1
    @Option(help: "How a task with several ranks starts them: srun (needs srun's PMIx plugin) or mpirun.")
    var launcher: String = "srun"
    @Option(help: ArgumentHelp("Detection suites: passed to every task's run (the run tree of the imagenet runs that start the backbones).", valueName: "DIR"))
    var startRuns: String?
    @Option(name: .customLong("start-weights"), parsing: .singleValue,
            help: ArgumentHelp("Detection suites: passed to every task's run (row ID's backbone start weights); repeat for several rows.", valueName: "ID=FILE"))
    var startWeights: [String] = []
    @Flag(help: "Submit the job with sbatch and print its id.")
    var submit = false

    func validate() throws {
        if submit && !slurm { throw ValidationError("--submit needs --slurm") }
        if SlurmResources.MPILauncher(rawValue: launcher) == nil { throw ValidationError("--launcher must be srun or mpirun, got '\(launcher)'") }
        do { try resources.validate() } catch { throw ValidationError("\(error)") }
    }

    var resources: SlurmResources {
        SlurmResources(partition: partition, cpusPerTask: cpusPerTask, time: time, memory: mem, ranksPerRun: ranksPerRun,
                       launcher: SlurmResources.MPILauncher(rawValue: launcher) ?? .srun, blasCore: BLASCoreStartup.requestedChoice,
                       convAlgorithm: conv?.algorithm.rawValue, winogradGEMM: conv?.winogradGEMM.rawValue)
    }

    /// The conv settings every task gets (`RKAN_CONV_ALGO`, `RKAN_WINO_GEMM` as this process
    /// resolves them; nil only when they are invalid, which the command refuses before planning).
    var conv: ConvTuning? { try? EngineContext.fromEnvironment(threads: 1).conv }

    func run() throws {
        try runReportingErrors {
            let runs = try plan.runs(of: try suite.load())
            try DataParallel.check(ranks: ranksPerRun, for: runs)   // the batch size decides the shard count
            let detection = try suite.load().dataset.name.isDetection
            if detection && ranksPerRun > 1 {
                throw HarnessError.unsupported(what: "--ranks-per-run \(ranksPerRun) for the detection suite \(suite.suite)", detail:
                    "detection runs train on one rank (docs/design.md, \"Detection runs\"); plan them with --ranks-per-run 1 and more --cpus-per-task")
            }
            if !detection && (startRuns != nil || !startWeights.isEmpty) {
                throw HarnessError.badConfig(what: "--start-runs/--start-weights", detail: "suite \(suite.suite) trains classifiers from the seed; start weights are for detection suites (coco)")
            }
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
            var job = SlurmPlan(suite: suite.suite, profile: plan.profile, runs: runs, binary: currentExecutable(), out: tree.url,
                                suitesFolder: try suite.folder, dataFolder: data.map { URL(fileURLWithPath: $0, isDirectory: true) },
                                workingDirectory: cwd, resources: resources)
            job.startRuns = startRuns.map { URL(fileURLWithPath: $0, isDirectory: true).standardizedFileURL.path }
            job.startWeights = try startWeights.map { item in
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw HarnessError.badConfig(what: "--start-weights \(item)", detail: "give ID=FILE: a row id of the suite, then the state dict's path")
                }
                return parts[0] + "=" + URL(fileURLWithPath: parts[1]).standardizedFileURL.path
            }
            guard slurm else {
                print(job.planTSV(), terminator: "")
                return 0
            }
            for u in try SlurmSubmission.write(job) { print("wrote \(u.path)") }
            let ranks = ranksPerRun > 1 ? "\(ranksPerRun) ranks × " : ""
            print("\(job.tasks.count) array tasks, \(ranks)\(cpusPerTask) CPU\(cpusPerTask == 1 ? "" : "s") each; logs in \(job.logsFolder)")
            if submit {
                let id = try SlurmSubmission.submit(script: job.scriptPath)
                print("submitted job \(id)")
            } else {
                print("submit with: sbatch \(job.scriptPath)")
            }
            print("progress: rkan-repro status \(suite.suite) --profile \(plan.profile) --runs \(job.outFolder)")
            return 0
        }
    }
}

/// The absolute path of the running binary (what Slurm tasks must run), following symlinks.
func currentExecutable() -> URL {
    if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return URL(fileURLWithPath: p) }
    let arg0 = CommandLine.arguments[0]
    if arg0.contains("/") { return URL(fileURLWithPath: arg0).standardizedFileURL }
    return URL(fileURLWithPath: SlurmSubmission.findExecutable(arg0) ?? arg0)
}
