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

    /// Reads the current machine (CPU model from /proc/cpuinfo, commit of the binary's checkout).
    public static func current(threads: Int) -> MachineInfo {
        MachineInfo(host: ProcessInfo.processInfo.hostName, cpu: cpuModel(), cores: ProcessInfo.processInfo.activeProcessorCount,
                    blasCore: BLAS.coreName, threads: threads, commit: gitCommit())
    }

    /// Fails with a message naming the variable when `RKAN_CONV_ALGO` names no algorithm or
    /// `RKAN_WINO_GEMM` no GEMM (the engine would otherwise fall back to the default silently).
    public static func validateEnvironment() throws {
        _ = try ConvAlgorithm.fromEnvironment()
        _ = try WinogradGEMM.fromEnvironment()
    }

    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let v = line.split(separator: ":", maxSplits: 1).last { return v.trimmingCharacters(in: .whitespaces) }
        }
        return "unknown CPU"
    }

    /// The commit of the rkan-repro checkout this binary was built in (with `-dirty` when its
    /// tracked files have changes), or `RKAN_COMMIT`; "unknown" for a binary outside a checkout.
    ///
    /// The checkout is found from the executable's path (`.build/…/rkan-repro` lies inside it),
    /// never from the current directory, which may be anyone's repository. HEAD is read from the
    /// files of `.git` (worktrees and packed refs included) and the dirty check runs
    /// `git --no-optional-locks status`, which does not refresh the index: nothing under any
    /// `.git` is written.
    static func gitCommit(executable: URL? = executableURL()) -> String {
        if let c = ProcessInfo.processInfo.environment["RKAN_COMMIT"], !c.isEmpty { return c }
        guard let exe = executable, let root = checkoutRoot(containing: exe), let head = headCommit(root) else { return "unknown" }
        let dirty = run(["git", "--no-optional-locks", "-C", root.path, "status", "--porcelain", "--untracked-files=no"])
            .map { !$0.isEmpty } ?? false
        return String(head.prefix(12)) + (dirty ? "-dirty" : "")
    }

    /// This process's executable, symbolic links resolved (/proc/self/exe).
    static func executableURL() -> URL? {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return Bundle.main.executableURL
        }
        return URL(fileURLWithPath: path)
    }

    /// The nearest folder above `file` that holds a `.git` (a folder, or a worktree's file).
    static func checkoutRoot(containing file: URL) -> URL? {
        var dir = file.deletingLastPathComponent().standardizedFileURL
        while dir.path != "/" && !dir.path.isEmpty {
            if InputFile.exists(dir.appendingPathComponent(".git").path) { return dir }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    /// The full commit id HEAD names in the checkout at `root`, read from files only.
    static func headCommit(_ root: URL) -> String? {
        func read(_ url: URL) -> String? {
            (try? InputFile.read(url.path, limit: 1 << 26)).map { String(decoding: $0, as: UTF8.self) }
        }
        func isCommit(_ s: String) -> Bool { s.count >= 40 && s.allSatisfy(\.isHexDigit) }
        let dotGit = root.appendingPathComponent(".git")
        var gitDir = dotGit
        if InputFile.problem(dotGit.path) == nil, let text = read(dotGit) {   // a worktree: "gitdir: PATH"
            guard let line = text.split(separator: "\n").first, line.hasPrefix("gitdir:") else { return nil }
            let path = line.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces)
            gitDir = path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
        }
        var common = gitDir
        if let c = read(gitDir.appendingPathComponent("commondir"))?.trimmingCharacters(in: .whitespacesAndNewlines), !c.isEmpty {
            common = c.hasPrefix("/") ? URL(fileURLWithPath: c) : gitDir.appendingPathComponent(c)
        }
        guard let head = read(gitDir.appendingPathComponent("HEAD"))?.trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        guard head.hasPrefix("ref:") else { return isCommit(head) ? head : nil }
        let ref = head.dropFirst(4).trimmingCharacters(in: .whitespaces)
        for dir in [gitDir, common] {
            if let v = read(dir.appendingPathComponent(ref))?.trimmingCharacters(in: .whitespacesAndNewlines), isCommit(v) { return v }
        }
        for line in (read(common.appendingPathComponent("packed-refs")) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[1] == ref, isCommit(String(parts[0])) { return String(parts[0]) }
        }
        return nil
    }

    private static func run(_ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["GIT_OPTIONAL_LOCKS"] = "0"
        p.environment = env
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
