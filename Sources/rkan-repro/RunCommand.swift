import ArgumentParser
import Foundation
import Harness

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train every unfinished run of a suite (rows × seeds of a profile); rerunning resumes.",
        discussion: "Run files go to OUT/SUITE/PROFILE/ID/seed-S.h5 with a checkpoint after every epoch. Exit 1 when a run diverged.")

    @Argument(help: "Suite name (a file Suites/NAME.yaml), e.g. fashion-mnist or cifar100.")
    var suite: String
    @Option(help: "Profile: paper, or one of the suite's (e.g. smoke, default, nightly, full).")
    var profile: String = "default"
    @Option(help: "Only these experiment ids (comma-separated).")
    var only: String?
    @Option(help: "Seeds to run (comma-separated), overriding the suite's.")
    var seeds: String?
    @Option(help: "Folder for run files.")
    var out: String = "runs"
    @Option(help: "Background threads decoding and augmenting batches.")
    var loaderWorkers: Int = 2
    @Option(help: ArgumentHelp("First remove this profile's run locks older than AGE (90s, 30m, 2h, 1d; 0: all) unless their process runs on this host.",
                               discussion: "For locks left by a task killed on another host (rkan-repro status shows them); a live lock of this host is never removed.",
                               valueName: "AGE"))
    var breakLocks: String?
    @Option(help: ArgumentHelp("Move these runs' files aside (to seed-S.h5.bad-TIME, kept) and train them from scratch.",
                               discussion: "For a run file that fails its checks (damaged, of another run, of an older layout): the error prints this command.",
                               valueName: "ID:SEED,..."))
    var restart: String?
    @Option(help: ArgumentHelp("Data-parallel ranks: start with `mpirun -np N` (or srun) and pass the same N (default: the launcher's world size, 1 without one).",
                               discussion: "Every batch is cut into 8 virtual shards; rank r trains shards r·8/N ..< (r+1)·8/N and every batch reduction is folded over the shards in one fixed tree, so the weights are the same bytes for 1, 2, 4 or 8 ranks (and resume on another count works).",
                               valueName: "N"))
    var ranks: Int?
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try validateSeeds(seeds)
        if let n = ranks, !DataParallel.validRankCounts.contains(n) { throw ValidationError("--ranks: " + DataParallel.rankAdvice(n)) }
        try validateName(suite, "suite")
        try validateName(profile, "--profile")
        if let r = restart, RestartTarget.parseList(r) == nil {
            throw ValidationError("--restart must be ID:SEED (comma-separated for several, seeds ≥ 0), got '\(r)'")
        }
        if loaderWorkers < 0 { throw ValidationError("--loader-workers must be ≥ 0") }
        if let b = breakLocks, RunLock.parseAge(b) == nil { throw ValidationError("--break-locks must be an age like 90s, 30m, 2h or 1d, got '\(b)'") }
    }

    func run() throws {
        try runReportingErrors {
            var req = RunRequest(suite: suite, profile: profile, only: only.map { $0.split(separator: ",").map(String.init) },
                                 seeds: seeds.flatMap(parseInts), suitesFolder: common.suitesURL, dataFolder: common.dataURL,
                                 outFolder: URL(fileURLWithPath: out, isDirectory: true), threads: common.resolvedThreads,
                                 loaderWorkers: loaderWorkers, restart: restart.flatMap(RestartTarget.parseList) ?? [])
            req.ranks = ranks
            if let age = breakLocks.flatMap(RunLock.parseAge) {
                let folder = req.outFolder.appendingPathComponent(suite).appendingPathComponent(profile)
                for (path, owner) in RunLock.breakLocks(under: folder, olderThan: age) {
                    let who = owner.map { "\($0.host):\($0.pid) since \($0.started)" } ?? "unreadable"
                    FileHandle.standardError.write(Data("removed lock \(path) (\(who))\n".utf8))
                }
            }
            return try SuiteRunner.run(req) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        }
    }
}

func parseInts(_ s: String) -> [Int]? {
    let parts = s.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    return parts.isEmpty || parts.contains(nil) ? nil : parts.map { $0! }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write Reports/SUITE.md and its SVG plots from the suite's run files.")

    @Argument(help: "Suite name.")
    var suite: String
    @Option(help: "Profile to report (default: the only one present, else `default`).")
    var profile: String?
    @Option(help: "Folder of run files (as given to `run --out`).")
    var runs: String = "runs"
    @Option(help: "Markdown output (default: Reports/SUITE.md); SVGs are written beside it.")
    var out: String?
    @Option(help: "Also replace the <!-- rkan-repro:SUITE --> block of this README.")
    var readme: String?
    @Option(help: "Date printed in the header (default: today, UTC).")
    var date: String?
    @Option(help: "Folder of the suite files.")
    var suites: String = "Suites"

    func validate() throws {
        try validateName(suite, "suite")
        try validateName(profile, "--profile")
    }

    func run() throws {
        try runReportingErrors {
            let f = DateFormatter()
            f.dateFormat = "yyyy-MM-dd"
            f.timeZone = TimeZone(identifier: "UTC")
            let outPath = out ?? "Reports/\(suite).md"
            var cmd = "rkan-repro report \(suite)"
            if let profile { cmd += " --profile \(profile)" }
            let req = ReportRequest(suite: suite, profile: profile, suitesFolder: URL(fileURLWithPath: suites, isDirectory: true),
                                    runsFolder: URL(fileURLWithPath: runs, isDirectory: true), out: URL(fileURLWithPath: outPath),
                                    readme: readme.map { URL(fileURLWithPath: $0) }, date: date ?? f.string(from: Date()), command: cmd)
            for u in try ReportGenerator.write(req) { print("wrote \(u.path)") }
            return 0
        }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List suites, their experiments, and whether their data is present.")

    @Argument(help: "A suite to list in detail (default: all suites).")
    var suite: String?
    @OptionGroup var common: CommonOptions

    func run() throws {
        try runReportingErrors {
            print(try SuiteListing.text(suite: suite, suitesFolder: common.suitesURL, dataFolder: common.dataURL))
            return 0
        }
    }
}
