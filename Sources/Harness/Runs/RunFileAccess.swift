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

    /// `rkan-repro run SUITE --profile P [--runs DIR] [--suites DIR]` (the options that differ
    /// from their defaults).
    public static func runCommand(suite: String, profile: String, _ context: Context) -> String {
        var cmd = "rkan-repro run \(suite) --profile \(profile)"
        if context.out.standardizedFileURL.path != URL(fileURLWithPath: "runs").standardizedFileURL.path {
            cmd += " --runs \(shellQuoted(context.out.path))"
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
            // A file that cannot be read at all (permissions, a folder or FIFO in its place) is not
            // known to be damaged: retraining is not the fix.
            if case let .notReadable(path, detail) = e {
                throw HarnessError.io(path: path, detail: "cannot read it: \(detail). Fix the path or its permissions; nothing is known to be wrong "
                    + "with the file's content, so do not retrain or delete it")
            }
            throw HarnessError.badRunFile(detail: "\(e)", fix: restartCommand(slot, context))
        }
    }

    /// `readSummary`, and the file must have been made with `config` (its recorded resolved
    /// configuration equal to the one the suite resolves to now).
    /// - Throws: as `readSummary`; `HarnessError.staleRunFile` naming each setting that differs.
    public static func readSummary(_ url: URL, config: RunConfig, _ context: Context) throws -> RunFileSummary {
        let summary = try readSummary(url, slot: config.slot, context)
        try checkMadeWith(config, recorded: summary.attributes.config, model: summary.attributes.model, path: url.path, context)
        return summary
    }

    /// Throws `HarnessError.staleRunFile` when a run file's recorded configuration (resolved
    /// JSON and model spec) is not `config`'s.
    public static func checkMadeWith(_ config: RunConfig, recorded: String, model: String, path: String, _ context: Context) throws {
        guard recorded != config.canonicalJSON || model != config.model.description else { return }
        var differences = configDifferences(recorded: recorded, wanted: config.canonicalJSON)
        if model != config.model.description && !differences.contains(where: { $0.hasPrefix("model:") }) {
            differences.insert("model: \(model) in the file, \(config.model.description) in the suite", at: 0)
        }
        if differences.isEmpty { differences = ["the recorded configuration is not this build's encoding of it"] }
        throw HarnessError.staleRunFile(path: path, differences: differences, fix: restartCommand(config.slot, context))
    }

    /// The settings that differ between two resolved configurations (canonical JSON), as
    /// `key.path: A in the file, B in the suite`, at most 6.
    static func configDifferences(recorded: String, wanted: String) -> [String] {
        func flat(_ text: String) -> [String: String]? {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return nil }
            var out: [String: String] = [:]
            func walk(_ v: Any, _ path: String) {
                if let d = v as? [String: Any] {
                    for (k, x) in d { walk(x, path.isEmpty ? k : "\(path).\(k)") }
                } else if let a = v as? [Any] {
                    let scalars = a.allSatisfy { !($0 is [String: Any]) && !($0 is [Any]) }
                    if scalars { out[path] = "[" + a.map { "\($0)" }.joined(separator: ", ") + "]" } else {
                        for (i, x) in a.enumerated() { walk(x, "\(path)[\(i)]") }
                    }
                } else { out[path] = "\(v)" }
            }
            walk(object, "")
            return out
        }
        guard let a = flat(recorded), let b = flat(wanted) else { return ["the recorded configuration is not readable JSON"] }
        let keys = Set(a.keys).union(b.keys).sorted().filter { a[$0] != b[$0] }
        var lines = keys.prefix(6).map { "\($0): \(a[$0] ?? "absent") in the file, \(b[$0] ?? "absent") in the suite" }
        if keys.count > 6 { lines.append("and \(keys.count - 6) more") }
        return lines
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
