import ArgumentParser
import Foundation
import Harness
import RunStore

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each run of a suite's profile: finished, running (with its epoch), diverged or missing, and its lock.",
        discussion: "Reads only the run files and their .lock files, so it works the same for Slurm jobs and local runs; run files of other seeds found on disk are listed too.")

    @OptionGroup var suite: SuiteOptions
    @OptionGroup var plan: PlanOptions
    @OptionGroup var tree: RunTreeOption

    func run() throws {
        try runReportingErrors {
            let runs = try plan.runs(of: try suite.load())
            let rows = RunStatusTable.rows(runs: runs, tree: tree.tree, suitesFolder: try suite.folder)
            print(RunStatusTable.render(suite: suite.suite, profile: plan.profile, rows: rows))
            // A run file that fails its checks is an error to act on, not a state to ignore.
            return rows.contains {
                switch $0.state {
                case .unreadable, .stale: return true
                default: return false
                }
            } ? 1 : 0
        }
    }
}
