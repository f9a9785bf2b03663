import Foundation

/// What kind of file system object a path names, checked before any input is opened: reading a
/// folder fails inside Foundation with a trap, and opening a FIFO (or a terminal, a socket) for
/// reading blocks until a writer appears, which may be never. Every reader of a user-given
/// path (run files, `forward` inputs and weights, suite files, datasets, baselines, READMEs)
/// asks `problem(_:)` first and reports its answer instead of opening the path.
public enum InputFile {
    /// Why `path` cannot be read as a regular file, or nil when it can (it exists, is a regular
    /// file after following symbolic links, and this process may read it).
    /// - Parameter path: the file-system path.
    /// - Returns: e.g. "it is a folder, not a file" or "permission denied (mode 0200): give
    ///   yourself read access (chmod u+r)".
    public static func problem(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let e = errno
            if e == ENOENT { return "it does not exist" }
            if e == EACCES { return "a folder on its path cannot be searched (permission denied): fix the folder's permissions" }
            return "cannot look at it (\(String(cString: strerror(e))))"
        }
        if let kind = kindName(st.st_mode) { return "it is \(kind), not a regular file" }
        guard access(path, R_OK) == 0 else {
            let mode = String(st.st_mode & 0o7777, radix: 8)
            return "permission denied (mode \(String(repeating: "0", count: max(0, 4 - mode.count)) + mode)): "
                + "give yourself read access (chmod u+r) or read it as its owner"
        }
        return nil
    }

    /// Whether `path` names an existing object (of any kind, after following symbolic links).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Whether `path` names an existing object that is not a regular file (a folder, a FIFO,
    /// a device, a socket): nothing may be written over it.
    public static func isNonFile(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return kindName(st.st_mode)
    }

    /// "a folder", "a FIFO (named pipe)", … for anything but a regular file.
    static func kindName(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    /// Reads a whole regular file after checking it (`problem`); the descriptor is opened with
    /// O_NONBLOCK so that a path swapped for a FIFO between the check and the open cannot hang.
    /// - Parameters:
    ///   - path: the file.
    ///   - limit: the most bytes accepted (nil: no limit).
    /// - Returns: the bytes.
    /// - Throws: `InputFile.Failure` carrying the reason as a sentence.
    public static func read(_ path: String, limit: Int? = nil) throws -> Data {
        if let p = problem(path) { throw Failure(path: path, reason: p) }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        if let kind = kindName(st.st_mode) { throw Failure(path: path, reason: "it is \(kind), not a regular file") }
        if let limit, Int(st.st_size) > limit {
            throw Failure(path: path, reason: "it holds \(st.st_size) bytes, more than the \(limit) accepted")
        }
        // One byte more than the size, so the read that sees the end needs no bigger buffer.
        var data = Data(count: Int(st.st_size) + 1)
        var done = 0
        while true {
            if done == data.count { data.count += max(data.count, 1 << 16) }
            let n = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard n >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            done += n
            if let limit, done > limit { throw Failure(path: path, reason: "it holds more than the \(limit) bytes accepted") }
        }
        data.count = done
        return data
    }

    /// Why a file could not be read: the path and the reason, as a sentence.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }
}
