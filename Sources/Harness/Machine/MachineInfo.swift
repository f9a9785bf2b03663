import Foundation
import Engine

/// Facts about the machine and checkout that run files and reports record.
public struct MachineInfo: Codable, Sendable, Equatable {
    public var host: String
    public var cpu: String
    public var cores: Int
    public var blasCore: String
    public var threads: Int
    public var commit: String

    /// Reads the current machine (CPU model from /proc/cpuinfo, commit from `git rev-parse`).
    public static func current(threads: Int) -> MachineInfo {
        MachineInfo(host: ProcessInfo.processInfo.hostName, cpu: cpuModel(), cores: ProcessInfo.processInfo.activeProcessorCount,
                    blasCore: BLAS.coreName, threads: threads, commit: gitCommit())
    }

    /// Fails with a message naming the variable when `RKAN_CONV_ALGO` names no algorithm (the
    /// engine would otherwise fall back to the default silently).
    public static func validateEnvironment() throws { _ = try ConvAlgorithm.fromEnvironment() }

    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let v = line.split(separator: ":", maxSplits: 1).last { return v.trimmingCharacters(in: .whitespaces) }
        }
        return "unknown CPU"
    }

    /// The checkout's commit (with `-dirty` when the work tree has changes), or `RKAN_COMMIT`.
    static func gitCommit() -> String {
        if let c = ProcessInfo.processInfo.environment["RKAN_COMMIT"], !c.isEmpty { return c }
        guard let head = run(["git", "rev-parse", "--short=12", "HEAD"]), !head.isEmpty else { return "unknown" }
        let dirty = run(["git", "status", "--porcelain", "--untracked-files=no"]).map { !$0.isEmpty } ?? false
        return head + (dirty ? "-dirty" : "")
    }

    private static func run(_ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
