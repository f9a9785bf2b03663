import ArgumentParser
import Foundation
import Harness

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List suites, their experiments, and whether their data is present.")

    @Argument(help: "A suite to list in detail (default: all suites).")
    var suite: String?
    @OptionGroup var folder: SuitesFolderOption
    @OptionGroup var common: CommonOptions

    func run() throws {
        try runReportingErrors {
            print(try SuiteListing.text(suite: suite, search: folder.searchPath, dataFolder: common.dataURL))
            return 0
        }
    }
}
