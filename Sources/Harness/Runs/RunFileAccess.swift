import Foundation
import RunStore

/// Reads run files for the harness's commands (`run`, `status`, `report`, `check`): every read
/// checks the content digests and the slot, and every failure becomes a
/// `HarnessError.badRunFile` carrying the command that moves the file aside and retrains it.
public enum RunFileAccess {
    /// Where the commands look for things, to spell the fix command the user can paste.
    public struct Context: Sendable {
        public var out: URL
        public var suitesFolder: URL

        public init(out: URL, suitesFolder: URL) { self.out = out; self.suitesFolder = suitesFolder }
    }

    /// `rkan-repro run SUITE --profile P [--out OUT] [--suites DIR] --only ID --seeds S --restart ID:S`.
    public static func restartCommand(_ slot: RunSlot, _ context: Context) -> String {
        runCommand(suite: slot.suite, profile: slot.profile, context)
            + " --only \(slot.experiment) --seeds \(slot.seed) --restart \(slot.experiment):\(slot.seed)"
    }

    /// `rkan-repro run SUITE --profile P [--out OUT] [--suites DIR]` (the options that differ
    /// from their defaults).
    public static func runCommand(suite: String, profile: String, _ context: Context) -> String {
        var cmd = "rkan-repro run \(suite) --profile \(profile)"
        if context.out.standardizedFileURL.path != URL(fileURLWithPath: "runs").standardizedFileURL.path {
            cmd += " --out \(shellQuoted(context.out.path))"
        }
        if context.suitesFolder.standardizedFileURL.path != URL(fileURLWithPath: "Suites").standardizedFileURL.path {
            cmd += " --suites \(shellQuoted(context.suitesFolder.path))"
        }
        return cmd
    }

    /// Reads and verifies a run file's attributes, state, metrics and bench, not its weights.
    /// - Throws: `HarnessError.badRunFile` for anything `RunFile.readSummary` rejects.
    public static func readSummary(_ url: URL, slot: RunSlot, _ context: Context) throws -> RunFileSummary {
        do { return try RunFile.readSummary(url, slot: slot) } catch let e as RunStoreError {
            throw HarnessError.badRunFile(detail: "\(e)", fix: restartCommand(slot, context))
        }
    }

    /// Moves a run file aside to `seed-S.h5.bad-<UTC time>` (not deleted; not matched by
    /// run-file globs) so that the run trains again.
    /// - Returns: the new path, nil when there was no file.
    /// - Throws: `HarnessError.io` when the rename fails.
    @discardableResult
    public static func moveAside(_ url: URL, now: Date = Date()) throws -> URL? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        f.timeZone = TimeZone(identifier: "UTC")
        var target = URL(fileURLWithPath: url.path + ".bad-" + f.string(from: now))
        var n = 1
        while FileManager.default.fileExists(atPath: target.path) {
            n += 1
            target = URL(fileURLWithPath: url.path + ".bad-" + f.string(from: now) + "-\(n)")
        }
        guard rename(url.path, target.path) == 0 else {
            throw HarnessError.io(path: url.path, detail: "cannot move the run file aside to \(target.path): \(String(cString: strerror(errno)))")
        }
        return target
    }

    static func shellQuoted(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:+,".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
