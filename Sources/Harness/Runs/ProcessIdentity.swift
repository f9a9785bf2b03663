import Foundation

/// What tells one process from a later one that got the same pid: its start time after boot
/// (`/proc/PID/stat` field 22, `starttime`, in clock ticks) and the boot it ran in
/// (`/proc/sys/kernel/random/boot_id`). Linux only; nil elsewhere.
public enum ProcessIdentity {
    /// Field 22 of `/proc/PID/stat`, nil when the process or /proc is missing.
    ///
    /// Field 2 (`comm`) is in parentheses and may itself contain spaces and `)`, so the fields
    /// are counted after the last `)`: field 3 is the first one there, field 22 the 20th.
    public static func startTicks(of pid: Int32) -> UInt64? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 20 else { return nil }
        return UInt64(fields[19])
    }

    /// The current boot's id, nil when unavailable.
    public static func bootID() -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/sys/kernel/random/boot_id") else { return nil }
        let id = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }
}
