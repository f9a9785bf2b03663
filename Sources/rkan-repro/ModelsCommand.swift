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
    @OptionGroup var folder: SuitesFolderOption
    @Option(help: "Also replace the <!-- rkan-repro:params-SUITE --> block of this README with the table.") var readme: String?

    func validate() throws {
        try validateAtLeast(classes, 1, "--classes")
        try validateAtLeast(size, 1, "--size")
        try validateAtLeast(inChannels, 1, "--in-channels")
    }

    func run() throws {
        try runReportingErrors {
            let out = try ModelsTable.render(targets: targets, classes: classes, size: size, inChannels: inChannels, json: json,
                                             suitesFolder: folder.url)
            print(out.text)
            if let readme {
                let name = targets.count == 1 ? targets[0] : "specs"
                try ReadmeUpdater.update(readme: URL(fileURLWithPath: readme), suite: "params-\(name)",
                                         block: "\n" + ModelsTable.markdown(try ModelsTable.rows(targets: targets, classes: classes, size: size,
                                                 inChannels: inChannels, suitesFolder: folder.url)) + "\n")
            }
            return out.allMatch ? 0 : 1
        }
    }
}
