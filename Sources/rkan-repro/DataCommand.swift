import ArgumentParser
import Foundation
import Harness

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
