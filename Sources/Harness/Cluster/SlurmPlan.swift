import Foundation
import RunStore

/// What a Slurm job asks for, per array task (`#SBATCH` lines of `job.sbatch`).
public struct SlurmResources: Equatable, Sendable {
    /// `--partition` (nil: the cluster's default).
    public var partition: String?
    /// `--cpus-per-task`; every task trains with this many threads (`run --threads N`), which
    /// is recorded in its run file.
    public var cpusPerTask: Int
    /// `--time` wall-clock limit (`MM`, `HH:MM:SS`, `D-HH:MM:SS`, ...; nil: the partition's).
    public var time: String?
    /// `--mem` per node (`4G`, `8000M`; nil: the partition's default).
    public var memory: String?
    /// Data-parallel ranks of each run (`--ntasks`, `run --ranks`); 1: one process per run.
    public var ranksPerRun: Int
    /// How a multi-rank task starts its ranks.
    public var launcher: MPILauncher
    /// The OpenBLAS core choice `plan` was given (`--blas-core` or `RKAN_BLAS_CORE`), passed on to
    /// every task as `--blas-core` (nil: each task chooses for its node, as a plain `run` does).
    /// A seed's bytes depend on the core, so `--blas-core portable` must reach the nodes.
    public var blasCore: String?
    /// The 3×3 conv algorithm and the Winograd GEMM (`RKAN_CONV_ALGO`, `RKAN_WINO_GEMM`) resolved
    /// where `plan` ran, exported by the script to every task and rank (nil: each task's own
    /// environment and CPU decide). Both change a run's bytes, and the GEMM's default follows the
    /// CPU, so one plan's runs would otherwise depend on the shell that ran sbatch and on the node
    /// each task landed on.
    public var convAlgorithm: String?
    public var winogradGEMM: String?

    /// `srun` when the cluster's srun has an MPI plugin that Open MPI speaks (PMIx), else `mpirun`
    /// inside the allocation (Open MPI reads the Slurm allocation itself).
    public enum MPILauncher: String, Sendable, CaseIterable { case srun, mpirun }

    public init(partition: String? = nil, cpusPerTask: Int = 2, time: String? = nil, memory: String? = nil,
                ranksPerRun: Int = 1, launcher: MPILauncher = .srun, blasCore: String? = nil,
                convAlgorithm: String? = nil, winogradGEMM: String? = nil) {
        self.partition = partition; self.cpusPerTask = cpusPerTask; self.time = time; self.memory = memory
        self.ranksPerRun = ranksPerRun; self.launcher = launcher; self.blasCore = blasCore
        self.convAlgorithm = convAlgorithm; self.winogradGEMM = winogradGEMM
    }

    /// The environment the script exports to every task (the conv settings), in order.
    var engineEnvironment: [(String, String)] {
        [("RKAN_CONV_ALGO", convAlgorithm), ("RKAN_WINO_GEMM", winogradGEMM)].compactMap { k, v in v.map { (k, $0) } }
    }

    /// Checks the values before they are written into a script.
    /// - Throws: `HarnessError.badConfig` naming the option and the accepted form.
    public func validate() throws {
        if cpusPerTask < 1 { throw HarnessError.badConfig(what: "--cpus-per-task", detail: "must be ≥ 1, got \(cpusPerTask)") }
        if !DataParallel.validRankCounts.contains(ranksPerRun) {
            throw HarnessError.badConfig(what: "--ranks-per-run", detail: DataParallel.rankAdvice(ranksPerRun))
        }
        if let p = partition, p.isEmpty || p.contains(where: { !($0.isLetter || $0.isNumber || "_-.,".contains($0)) }) {
            throw HarnessError.badConfig(what: "--partition", detail: "'\(p)' is not a partition name (letters, digits, _ - . and , only)")
        }
        if let t = time, !Self.isSlurmTime(t) {
            throw HarnessError.badConfig(what: "--time", detail: "'\(t)' is not a Slurm time limit; use HH:MM:SS (e.g. 02:00:00) or D-HH:MM:SS")
        }
        if let m = memory, m.range(of: #"^[0-9]+[KMGT]?$"#, options: .regularExpression) == nil {
            throw HarnessError.badConfig(what: "--mem", detail: "'\(m)' is not a Slurm memory size; use e.g. 4G or 8000M")
        }
    }

    /// Slurm's time forms: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`.
    static func isSlurmTime(_ s: String) -> Bool {
        s.range(of: #"^([0-9]+-[0-9]+(:[0-9]{1,2}){0,2}|[0-9]+(:[0-9]{1,2}){0,2})$"#, options: .regularExpression) != nil
    }
}

/// A suite's runs as a Slurm job array: `plan.tsv` maps each array index to one run
/// (experiment × seed) and `job.sbatch` runs `rkan-repro run` for that one run. Pure: it builds
/// the texts; `SlurmSubmission` writes and submits them.
///
/// Everything in the texts is an absolute path, so the job works from any working directory
/// and on any node that mounts the same file system.
public struct SlurmPlan: Equatable, Sendable {
    /// One array task: a run and its run file.
    public struct Task: Equatable, Sendable {
        public var index: Int
        public var experiment: String
        public var seed: Int
        /// Absolute path of the run file (`OUT/SUITE/PROFILE/ID/seed-S.h5`).
        public var runFile: String
    }

