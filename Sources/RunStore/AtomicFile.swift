import Engine
import Foundation

/// Writes HDF5 files so that a crash or a full disk at any moment leaves the previous version
/// readable and the HDF5 library in a clean state:
///
/// 1. the content is built in memory (`HDF5File.createInMemory`): HDF5 never writes to disk,
///    so a disk error cannot leave it holding a file it fails to flush again at exit (which
///    segfaulted in the library's shutdown); its bytes are sealed (`FileSeal`), so readers
///    check them before HDF5 parses them;
/// 2. the bytes go to `<path>.tmp-<pid>` with write(2), which is fsynced and renamed over the
///    target (rename is atomic on POSIX file systems), and the folder is fsynced.
///
/// Readers only ever open the target name, and run-file globs match `*.h5`, so a `.tmp-<pid>`
/// left behind by a crash is ignored; the next write of the same target removes such files of
/// processes that no longer run (`StaleTemporaries`).
enum AtomicFile {
    /// Creates `url`'s folder, builds the file through `body`, and moves it into place.
    /// - Parameters:
    ///   - url: the target file.
    ///   - body: writes the content into the fresh in-memory file.
    /// - Throws: `RunStoreError.cannotWrite` when the folder or file cannot be made (disk full,
    ///   file too large, read-only), or what `body` throws; the temporary file is removed on
    ///   any error.
    static func write(to url: URL, _ body: (HDF5File) throws -> Void) throws {
        let target = url.path
        let folder = url.deletingLastPathComponent().path
        if let kind = InputFile.isNonFile(target) {
            throw RunStoreError.cannotWrite(path: target, detail: "it is \(kind), which a file must not replace; pass a file path")
        }
        try makeFolder(folder, for: target)
        // The whole write holds the HDF5 lock: two threads of this process then never share
        // the temporary name.
        try HDF5Library.locked {
            StaleTemporaries.remove(of: target)
            let file = try HDF5File.createInMemory(name: target)
            let bytes: [UInt8]
            do {
                try body(file)
                bytes = try file.sealedImage()
                try file.close()
            } catch {
                try? file.close()
                throw error
            }
            let temporary = StaleTemporaries.name(of: target, pid: getpid())
            do {
                try writeAndSync(bytes, to: temporary, for: target)
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

    /// Writes all bytes with write(2) (EINTR retried) and fsyncs them, so they are on disk
    /// before the rename makes them visible. ENOSPC and EFBIG (a file-size limit) are reported
    /// as such.
    private static func writeAndSync(_ bytes: [UInt8], to path: String, for target: String) throws {
        unlink(path)
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RunStoreError.cannotWrite(path: target, detail: "creating \(path): \(lastErrno())") }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let why = n < 0 ? lastErrno() : "no progress"
                throw RunStoreError.cannotWrite(path: target,
                    detail: "writing \(bytes.count) bytes to \(path) stopped after \(done): \(why)")
            }
            done += n
        }
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
