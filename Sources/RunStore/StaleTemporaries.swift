import Foundation

/// The temporary files of `AtomicFile` (`<target>.tmp-<pid>`) and their clean-up.
///
/// A process killed between creating its temporary file and renaming it leaves the file
/// behind. The next write of the same target removes such leftovers, but only safely: only
/// names of exactly that form for that target (ours), and only when the pid is not a running
/// process on this machine (`kill(pid, 0)` fails with ESRCH). A live pid, even one reused by
/// another program, keeps its file; so does a name that does not parse.
public enum StaleTemporaries {
    /// `<target>.tmp-<pid>`.
    public static func name(of target: String, pid: Int32) -> String { "\(target).tmp-\(pid)" }

    /// The leftovers of `target` whose process is gone.
    /// - Parameter target: the file `AtomicFile` writes.
    /// - Returns: their paths, sorted.
    public static func stale(of target: String) -> [String] {
        let folder = (target as NSString).deletingLastPathComponent
        let prefix = (target as NSString).lastPathComponent + ".tmp-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        return names.compactMap { name -> String? in
            guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count)), pid > 0,
                  String(pid) == name.dropFirst(prefix.count), pid != getpid() else { return nil }
            guard kill(pid, 0) != 0 && errno == ESRCH else { return nil }
            return (folder as NSString).appendingPathComponent(name)
        }.sorted()
    }

    /// Removes `stale(of:)`.
    /// - Returns: the paths removed.
    @discardableResult
    public static func remove(of target: String) -> [String] {
        stale(of: target).filter { unlink($0) == 0 }
    }
}
