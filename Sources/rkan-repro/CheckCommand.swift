import ArgumentParser
import Foundation
import Harness

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Nightly regression verdict of a suite's profile against a stored baseline.")

    @OptionGroup var suite: SuiteOptions
    @Option(help: "Profile (default: the one the baseline file was recorded with; required with --update-baseline when the file does not exist yet).")
    var profile: String?
    @Option(help: "Baseline JSON file.") var baseline: String
    @OptionGroup var runTree: RunsReadOption
    @Option(help: "JUnit XML output.") var junit: String?
    @Flag(help: "Record the current runs as the new baseline.") var updateBaseline = false
    @Flag(help: "Pass rows whose weights could not be compared with the baseline's (another BLAS core, thread count, conv algorithm or Winograd GEMM, or no seed in common), with a warning; without it they fail.")
    var allowUncomparedWeights = false

    func validate() throws {
        try validateName(profile, "--profile")
    }

    func run() throws {
        let profile = try resolvedProfile()
        try runReportingErrors {
            let r = try RegressionCheck.run(suite: suite.suite, profile: profile, baseline: URL(fileURLWithPath: baseline),
                                            runs: runTree.url,
                                            suitesFolder: try suite.folder,
                                            junit: junit.map { URL(fileURLWithPath: $0) }, update: updateBaseline,
                                            allowUncompared: allowUncomparedWeights)
            print(r.summary)
            return r.passed ? 0 : 1
        }
    }

    /// `--profile`, else the baseline's own profile: a baseline is always of one profile, so the
    /// check never falls back to a default that could silently be the wrong one.
    func resolvedProfile() throws -> String {
        if let profile { return profile }
        if let recorded = RegressionCheck.recordedProfile(of: URL(fileURLWithPath: baseline)) {
            try validateName(recorded, "the profile recorded in \(baseline)")
            return recorded
        }
        throw ValidationError("--profile is needed: the baseline \(baseline) does not exist yet (or is not a baseline file), so it names no profile")
    }
}
