import Engine
import Foundation

/// Which OpenBLAS core a process runs, chosen at start: OpenBLAS reads `OPENBLAS_CORETYPE` once,
/// when the library loads, so a different core means re-executing the program with it set.
///
/// - Explicit: `--blas-core NAME` (or `RKAN_BLAS_CORE=NAME`): `best`, `portable` (Haswell: the
///   same bytes on every x86-64-v3 CPU) or a core name (`BLASCore`). The CPU must run it.
/// - Automatic (no explicit choice): when OpenBLAS loaded a core of a lower ISA tier than the
///   best one for the CPU's features (0.3.21 falls back to Prescott on CPUs it does not know),
///   the program re-executes itself once with the best core and says so in one line.
/// - A value of `OPENBLAS_CORETYPE` that the user or the administrator set is never overridden
///   (a kernel may be broken on that CPU); an explicit choice that contradicts it is an error.
///
/// The re-executed process carries `RKAN_BLAS_REEXEC` (the loop guard: it never re-executes
/// again), prints the notice, and removes both variables from its environment so that programs
/// it starts (Slurm jobs on other nodes) choose for their own CPU.
public enum BLASCoreSelection {
    /// The explicit choice.
    public enum Choice: Equatable, Sendable {
        case best, portable, core(BLASCore)
    }

    /// What to do at start.
    public enum Decision: Equatable, Sendable {
        /// Run with the core OpenBLAS loaded.
        case keep
        /// Re-execute with `OPENBLAS_CORETYPE` set to the core, for the reason given.
        case reexec(BLASCore, reason: String)
    }

    /// A choice that cannot be honoured: the message names the option and the fix (exit 64).
    public struct UsageError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    public static let option = "--blas-core"
    public static let environmentChoice = "RKAN_BLAS_CORE"
    public static let openBLASVariable = "OPENBLAS_CORETYPE"
    /// Set in the re-executed process: "CORE|reason".
    public static let marker = "RKAN_BLAS_REEXEC"

    /// The accepted names, for messages.
    public static var names: String { (["best", "portable"] + BLASCore.allCases.map(\.rawValue)).joined(separator: ", ") }

    /// Parses an explicit choice given by `source` (the option or the variable).
    /// - Throws: `UsageError` for an unknown name.
    public static func parse(_ text: String, source: String) throws(UsageError) -> Choice {
        switch text.lowercased() {
        case "best": return .best
        case "portable": return .portable
        default:
            if let c = BLASCore(openBLASName: text) { return .core(c) }
            throw UsageError(description: "\(source) \"\(text)\" is not an OpenBLAS core rkan-repro can choose; use one of \(names) "
                             + "(best: the fastest core for this CPU; portable: Haswell, the same bytes on every AVX2 + FMA CPU)")
        }
    }

    /// The core `choice` means on a CPU with `features`.
    /// - Throws: `UsageError` when the CPU cannot run it.
    public static func resolve(_ choice: Choice, features: CPUFeatures, source: String) throws(UsageError) -> BLASCore {
        let core: BLASCore
        switch choice {
        case .best: return BLASCore.best(for: features)
        case .portable: core = BLASCore.portable
        case let .core(c): core = c
        }
        guard core.runs(on: features) else {
            throw UsageError(description: "\(source) asks for OpenBLAS's \(core.rawValue) kernels, which need "
                             + "\(core.requires.level) but this CPU (or its OS) offers \(features.level); choose best or a core of "
                             + "this CPU's level (\(BLASCore.best(for: features).rawValue) or lower)"
                             + (choice == .portable ? ": portable digests are only defined for x86-64-v3 CPUs" : ""))
        }
        return core
    }

    /// The decision for a process where OpenBLAS loaded `loaded`, on a CPU with `features`.
    /// - Parameters:
    ///   - explicit: the explicit choice and where it came from, if any.
    ///   - userCoreType: `OPENBLAS_CORETYPE` as found (nil or empty: unset).
    /// - Throws: `UsageError` when the explicit choice cannot run here or contradicts `OPENBLAS_CORETYPE`.
    public static func decide(loaded: String, features: CPUFeatures, explicit: (Choice, source: String)?,
                              userCoreType: String?) throws(UsageError) -> Decision {
        let user = userCoreType.flatMap { $0.isEmpty ? nil : $0 }
        let loadedCore = BLASCore(openBLASName: loaded)
        if let (choice, source) = explicit {
            let target = try resolve(choice, features: features, source: source)
            if let user {
                guard BLASCore(openBLASName: user) == target else {
                    throw UsageError(description: "\(source) asks for OpenBLAS core \(target.rawValue) but \(openBLASVariable)=\(user) "
                                     + "is set (rkan-repro never overrides it); unset one of the two")
                }
                return .keep
            }
            return loadedCore == target ? .keep : .reexec(target, reason: "\(source)")
        }
        if user != nil { return .keep }
        let best = BLASCore.best(for: features)
        guard let loadedCore, loadedCore.tier < best.tier else { return .keep }
        return .reexec(best, reason: "OpenBLAS chose its \(loadedCore.rawValue) kernels on this \(features.level) CPU")
    }

    /// Removes `--blas-core NAME` / `--blas-core=NAME` from `arguments` (program name first);
    /// returns the rest and the value.
    /// - Throws: `UsageError` when the option has no value.
    public static func extractOption(_ arguments: [String]) throws(UsageError) -> (rest: [String], value: String?) {
        var rest: [String] = [], value: String? = nil, i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == option {
                guard i + 1 < arguments.count, !arguments[i + 1].hasPrefix("-") else {
                    throw UsageError(description: "\(option) needs a value: one of \(names)")
                }
                value = arguments[i + 1]
                i += 2
                continue
            }
            if a.hasPrefix(option + "=") { value = String(a.dropFirst(option.count + 1)); i += 1; continue }
            rest.append(a)
            i += 1
        }
        return (rest, value)
    }
}
