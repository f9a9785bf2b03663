import Foundation

/// Writes a `SlurmPlan`'s files and hands the job to `sbatch`.
public enum SlurmSubmission {
    /// Writes `plan.tsv` and `job.sbatch` (executable) and creates `logs/` (Slurm does not create
    /// the folder of `--output`; a missing one makes every task fail silently).
    /// - Parameter plan: the plan.
    /// - Returns: the two files written.
    /// - Throws: `HarnessError.badConfig` for a plan without runs, `.io` when a file cannot be written.
    @discardableResult
    public static func write(_ plan: SlurmPlan) throws -> [URL] {
        guard !plan.tasks.isEmpty else {
            throw HarnessError.badConfig(what: "plan \(plan.suite) --profile \(plan.profile)", detail: "no runs to submit")
        }
        try plan.validate()
        let files = [(plan.planPath, plan.planTSV()), (plan.scriptPath, plan.script())]
        do {
            try FileManager.default.createDirectory(atPath: plan.logsFolder, withIntermediateDirectories: true)
            for (path, text) in files {
                try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: plan.scriptPath)
        } catch {
            throw HarnessError.io(path: plan.folder, detail: "cannot write the Slurm plan (\(error.localizedDescription)); check that --out is writable")
        }
        return files.map { URL(fileURLWithPath: $0.0) }
    }

    /// Submits a batch script with `sbatch --parsable`.
    /// - Parameters:
    ///   - script: the `job.sbatch` to submit.
    ///   - extraArguments: more `sbatch` options (they override the script's `#SBATCH` lines),
    ///     e.g. `["--array=3"]` to rerun one task.
    /// - Returns: the job id Slurm assigned.
    /// - Throws: `HarnessError.unsupported` when `sbatch` is not on PATH, `.badConfig` with
    ///   sbatch's own message when it refuses the job.
    public static func submit(script: String, extraArguments: [String] = []) throws -> String {
        guard let sbatch = findExecutable("sbatch") else {
            throw HarnessError.unsupported(what: "--submit", detail:
                "sbatch was not found on PATH, so this machine cannot submit Slurm jobs. Run `plan --slurm` without --submit and submit \(script) with `sbatch` on a login node of the cluster (scripts/slurm-local.sh start makes a one-node cluster on this machine)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: sbatch)
        p.arguments = ["--parsable"] + extraArguments + [script]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch {
            throw HarnessError.io(path: sbatch, detail: "cannot start sbatch: \(error.localizedDescription)")
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let stdout = String(decoding: o, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let stderr = String(decoding: e, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // --parsable prints `jobid` or `jobid;cluster`.
        guard p.terminationStatus == 0, let id = stdout.split(separator: ";").first, Int(id) != nil else {
            throw HarnessError.badConfig(what: "sbatch \(script)", detail:
                "Slurm refused the job (exit \(p.terminationStatus)): \(stderr.isEmpty ? stdout : stderr)")
        }
        return String(id)
    }

    /// The first executable called `name` in the folders of `$PATH`.
    public static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
