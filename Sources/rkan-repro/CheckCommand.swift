import ArgumentParser
import Foundation
import Harness

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Nightly regression verdict of a suite's profile against a stored baseline.")

    @OptionGroup var suite: SuiteOptions
    @Option(help: "Profile.") var profile: String = "nightly"
    @Option(help: "Baseline JSON file.") var baseline: String
    @Option(help: "Folder of run files.") var runs: String = "runs"
    @Option(help: "JUnit XML output.") var junit: String?
    @Flag(help: "Record the current runs as the new baseline.") var updateBaseline = false
    @Flag(help: "Pass rows whose weights could not be compared with the baseline's (another BLAS core, thread count or conv algorithm, or no seed in common), with a warning; without it they fail.")
    var allowUncomparedWeights = false

    func validate() throws {
        try validateName(profile, "--profile")
    }

    func run() throws {
        try runReportingErrors {
            let r = try RegressionCheck.run(suite: suite.suite, profile: profile, baseline: URL(fileURLWithPath: baseline),
                                            runs: URL(fileURLWithPath: runs, isDirectory: true),
                                            suitesFolder: suite.folder.url,
                                            junit: junit.map { URL(fileURLWithPath: $0) }, update: updateBaseline,
                                            allowUncompared: allowUncomparedWeights)
            print(r.summary)
            return r.passed ? 0 : 1
        }
    }
}
