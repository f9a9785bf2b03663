import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A read-only memory map of a whole file, for the JSON readers.
///
/// The readers walk the map once, front to back; `release(upTo:)` hands the pages already read
/// back to the kernel (`MADV_DONTNEED` on a private read-only map drops them; they would be read
/// from the file again if touched), so a 450 MB annotation file never sits in memory whole
/// beside what is parsed out of it.
final class MappedFile {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?
    private var released = 0
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Maps `url`.
    /// - Throws: `COCOError.io` naming the file when it cannot be opened, is not a regular
    ///   file, or is empty.
    init(_ url: URL) throws {
        path = url.path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw COCOError.io(file: path, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw COCOError.io(file: path, reason: "cannot stat: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw COCOError.io(file: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        guard size > 0 else { throw COCOError.io(file: path, reason: "the file is empty; expected COCO JSON") }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw COCOError.io(file: path, reason: "cannot map: \(String(cString: strerror(errno)))") }
        _ = madvise(p, size, MADV_SEQUENTIAL)
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    /// Drops the pages wholly before byte `offset` from memory.
    func release(upTo offset: Int) {
        guard let base else { return }
        let end = (offset / Self.pageSize) * Self.pageSize
        if end > released {
            _ = madvise(base + released, end - released, MADV_DONTNEED)
            released = end
        }
    }

    deinit {
        if let base { munmap(base, bytes.count) }
    }
}
