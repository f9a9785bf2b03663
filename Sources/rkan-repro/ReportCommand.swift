import ArgumentParser
import Foundation
import Harness

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the report of a suite's profile (Reports/SUITE.md, or Reports/SUITE-PROFILE.md for a profile other than default) and its SVG plots from the run files.")

    @OptionGroup var suite: SuiteOptions
    @Option(help: "Profile to report (default: the only one present, else `default`).") var profile: String?
    @OptionGroup var runTree: RunsReadOption
    @Option(help: "Markdown output (default: Reports/SUITE.md for the default profile, Reports/SUITE-PROFILE.md for another); SVGs are written beside it, named after it.") var out: String?
    @Option(help: "Also replace the <!-- rkan-repro:SUITE --> block of this README.") var readme: String?
    @Option(help: "Date printed in the header (default: today, UTC).") var date: String?

    func validate() throws { try validateName(profile, "--profile") }

    func run() throws {
        try runReportingErrors {
            let f = DateFormatter()
            f.dateFormat = "yyyy-MM-dd"
            f.timeZone = TimeZone(identifier: "UTC")
            var cmd = "rkan-repro report \(suite.suite)"
            if let profile { cmd += " --profile \(profile)" }
            let req = ReportRequest(suite: suite.suite, profile: profile, suitesFolder: try suite.folder,
                                    runsFolder: runTree.url, out: out.map { URL(fileURLWithPath: $0) },
                                    readme: readme.map { URL(fileURLWithPath: $0) }, date: date ?? f.string(from: Date()), command: cmd)
            for u in try ReportGenerator.write(req) { print("wrote \(u.path)") }
            return 0
        }
    }
}
