import Foundation

/// Writes HDF5 files so that a crash at any moment leaves the previous version readable:
/// the content goes to `<path>.tmp-<pid>`, which is flushed, closed, fsynced and then renamed
/// over the target (rename is atomic on POSIX file systems), and the folder is fsynced.
///
/// Readers only ever open the target name, and run-file globs match `*.h5`, so a `.tmp-<pid>`
/// left behind by a crash is ignored (and replaced by the next write from the same pid).
enum AtomicFile {
    /// Creates `url`'s folder, writes the file through `body`, and moves it into place.
    /// - Parameters:
    ///   - url: the target file.
    ///   - body: writes the content into the freshly created temporary file.
    /// - Throws: `RunStoreError.cannotWrite` when the folder or file cannot be made, or what
    ///   `body` throws; the temporary file is removed on any error.
    static func write(to url: URL, _ body: (HDF5File) throws -> Void) throws {
        let target = url.path
        let folder = url.deletingLastPathComponent().path
        try makeFolder(folder, for: target)
        let temporary = target + ".tmp-\(getpid())"
        // The whole write holds the HDF5 lock: HDF5 is serialised anyway, and two threads of
        // this process then never share the temporary name.
        try HDF5Library.locked {
            unlink(temporary)
            do {
                let file = try HDF5File.create(temporary)
                try body(file)
                try file.close()
                try syncFile(temporary, for: target)
                guard rename(temporary, target) == 0 else {
                    throw RunStoreError.cannotWrite(path: target, detail: "renaming \(temporary) over it: \(lastErrno())")
                }
                syncFolder(folder)
            } catch {
                unlink(temporary)
                throw error
            }
        }
    }

    /// Creates `folder` and its parents; names the first ancestor that is a file, if any.
    private static func makeFolder(_ folder: String, for target: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue { return }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            var ancestor = folder
            while !ancestor.isEmpty && ancestor != "/" {
                if FileManager.default.fileExists(atPath: ancestor, isDirectory: &isFolder) {
                    if !isFolder.boolValue {
                        throw RunStoreError.cannotWrite(path: target,
                            detail: "cannot create folder \(folder): \(ancestor) is a file, not a folder")
                    }
                    break
                }
                ancestor = (ancestor as NSString).deletingLastPathComponent
            }
            throw RunStoreError.cannotWrite(path: target,
                detail: "cannot create folder \(folder): \(error.localizedDescription)")
        }
    }

    /// fsync(2) on a file, so its bytes are on disk before the rename makes it visible.
    private static func syncFile(_ path: String, for target: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw RunStoreError.cannotWrite(path: target, detail: "reopening \(path): \(lastErrno())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw RunStoreError.cannotWrite(path: target, detail: "fsync of \(path): \(lastErrno())") }
    }

    /// fsync(2) on a folder, so the rename itself survives a power cut (best effort).
    private static func syncFolder(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func lastErrno() -> String { String(cString: strerror(errno)) }
}
