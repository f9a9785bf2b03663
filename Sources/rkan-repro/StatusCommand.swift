import ArgumentParser
import Foundation
import Harness

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each run of a suite's profile: finished, running (with its epoch), diverged or missing, and its lock.",
        discussion: "Reads only the run files and their .lock files, so it works the same for Slurm jobs and local runs.")

    @Argument(help: "Suite name.")
    var suite: String
    @Option(help: "Profile.")
    var profile: String = "default"
    @Option(help: "Only these experiment ids (comma-separated).")
    var only: String?
    @Option(help: "Seeds (comma-separated), overriding the suite's; run files of other seeds found on disk are listed too.")
    var seeds: String?
    @Option(help: "Folder of run files (as given to `run --out`).")
    var out: String = "runs"
    @Option(help: "Folder of the suite files.")
    var suites: String = "Suites"

    func validate() throws {
        try validateSeeds(seeds)
        try validateName(suite, "suite")
        try validateName(profile, "--profile")
    }

    func run() throws {
        try runReportingErrors {
            let loaded = try SuiteRunner.loadSuite(suite, folder: URL(fileURLWithPath: suites, isDirectory: true))
            let plan = try loaded.resolved(profile: profile, only: only.map { $0.split(separator: ",").map(String.init) },
                                           seeds: seeds.flatMap(parseInts))
            let rows = RunStatusTable.rows(plan: plan, out: URL(fileURLWithPath: out, isDirectory: true),
                                           suitesFolder: URL(fileURLWithPath: suites, isDirectory: true))
            print(RunStatusTable.render(plan: plan, rows: rows))
            // A run file that fails its checks is an error to act on, not a state to ignore.
            return rows.contains { if case .unreadable = $0.state { return true }; return false } ? 1 : 0
        }
    }
}
