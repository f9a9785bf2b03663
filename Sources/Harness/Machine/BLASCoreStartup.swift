import Engine
import Foundation

/// The start of `rkan-repro` and `rkan-bench`: applies `BLASCoreSelection` to this process
/// (may re-execute it), before any command runs.
public enum BLASCoreStartup {
    /// The explicit choice this process was started with (`--blas-core` or `RKAN_BLAS_CORE`,
    /// as given), nil without one; `plan --slurm` passes it on to its tasks.
    public private(set) nonisolated(unsafe) static var requestedChoice: String?

    /// Chooses the OpenBLAS core for this process and returns `arguments` (program name first)
    /// without `--blas-core`. Re-executes the program (never returns) when another core is
    /// needed; exits 64 with one paragraph on a choice that cannot be honoured, 1 when a core
    /// chosen explicitly did not load.
    /// - Parameters:
    ///   - program: the name in messages.
    ///   - announce: whether to print the one-line notice of a core chosen for this process; a
    ///     command that computes nothing with OpenBLAS (list, report, status…) passes false, so the
    ///     notice appears where it matters, once (`commandComputes(_:)`).
    public static func apply(_ arguments: [String], program: String, announce: Bool = true) -> [String] {
        let env = ProcessInfo.processInfo.environment
        // CKernels reads the cap on its build at its first call; a typo must stop the process here,
        // before any command starts, rather than compare a build with itself.
        if let v = env[KernelBuild.environmentVariable], !v.isEmpty, KernelBuild(name: v) == nil {
            let names = KernelBuild.allCases.map(\.name).joined(separator: ", ")
            FileHandle.standardError.write(Data(("error: \(KernelBuild.environmentVariable)=\"\(v)\" names no build of the "
                + "engine's C kernels; use one of \(names) (a cap: the widest build this CPU runs up to it), or unset it.\n").utf8))
            exit(64)
        }
        do {
            let (rest, optionValue) = try BLASCoreSelection.extractOption(arguments)
            requestedChoice = optionValue ?? env[BLASCoreSelection.environmentChoice].flatMap { $0.isEmpty ? nil : $0 }
            if let note = env[BLASCoreSelection.marker], !note.isEmpty {
                try finishReexec(note: note, program: program, announce: announce)
                return rest
            }
            let explicit: (BLASCoreSelection.Choice, source: String)?
            if let v = optionValue {
                explicit = (try BLASCoreSelection.parse(v, source: BLASCoreSelection.option), "\(BLASCoreSelection.option) \(v)")
            } else if let v = env[BLASCoreSelection.environmentChoice], !v.isEmpty {
                let source = "\(BLASCoreSelection.environmentChoice)=\(v)"
                explicit = (try BLASCoreSelection.parse(v, source: BLASCoreSelection.environmentChoice), source)
            } else {
                explicit = nil
            }
            let decision = try BLASCoreSelection.decide(loaded: BLAS.coreName, features: .current, explicit: explicit,
                                                        userCoreType: env[BLASCoreSelection.openBLASVariable])
            if case let .reexec(core, reason) = decision { reexec(arguments, core: core, reason: reason, program: program) }
            return rest
        } catch let e as BLASCoreSelection.UsageError {
            FileHandle.standardError.write(Data("error: \(e.description).\n".utf8))
            exit(64)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    /// In the re-executed process: checks that the core loaded, prints the notice, and removes
    /// the variables so that child processes choose for themselves.
    static func finishReexec(note: String, program: String, announce: Bool) throws {
        let parts = note.split(separator: "|", maxSplits: 1).map(String.init)
        let wanted = parts.first ?? "", reason = parts.count > 1 ? parts[1] : "requested"
        unsetenv(BLASCoreSelection.marker)
        unsetenv(BLASCoreSelection.openBLASVariable)
        let loaded = BLAS.coreName
        if loaded.lowercased() == wanted.lowercased() {
            guard announce else { return }
            FileHandle.standardError.write(Data("\(program): OpenBLAS core \(loaded) (\(reason)); --blas-core or OPENBLAS_CORETYPE choose another\n".utf8))
            return
        }
        let message = "OPENBLAS_CORETYPE=\(wanted) did not take effect: this OpenBLAS (\(BLAS.configuration)) runs \(loaded) "
            + "(a build without DYNAMIC_ARCH, or without that core)"
        if reason.hasPrefix(BLASCoreSelection.option) || reason.hasPrefix(BLASCoreSelection.environmentChoice) {
            throw HarnessError.unsupported(what: "\(reason)", detail: message + "; install Debian's libopenblas0-pthread or choose --blas-core best")
        }
        FileHandle.standardError.write(Data("\(program): warning: \(message); continuing with \(loaded)\n".utf8))
    }

    /// Replaces this process by the same program with `OPENBLAS_CORETYPE=core`; returns only
    /// when that fails (with a warning: the run goes on with the core loaded now).
    static func reexec(_ arguments: [String], core: BLASCore, reason: String, program: String) {
        #if os(Linux)
        setenv(BLASCoreSelection.openBLASVariable, core.rawValue, 1)
        setenv(BLASCoreSelection.marker, "\(core.rawValue)|\(reason)", 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &argv)
        let err = String(cString: strerror(errno))
        unsetenv(BLASCoreSelection.openBLASVariable)
        unsetenv(BLASCoreSelection.marker)
        for p in argv { free(p) }
        FileHandle.standardError.write(Data("\(program): warning: could not re-execute with OPENBLAS_CORETYPE=\(core.rawValue) (\(err)); continuing with OpenBLAS core \(BLAS.coreName)\n".utf8))
        #endif
    }

    /// The `rkan-repro` commands whose results OpenBLAS computes, so their output names the core:
    /// `run`, `bench`, `forward`, `init`, `models` (MACs by a forward pass). Under an MPI launcher
    /// only rank 0 says it, so one run prints it once.
    /// - Parameter arguments: the command line without the program name.
    public static func commandComputes(_ arguments: [String]) -> Bool {
        let env = ProcessInfo.processInfo.environment
        for key in ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"] {
            if let r = env[key], let rank = Int(r), rank > 0 { return false }
        }
        guard let command = arguments.first(where: { !$0.hasPrefix("-") }) else { return false }
        return ["run", "bench", "forward", "init", "models"].contains(command)
    }
}