    public var suite: String
    public var profile: String
    /// In the plan's order (experiments in suite order, seeds ascending): index i is task i.
    public var tasks: [Task]
    /// Absolute path of the `rkan-repro` binary the tasks run.
    public var binary: String
    public var outFolder: String
    public var suitesFolder: String
    public var dataFolder: String?
    /// Detection suites: `--start-runs` and each `--start-weights ID=FILE` passed on to every task (absolute paths).
    public var startRuns: String?
    public var startWeights: [String] = []
    /// The tasks' working directory (`--chdir`): where `plan` ran.
    public var workingDirectory: String
    public var resources: SlurmResources

    /// - Parameters:
    ///   - suite, profile: the plan's suite and profile names.
    ///   - runs: the runs (`Suite.runs` with `--only` and `--seeds` applied).
    ///   - binary, out, suitesFolder, dataFolder, workingDirectory: made absolute here.
    ///   - resources: the `#SBATCH` settings.
    public init(suite: String, profile: String, runs: [RunConfig], binary: URL, out: URL, suitesFolder: URL, dataFolder: URL?,
                workingDirectory: URL, resources: SlurmResources) {
        let outFolder = Self.absolute(out)
        let tree = RunTree(out: URL(fileURLWithPath: outFolder, isDirectory: true))
        self.suite = suite
        self.profile = profile
        tasks = runs.enumerated().map { i, run in
            Task(index: i, experiment: run.experiment, seed: run.seed, runFile: tree.file(for: run.slot).path)
        }
        self.binary = Self.absolute(binary)
        self.outFolder = outFolder
        self.suitesFolder = Self.absolute(suitesFolder)
        self.dataFolder = dataFolder.map(Self.absolute)
        self.workingDirectory = Self.absolute(workingDirectory)
        self.resources = resources
    }

    /// Checks every path the texts embed. The script quotes each value where it is a shell word
    /// (`quote`) and in `#SBATCH` lines (`directiveValue`), but a line break ends a comment or a
    /// directive and starts a command the job runs, sbatch's own quoting has no escape for `"`
    /// or `\`, `%` is a Slurm file-name pattern in `--output`, and `plan.tsv` is split at tabs.
    /// - Throws: `HarnessError.badConfig` naming the option whose path holds such a character,
    ///   and the fix.
    public func validate() throws {
        func isControl(_ c: Character) -> Bool { c.unicodeScalars.contains { $0.properties.generalCategory == .control } }
        func show(_ c: Character) -> String {
            c.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? String(format: "\\x%02X", $0.value) : String($0) }.joined()
        }
        var checks: [(value: String, option: String, refused: (Character) -> Bool)] = [
            (outFolder, "--runs", { isControl($0) || "\"\\%".contains($0) }),
            (workingDirectory, "the working directory (the tasks' --chdir, where plan runs)", { isControl($0) || "\"\\%".contains($0) }),
            (binary, "the rkan-repro binary's path", isControl), (suitesFolder, "--suites", isControl),
        ]
        if let d = dataFolder { checks.append((d, "--data", isControl)) }
        if let d = startRuns { checks.append((d, "--start-runs", isControl)) }
        for w in startWeights { checks.append((w, "--start-weights", isControl)) }
        if let core = resources.blasCore { checks.append((core, "--blas-core", isControl)) }
        for (value, option, refused) in checks {
            guard let c = value.first(where: refused) else { continue }
            throw HarnessError.badConfig(what: "\(option) \(RunFileAccess.shellQuoted(value))", detail:
                "it holds the character '\(show(c))', which job.sbatch cannot carry safely (a line break would end a comment or an #SBATCH line "
                + "and start a command; sbatch cannot escape \" or \\ in a directive; % is a Slurm file-name pattern); use a path without it, "
                + "e.g. a symbolic link to the folder")
        }
    }

    /// A value for an `#SBATCH` line: as is when plain, else in double quotes (sbatch strips
    /// them; `validate` refuses `"`, `\` and line breaks, which no quoting carries).
    static func directiveValue(_ s: String) -> String {
        s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+=:,@%".contains($0) }) ? s : "\"" + s + "\""
    }

