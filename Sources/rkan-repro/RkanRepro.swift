import ArgumentParser
import Foundation
import Harness

/// rkan-repro: reproduce the RKAN paper's tables on the CPU. Thin: parses, then calls Harness.
@main
struct RkanRepro: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rkan-repro",
        abstract: "Reproduce the RKAN paper's result tables on the CPU, deterministically.",
        discussion: "Suites live in Suites/*.yaml; run files in runs/SUITE/PROFILE/ID/seed-S.h5; reports in Reports/.",
        subcommands: [List.self, Run.self, Report.self, Models.self, Init.self, Bench.self, Forward.self, Check.self, DataCommand.self, Plan.self, Status.self])
}

/// Options shared by the commands that train or read data.
struct CommonOptions: ParsableArguments {
    @Option(help: "Folder holding the datasets in their official layouts (default: $RKAN_DATA, then system folders).")
    var data: String?
    @Option(help: "Threads for OpenBLAS and the engine's loops (default: all cores).")
    var threads: Int?
    @Option(help: "Folder of the suite files.")
    var suites: String = "Suites"

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be ≥ 1, got \(t)") }
    }

    var resolvedThreads: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }
    var dataURL: URL? { data.map { URL(fileURLWithPath: $0, isDirectory: true) } }
    var suitesURL: URL { URL(fileURLWithPath: suites, isDirectory: true) }
}

/// Runs `body`, turning user errors into a one-paragraph message and exit code 1.
func runReportingErrors(_ body: () throws -> Int32) throws {
    let code: Int32
    do { try MachineInfo.validateEnvironment(); code = try body() } catch let e as ExitCode { throw e } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
    if code != 0 { throw ExitCode(code) }
}
