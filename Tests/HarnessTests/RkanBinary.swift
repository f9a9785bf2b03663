import Foundation
import XCTest

/// Runs the built `rkan-repro` binary from HarnessTests (the few lines of Tests/CLITests/CLI.swift
/// these tests need, kept here so that the two test targets stay independent).
enum RkanBinary {
    /// Exit code and output of one run.
    struct Result {
        var code: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary next to the test bundle (.build/<config>/rkan-repro), or `$RKAN_BINARY`.
    static var url: URL {
        if let path = ProcessInfo.processInfo.environment["RKAN_BINARY"] { return URL(fileURLWithPath: path) }
        let bundle = Bundle(for: Marker.self).bundleURL
        let candidates = [bundle.appendingPathComponent("rkan-repro"),
                          bundle.deletingLastPathComponent().appendingPathComponent("rkan-repro")]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[1]
    }

    private final class Marker {}

    /// Runs the binary with `args` in the repository root.
    /// - Throws: when the binary is missing (build the package first) or cannot start.
    static func run(_ args: [String]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: url.path,
                NSLocalizedDescriptionKey: "rkan-repro is not built at \(url.path); run `swift build` first"])
        }
        let process = Process()
        process.executableURL = url
        process.arguments = args
        process.currentDirectoryURL = packageRoot
        // stderr goes to a file: the progress output of a run can exceed a pipe's buffer.
        let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("rkan-stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errFile) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errFile)
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(code: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: (try? Data(contentsOf: errFile)) ?? Data(), as: UTF8.self))
    }

    /// A fresh temporary folder.
    static func tempFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rkan-suites-\(name)-\(getpid())-\(UUID().uuidString.prefix(6))", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