    /// `OUT/SUITE/PROFILE/slurm`: holds `plan.tsv`, `job.sbatch` and `logs/`.
    public var folder: String {
        RunTree(out: URL(fileURLWithPath: outFolder, isDirectory: true)).slurmFolder(suite: suite, profile: profile).path
    }
    public var planPath: String { "\(folder)/plan.tsv" }
    public var scriptPath: String { "\(folder)/job.sbatch" }
    public var logsFolder: String { "\(folder)/logs" }

    /// The task table: a header line, then `index<TAB>experiment<TAB>seed<TAB>run_file`.
    public func planTSV() -> String {
        (["index\texperiment\tseed\trun_file"] + tasks.map { "\($0.index)\t\($0.experiment)\t\($0.seed)\t\($0.runFile)" })
            .joined(separator: "\n") + "\n"
    }

    /// The `rkan-repro run` words every task runs (the experiment and seed are shell variables);
    /// with several ranks per run, behind `srun` (PMIx, a failed rank ends the step) or `mpirun`.
    public func runCommand() -> String {
        let n = resources.ranksPerRun
        var words: [String] = []
        if n > 1 {
            switch resources.launcher {
            case .srun: words = ["srun", "--mpi=pmix", "--kill-on-bad-exit=1", "--ntasks=\(n)", "--cpus-per-task=\(resources.cpusPerTask)"]
            case .mpirun: words = ["mpirun", "-np", "\(n)", "--bind-to", "none"] + resources.engineEnvironment.flatMap { ["-x", $0.0] }
            }
        }
        words += [Self.quote(binary), "run", Self.quote(suite), "--profile", Self.quote(profile),
                     "--only", "\"$experiment\"", "--seeds", "\"$seed\"", "--runs", Self.quote(outFolder),
                     "--threads", "\"${SLURM_CPUS_PER_TASK:-\(resources.cpusPerTask)}\""]
        if let d = dataFolder { words += ["--data", Self.quote(d)] }
        if let d = startRuns { words += ["--start-runs", Self.quote(d)] }
        for w in startWeights { words += ["--start-weights", Self.quote(w)] }
        words += ["--suites", Self.quote(suitesFolder)]
        if let core = resources.blasCore { words += ["--blas-core", Self.quote(core)] }
        if n > 1 { words += ["--ranks", "\(n)"] }
        return words.joined(separator: " ")
    }

    /// The batch script: `#SBATCH` settings, then a lookup of `$SLURM_ARRAY_TASK_ID` in
    /// `plan.tsv` and an `exec` of `rkan-repro run` for that one run.
    public func script() -> String {
        var sbatch = ["--job-name=rkan-\(suite)-\(profile)", "--array=0-\(tasks.count - 1)",
                      "--cpus-per-task=\(resources.cpusPerTask)", "--output=\(Self.directiveValue("\(logsFolder)/task-%a.log"))",
                      "--open-mode=append", "--requeue", "--chdir=\(Self.directiveValue(workingDirectory))"]
        if resources.ranksPerRun > 1 { sbatch.append("--ntasks=\(resources.ranksPerRun)") }
        if let p = resources.partition { sbatch.append("--partition=\(p)") }
        if let t = resources.time { sbatch.append("--time=\(t)") }
        if let m = resources.memory { sbatch.append("--mem=\(m)") }
        let status = "rkan-repro status \(suite) --profile \(profile) --runs \(Self.quote(outFolder))"
        let env = resources.engineEnvironment
        // The conv settings of every task, as resolved where `plan` ran (they change the bytes).
        let exports = env.isEmpty ? "" : "export " + env.map { "\($0.0)=\(Self.quote($0.1))" }.joined(separator: " ") + "\n"
        return """
        #!/bin/bash
        # rkan-repro: suite \(suite), profile \(profile), \(tasks.count) runs, one per array task.
        # Written by `rkan-repro plan --slurm`; task i runs line i of \(Self.quote(planPath)).
        # Submit, or resubmit after a failure, with: sbatch \(Self.quote(scriptPath))
        # Finished runs are skipped and interrupted ones resume from their last checkpoint.
        # Progress: \(status)
        \(sbatch.map { "#SBATCH \($0)" }.joined(separator: "\n"))
        set -euo pipefail
        plan=\(Self.quote(planPath))
        task=${SLURM_ARRAY_TASK_ID:?not set: submit this script with sbatch, it is a job array}
        line=$(awk -F '\\t' -v i="$task" 'NR > 1 && $1 == i' "$plan")
        if [[ -z $line ]]; then echo "task $task has no line in $plan" >&2; exit 1; fi
        IFS=$'\\t' read -r index experiment seed run_file <<< "$line"
        echo "task $task on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ): $experiment seed $seed -> $run_file"
        \(exports)exec \(runCommand())

        """
    }

    /// `path` as one shell word (single quotes; a `'` inside becomes `'\''`).
    static func quote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+=:,@%".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func absolute(_ u: URL) -> String {
        var p = u.standardizedFileURL.path
        while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
        return p
    }
}
