import ArgumentParser
import Foundation
import Harness
import Zoo

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Parameter counts (exact, thop's convention) and MACs of specs or of every row of a suite, beside the published counts.")

    @Argument(help: "A suite name, or model specs.") var targets: [String]
    @Option(help: "Classes (for specs; a suite takes its dataset's).") var classes: Int?
    @Option(help: "Input side for MACs (default: the suite's resolution, or 224).") var size: Int?
    @Option(help: "Input channels.") var inChannels: Int = 3
    @Flag(help: "One JSON object per spec.") var json = false
    @OptionGroup var folder: SuitesFolderOption
    @Option(help: "Also replace the <!-- rkan-repro:params-SUITE --> block of this README with the table.") var readme: String?

    func validate() throws {
        try validateAtLeast(classes, 1, "--classes")
        try validateAtLeast(size, 1, "--size")
        try validateAtLeast(inChannels, 1, "--in-channels")
    }

    func run() throws {
        try runReportingErrors {
            let suitesFolder = try resolvedSuitesFolder()
            let out = try ModelsTable.render(targets: targets, classes: classes, size: size, inChannels: inChannels, json: json,
                                             suitesFolder: suitesFolder)
            print(out.text)
            if let readme {
                let name = targets.count == 1 ? targets[0] : "specs"
                try ReadmeUpdater.update(readme: URL(fileURLWithPath: readme), suite: "params-\(name)",
                                         block: "\n" + ModelsTable.markdown(try ModelsTable.rows(targets: targets, classes: classes, size: size,
                                                 inChannels: inChannels, suitesFolder: suitesFolder)) + "\n")
            }
            return out.allMatch ? 0 : 1
        }
    }

    /// The folder of the suite named by a single target, or (for model specs) the first search
    /// folder. A single target that is neither a suite anywhere nor a model spec is one error
    /// naming both: the folders looked in, and why it is not a spec.
    func resolvedSuitesFolder() throws -> URL {
        let search = folder.searchPath
        if targets.count == 1 {
            if let f = search.folder(holding: targets[0]) { return f }
            do { _ = try ModelSpec(parsing: targets[0]) } catch {
                throw HarnessError.badConfig(what: "models \(targets[0])", detail:
                    "'\(targets[0])' is neither a suite (looked for \(targets[0]).yaml in \(search.considered.map(\.path).joined(separator: ", "))) "
                    + "nor a model spec (\(error)); suites found: \(search.names.joined(separator: ", ")); pass --suites DIR for a suite elsewhere")
            }
        }
        return search.folders.first ?? URL(fileURLWithPath: "Suites", isDirectory: true)
    }
}
