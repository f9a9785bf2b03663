import ArgumentParser
import Foundation
import Harness
import RunStore

/// `--suites DIR`: the folder of suite files (every command that reads a suite).
struct SuitesFolderOption: ParsableArguments {
    @Option(help: "Folder of the suite files.")
    var suites: String = "Suites"

    var url: URL { URL(fileURLWithPath: suites, isDirectory: true) }
}

/// The suite a command works on: its name and the folder it is read from.
struct SuiteOptions: ParsableArguments {
    @Argument(help: "Suite name (a file Suites/NAME.yaml), e.g. fashion-mnist or cifar100.")
    var suite: String
    @OptionGroup var folder: SuitesFolderOption

    func validate() throws { try validateName(suite, "suite") }

    /// Loads the suite (specs and dataset parsed once, here).
    func load() throws -> Suite { try SuiteRunner.loadSuite(suite, folder: folder.url) }
}

/// Which runs of the suite: `--profile`, `--only`, `--seeds` (run, status, plan).
struct PlanOptions: ParsableArguments {
    @Option(help: "Profile: paper, or one of the suite's (e.g. smoke, default, nightly, full).")
    var profile: String = "default"
    @Option(help: "Only these experiment ids (comma-separated).")
    var only: String?
    @Option(help: "Seeds (comma-separated), overriding the suite's.")
    var seeds: String?

    func validate() throws {
        try validateSeeds(seeds)
        try validateName(profile, "--profile")
    }

    /// The ids of `--only`, nil for all.
    var onlyIDs: [String]? { only.map { $0.split(separator: ",").map(String.init) } }
    /// The seeds of `--seeds`, nil for the suite's.
    var seedList: [Int]? { seeds.flatMap(parseInts) }

    /// The runs these options select.
    func runs(of suite: Suite) throws -> [RunConfig] { try suite.runs(profile: profile, only: onlyIDs, seeds: seedList) }
}

/// `--out DIR`: the root of the run tree (run, status, plan).
struct RunTreeOption: ParsableArguments {
    @Option(help: "Folder of run files (OUT/SUITE/PROFILE/ID/seed-S.h5).")
    var out: String = "runs"

    var url: URL { URL(fileURLWithPath: out, isDirectory: true) }
    /// The run tree rooted at `--out`.
    var tree: RunTree { RunTree(out: url) }
}

/// Options shared by the commands that train or read data.
struct CommonOptions: ParsableArguments {
    @Option(help: "Folder holding the datasets in their official layouts (default: $RKAN_DATA, then system folders).")
    var data: String?
    @Option(help: "Threads for OpenBLAS and the engine's loops (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be ≥ 1, got \(t)") }
    }

    var resolvedThreads: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }
    var dataURL: URL? { data.map { URL(fileURLWithPath: $0, isDirectory: true) } }
}

/// `1,2,3` as integers; nil when any part is not one.
func parseInts(_ s: String) -> [Int]? {
    let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    return parts.isEmpty || parts.contains(nil) ? nil : parts.map { $0! }
}
