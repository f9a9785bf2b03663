import ArgumentParser
import Foundation
import Harness

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parameter counts (exact, thop's convention) and MACs of specs or of every row of a suite, beside the published counts.")

    @Argument(help: "A suite name, or model specs.") var targets: [String]
    @Option(help: "Classes (for specs; a suite takes its dataset's).") var classes: Int?
    @Option(help: "Input side for MACs (default: the suite's resolution, or 224).") var size: Int?
    @Option(help: "Input channels.") var inChannels: Int = 3
    @Flag(help: "One JSON object per spec.") var json = false
    @Option(help: "Folder of the suite files.") var suites: String = "Suites"
    @Option(help: "Also replace the <!-- rkan-repro:params-SUITE --> block of this README with the table.") var readme: String?

    func validate() throws {
        try validateAtLeast(classes, 1, "--classes")
        try validateAtLeast(size, 1, "--size")
        try validateAtLeast(inChannels, 1, "--in-channels")
    }

    func run() throws {
        try runReportingErrors {
            let out = try ModelsTable.render(targets: targets, classes: classes, size: size, inChannels: inChannels, json: json,
                                             suitesFolder: URL(fileURLWithPath: suites, isDirectory: true))
            print(out.text)
            if let readme {
                let name = targets.count == 1 ? targets[0] : "specs"
                try ReadmeUpdater.update(readme: URL(fileURLWithPath: readme), suite: "params-\(name)",
                                         block: "\n" + ModelsTable.markdown(try ModelsTable.rows(targets: targets, classes: classes, size: size,
                                                 inChannels: inChannels, suitesFolder: URL(fileURLWithPath: suites, isDirectory: true))) + "\n")
            }
            return out.allMatch ? 0 : 1
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Nightly regression verdict of a suite's profile against a stored baseline.")

    @Argument(help: "Suite name.") var suite: String
    @Option(help: "Profile.") var profile: String = "nightly"
    @Option(help: "Baseline JSON file.") var baseline: String
    @Option(help: "Folder of run files.") var runs: String = "runs"
    @Option(help: "JUnit XML output.") var junit: String?
    @Flag(help: "Record the current runs as the new baseline.") var updateBaseline = false
    @Option(help: "Folder of the suite files.") var suites: String = "Suites"

    func validate() throws {
        try validateName(suite, "suite")
        try validateName(profile, "--profile")
    }

    func run() throws {
        try runReportingErrors {
            let r = try RegressionCheck.run(suite: suite, profile: profile, baseline: URL(fileURLWithPath: baseline),
                                            runs: URL(fileURLWithPath: runs, isDirectory: true),
                                            suitesFolder: URL(fileURLWithPath: suites, isDirectory: true),
                                            junit: junit.map { URL(fileURLWithPath: $0) }, update: updateBaseline)
            print(r.summary)
            return r.passed ? 0 : 1
        }
    }
}

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data", abstract: "Dataset utilities.",
                                                    subcommands: [DataCheck.self])
}

struct DataCheck: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Verify a dataset's files and counts.")
    @Argument(help: "Dataset name (fashion-mnist, mnist, cifar10, cifar100, svhn, tiny-imagenet, food101, imagenet).") var name: String
    @Option(help: "Data folder.") var data: String?
    @Flag(help: "Also decode every image (JPEG datasets).") var decode = false

    func run() throws {
        try runReportingErrors {
            let r = try DataChecker.check(name, folder: data.map { URL(fileURLWithPath: $0, isDirectory: true) }, decode: decode)
            print(r.text)
            return r.ok ? 0 : 1
        }
    }
}
