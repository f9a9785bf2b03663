import ArgumentParser
import Foundation
import Harness
import RunStore

/// `--suites DIR`: a folder of suite files searched before the paper's own (`SuiteSearchPath`).
struct SuitesFolderOption: ParsableArguments {
    @Option(help: "A folder of suite files, searched before $RKAN_SUITES, ./Suites and the suites this rkan-repro was built with.")
    var suites: String?

    /// Where suites are looked for.
    var searchPath: SuiteSearchPath { SuiteSearchPath(explicit: suites.map { URL(fileURLWithPath: $0, isDirectory: true) }) }
}

/// The suite a command works on: its name and the folder it is read from.
struct SuiteOptions: ParsableArguments {
    @Argument(help: "Suite name (NAME.yaml in --suites, ./Suites or rkan-repro's own suites), e.g. fashion-mnist or cifar100.")
    var suite: String
    @OptionGroup var folders: SuitesFolderOption

    func validate() throws { try validateName(suite, "suite") }

    /// The folder holding this suite's file.
    /// - Throws: a `SuiteError` naming every folder looked in.
    var folder: URL { get throws { try folders.searchPath.folder(for: suite) } }

    /// Loads the suite (specs and dataset parsed once, here).
    func load() throws -> Suite { try SuiteLibrary.find(suite, in: try folder) }
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

/// `--runs DIR`: the root of the run tree, under the same name in every command that reads or
/// writes run files (run, status, plan, report, check). `--out` is its older spelling in run,
/// status and plan, still accepted; in `report`, `--out` is the markdown file.
struct RunTreeOption: ParsableArguments {
    @Option(help: "Folder of run files (RUNS/SUITE/PROFILE/ID/seed-S.h5); `--out` is accepted as its older name in run, status and plan.")
    var runs: String?
    @Option(help: .hidden)
    var out: String?

    func validate() throws {
        if let runs, let out, runs != out {
            throw ValidationError("--runs \(runs) and --out \(out) name the same folder (--out is the older spelling of --runs); give one")
        }
    }

    var path: String { runs ?? out ?? "runs" }
    var url: URL { URL(fileURLWithPath: path, isDirectory: true) }
    /// The run tree rooted at `--runs`.
    var tree: RunTree { RunTree(out: url) }
}

/// `--runs DIR` for the commands that only read run files and whose `--out` is a report (report, check).
struct RunsReadOption: ParsableArguments {
    @Option(help: "Folder of run files (as given to `run --runs`).")
    var runs: String = "runs"

    var url: URL { URL(fileURLWithPath: runs, isDirectory: true) }
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
