import ArgumentParser
import Foundation
import Harness

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write Reports/SUITE.md and its SVG plots from the suite's run files.")

    @OptionGroup var suite: SuiteOptions
    @Option(help: "Profile to report (default: the only one present, else `default`).") var profile: String?
    @Option(help: "Folder of run files (as given to `run --out`).") var runs: String = "runs"
    @Option(help: "Markdown output (default: Reports/SUITE.md); SVGs are written beside it.") var out: String?
    @Option(help: "Also replace the <!-- rkan-repro:SUITE --> block of this README.") var readme: String?
    @Option(help: "Date printed in the header (default: today, UTC).") var date: String?

    func validate() throws { try validateName(profile, "--profile") }

    func run() throws {
        try runReportingErrors {
            let f = DateFormatter()
            f.dateFormat = "yyyy-MM-dd"
            f.timeZone = TimeZone(identifier: "UTC")
            let outPath = out ?? "Reports/\(suite.suite).md"
            var cmd = "rkan-repro report \(suite.suite)"
            if let profile { cmd += " --profile \(profile)" }
            let req = ReportRequest(suite: suite.suite, profile: profile, suitesFolder: suite.folder.url,
                                    runsFolder: URL(fileURLWithPath: runs, isDirectory: true), out: URL(fileURLWithPath: outPath),
                                    readme: readme.map { URL(fileURLWithPath: $0) }, date: date ?? f.string(from: Date()), command: cmd)
            for u in try ReportGenerator.write(req) { print("wrote \(u.path)") }
            return 0
        }
    }
}
