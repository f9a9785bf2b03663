import Foundation

/// The repository root (Tests/TestSupport/RkanBinary.swift → ../..).
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Runs the built `rkan-repro` binary, for end-to-end tests of every target: exit code, whether a
/// signal ended it, stdout and stderr.
public enum RkanBinary {
    /// Exit code and output of one run.
    public struct Result {
        public var code: Int32
        /// True when a signal ended the process (`code` is then the signal number).
        public var killedBySignal: Bool
        public var stdout: String
        public var stderr: String
    }

    /// `$RKAN_BINARY`, else the `rkan-repro` built beside the test bundle (.build/<config>/).
    public static var binary: URL {
        if let b = ProcessInfo.processInfo.environment["RKAN_BINARY"], !b.isEmpty { return URL(fileURLWithPath: b) }
        let bundles = [Bundle(for: Marker.self).bundleURL, Bundle.main.bundleURL]
        let candidates = bundles.flatMap { [$0.appendingPathComponent("rkan-repro"),
                                            $0.deletingLastPathComponent().appendingPathComponent("rkan-repro")] }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[1]
    }

    private final class Marker {}

    /// Runs the binary (or `executable`, e.g. mpirun) with `args` in `cwd` (default: the repository
    /// root), `env` added to this process's environment. Output goes through files, so a child that
    /// writes much to both streams never blocks on a full pipe.
    /// - Throws: when the program is missing (build the package first) or cannot start.
    public static func run(_ args: [String], env: [String: String] = [:], cwd: URL? = nil,
                           executable: URL? = nil) throws -> Result {
        let program = executable ?? binary
        guard FileManager.default.isExecutableFile(atPath: program.path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: program.path,
                NSLocalizedDescriptionKey: "\(program.path) is not an executable; build the package first (swift build)"])
        }
        let p = Process()
        p.executableURL = program
        p.arguments = args
        p.currentDirectoryURL = cwd ?? packageRoot
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let folder = try tempFolder("output")
        defer { try? FileManager.default.removeItem(at: folder) }
        let outFile = folder.appendingPathComponent("stdout"), errFile = folder.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outFile.path, contents: nil)
        FileManager.default.createFile(atPath: errFile.path, contents: nil)
        let out = try FileHandle(forWritingTo: outFile), err = try FileHandle(forWritingTo: errFile)
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try? out.close(); try? err.close()
        func text(_ u: URL) -> String { String(decoding: (try? Data(contentsOf: u)) ?? Data(), as: UTF8.self) }
        return Result(code: p.terminationStatus, killedBySignal: p.terminationReason == .uncaughtSignal,
                      stdout: text(outFile), stderr: text(errFile))
    }

    /// A fresh temporary folder `rkan-<name>-<pid>-<random>`.
    public static func tempFolder(_ name: String) throws -> URL {
        try makeTempFolder(name)
    }
}
