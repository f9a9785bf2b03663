import ArgumentParser
import Foundation
import Harness

/// rkan-repro: reproduce the RKAN paper's tables on the CPU. Thin: parses, then calls Harness.
/// `Entry` chooses the OpenBLAS core first (`--blas-core`, taken out of the arguments there).
struct RkanRepro: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rkan-repro",
        abstract: "Reproduce the RKAN paper's result tables on the CPU, deterministically.",
        discussion: """
        Suites live in Suites/*.yaml; run files in runs/SUITE/PROFILE/ID/seed-S.h5; reports in Reports/.
        Every command takes --blas-core NAME (or RKAN_BLAS_CORE=NAME): the OpenBLAS kernels to run, \
        best (default: the fastest for this CPU, chosen automatically when OpenBLAS falls back to a lower core), \
        portable (Haswell: the same bytes for a seed on every AVX2 + FMA CPU) or a core name \
        (Prescott, Core2, Nehalem, Sandybridge, Haswell, Zen, SkylakeX, Cooperlake). OPENBLAS_CORETYPE, when set, is never overridden.
        """,
        subcommands: [List.self, Run.self, Report.self, Models.self, Init.self, Bench.self, Forward.self, Check.self, DataCommand.self, EvalCommand.self, Plan.self, Status.self])
}

/// Runs `body`, turning user errors into a one-paragraph message and exit code 1.
func runReportingErrors(_ body: () throws -> Int32) throws {
    // A file-size limit (ulimit -f) then makes write(2) fail with EFBIG, reported as an error,
    // instead of killing the process with SIGXFSZ half-way through a write.
    signal(SIGXFSZ, SIG_IGN)
    let code: Int32
    do { try MachineInfo.validateEnvironment(); code = try body() } catch let e as ExitCode { throw e } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
    if code != 0 { throw ExitCode(code) }
}

/// Usage checks shared by the commands (exit 64 before anything is read, locked or written).
func validateSeeds(_ seeds: String?) throws {
    guard let s = seeds else { return }
    guard let values = parseInts(s) else { throw ValidationError("--seeds must be comma-separated integers, got '\(s)'") }
    if let bad = values.first(where: { $0 < 0 }) { throw ValidationError("--seeds must be ≥ 0, got \(bad)") }
    if let twice = values.first(where: { v in values.filter { $0 == v }.count > 1 }) {
        throw ValidationError("--seeds lists seed \(twice) twice; list each seed once (a repeated seed would count one run twice)")
    }
}

/// A suite or profile name given on the command line must be a valid folder name (`RunName`):
/// it becomes part of the output paths.
func validateName(_ name: String?, _ option: String) throws {
    guard let name, let problem = RunName.problem(name) else { return }
    throw ValidationError("\(option) '\(name)' \(problem); \(RunName.rule)")
}

/// `value` ≥ `minimum`, else a usage error naming the option.
func validateAtLeast(_ value: Int?, _ minimum: Int, _ option: String) throws {
    if let v = value, v < minimum { throw ValidationError("\(option) must be ≥ \(minimum), got \(v)") }
}
