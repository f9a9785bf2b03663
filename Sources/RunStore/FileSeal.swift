import Engine
import Foundation

/// A checksum trailer after the HDF5 bytes of every file rkan-repro writes (run files, `init`
/// files, parity outputs), verified by byte arithmetic alone before HDF5 parses anything.
///
/// Why: HDF5 trusts its own metadata. A flipped byte in an object header, a B-tree or a heap
/// can make the library read out of bounds and crash (`H5HG_read` segfaults on a damaged
/// variable-length string). The per-part content digests (`ContentDigest`) can only be checked
/// after HDF5 has parsed the file, so they cannot prevent that. The seal can: `verify` reads the
/// file as plain bytes, and a file whose bytes differ from what was written is refused before
/// `H5Fopen`, naming the damaged part.
///
/// Layout (HDF5 ignores bytes after its end-of-allocation address, so h5py and h5dump still
/// read a sealed file):
/// ```
/// [HDF5 image: `size` bytes][trailer JSON][UInt64 LE: JSON length][8 bytes "RKANSEAL"]
/// ```
/// The JSON holds, per top-level group (`weights`, `optimizer`, `state`, ...), the byte ranges
/// of its datasets' stored values and the SHA-256 of those bytes in file order, and the SHA-256
/// of every other byte of the image (`structure`: superblock, object headers, attributes,
/// B-trees, heaps). A damaged tensor is therefore named as its part; damaged metadata as the
/// structure.
public enum FileSeal {
    static let magic = Array("RKANSEAL".utf8)
    /// Longest trailer accepted (a run file of a large model has a few thousand datasets).
    static let maxTrailer = 16 << 20
    /// The name of the bytes outside every dataset's values, in error messages.
    public static let structurePart = "root attributes or HDF5 structure (identity, config, status)"

    /// One part: the stored values of the datasets under one top-level group.
    struct Region: Codable, Equatable {
        var part: String
        /// [offset, length] pairs, ascending, within the image.
        var ranges: [[Int]]
        var sha256: String
    }

    struct Trailer: Codable, Equatable {
        var version: Int
        /// Bytes of the HDF5 image before the trailer.
        var size: Int
        var regions: [Region]
        var structure: String
    }

    /// The trailer for an HDF5 image.
    /// - Parameters:
    ///   - image: the file's bytes as HDF5 wrote them.
    ///   - datasets: every dataset with stored values: object path, file offset, byte length.
    /// - Returns: the bytes to append.
    static func trailer(image: [UInt8], datasets: [(object: String, offset: Int, length: Int)]) -> [UInt8] {
        var byPart: [String: [[Int]]] = [:]
        for d in datasets where d.length > 0 {
            byPart[part(of: d.object), default: []].append([d.offset, d.length])
        }
        let regions = byPart.keys.sorted().map { Region(part: $0, ranges: byPart[$0]!.sorted { $0[0] < $1[0] }, sha256: "") }
        let hashes = image.withUnsafeBytes { all in
            digests(regions: regions, size: image.count) { range, body in body(UnsafeRawBufferPointer(rebasing: all[range])) }
        }
        let t = Trailer(version: 1, size: image.count,
                        regions: zip(regions, hashes.regions).map { Region(part: $0.part, ranges: $0.ranges, sha256: $1) },
                        structure: hashes.structure)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = [UInt8]((try? encoder.encode(t)) ?? Data())
        var out: [UInt8] = json
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: magic)
        return out
    }

    /// Checks a sealed file's bytes against its trailer, reading it as plain bytes.
    /// - Parameter path: the file.
    /// - Returns: true for a sealed, intact file; false when the file has no seal (written by
    ///   another program, e.g. h5py).
    /// - Throws: `RunStoreError.corrupt` naming the parts whose bytes changed (or the seal
    ///   itself when it cannot be decoded or does not fit the file), `.unreadable` when the file
    ///   cannot be read.
    public static func verify(path: String) throws -> Bool { try verifiedParts(path: path) != nil }

    /// `verify`, returning the parts the seal names: the file's top-level objects with stored
    /// values, which the caller checks once HDF5 has opened the (intact) image, since a part's
    /// name is covered by no checksum (`HDF5File.openReadOnly`).
    /// - Returns: the part names, or nil when the file has no seal.
    /// - Throws: as `verify`.
    static func verifiedParts(path: String) throws -> [String]? {
        if let problem = InputFile.problem(path) { throw RunStoreError.notReadable(path: path, detail: problem) }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw RunStoreError.notReadable(path: path, detail: "cannot open it for reading: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw RunStoreError.notReadable(path: path, detail: "it is not a regular file")
        }
        let fileSize = Int(st.st_size)
        var readError: String?
        /// `count` bytes at `offset` (pread: no shared position, EINTR retried).
        func bytes(at offset: Int, count: Int) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    readError = n < 0 ? "reading byte \(offset + done): \(String(cString: strerror(errno)))" : "short read at byte \(offset + done)"
                    return Array(out[0..<done])
                }
                done += n
            }
            return out
        }
        guard fileSize >= 16 else { return nil }
        let footer = bytes(at: fileSize - 16, count: 16)
        if let readError { throw RunStoreError.notReadable(path: path, detail: readError) }
        guard footer.count == 16, Array(footer[8...]) == magic else { return nil }
        let length = footer[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        func broken(_ detail: String) -> RunStoreError {
            .corrupt(path: path, parts: ["seal (the checksum trailer)"], detail: detail)
        }
        guard length > 0, length <= maxTrailer, length <= fileSize - 16 else {
            throw broken("its length field says \(length) bytes in a file of \(fileSize)")
        }
        let json = Data(bytes(at: fileSize - 16 - length, count: length))
        if let readError { throw RunStoreError.notReadable(path: path, detail: readError) }
        guard let t = try? JSONDecoder().decode(Trailer.self, from: json) else { throw broken("it is not the JSON this build writes") }
        guard t.version == 1, t.size == fileSize - 16 - length else {
            throw broken("it describes \(t.size) bytes of HDF5 data but the file holds \(fileSize - 16 - length)")
        }
        guard valid(t.regions, size: t.size) else { throw broken("its byte ranges overlap or lie outside the file") }

        let hashes = digests(regions: t.regions, size: t.size) { range, body in
            // Ranges arrive in ascending, gap-free order.
            let data = readError == nil ? bytes(at: range.lowerBound, count: range.count) : [UInt8](repeating: 0, count: range.count)
            if data.count != range.count {
                if readError == nil { readError = "short read at byte \(range.lowerBound)" }
                [UInt8](repeating: 0, count: range.count).withUnsafeBytes { body($0) }
                return
            }
            data.withUnsafeBytes { body($0) }
        }
        if let readError { throw RunStoreError.unreadable(path: path, detail: readError) }
        var bad = zip(t.regions, hashes.regions).filter { $0.sha256 != $1 }.map { partName($0.0.part) }
        if hashes.structure != t.structure { bad.insert(structurePart, at: 0) }
        guard bad.isEmpty else {
            throw RunStoreError.corrupt(path: path, parts: bad, detail: "its bytes differ from the checksums written with it")
        }
        return t.regions.map(\.part)
    }

    /// The top-level group of an object path: `/weights/fc.weight` → `weights`.
    static func part(of object: String) -> String {
        object.split(separator: "/", omittingEmptySubsequences: true).first.map(String.init) ?? "/"
    }

    /// A part's name in messages: the run-file part's own wording where there is one.
    static func partName(_ part: String) -> String {
        if let p = RunPart(rawValue: part), p != .attributes { return RunFile.partName(p) }
        return "/\(part)"
    }

    /// Ranges ascending, non-empty, inside `size`, not overlapping (also across regions).
    static func valid(_ regions: [Region], size: Int) -> Bool {
        let all = regions.flatMap(\.ranges)
        guard all.allSatisfy({ $0.count == 2 && $0[0] >= 0 && $0[1] > 0 && $0[0] <= size - $0[1] }) else { return false }
        let sorted = all.sorted { $0[0] < $1[0] }
        return zip(sorted, sorted.dropFirst()).allSatisfy { $0[0] + $0[1] <= $1[0] }
    }

    /// Hashes the bytes `0..<size` in order: bytes inside a region's ranges go to that region's
    /// hasher, all others to the structure hasher. `slice(range, body)` must call `body` with
    /// exactly the bytes of `range`; ranges are requested in ascending order, without gaps, in
    /// pieces of at most 4 MiB.
    static func digests(regions: [Region], size: Int,
                        slice: (Range<Int>, (UnsafeRawBufferPointer) -> Void) -> Void) -> (regions: [String], structure: String) {
        var hashers = [SHA256](repeating: SHA256(), count: regions.count)
        var structure = SHA256()
        let marks = regions.enumerated().flatMap { i, r in r.ranges.map { (start: $0[0], end: $0[0] + $0[1], region: i) } }
            .sorted { $0.start < $1.start }
        var at = 0
        func feed(_ range: Range<Int>, _ region: Int?) {
            var lo = range.lowerBound
            while lo < range.upperBound {
                let hi = min(range.upperBound, lo + (4 << 20))
                slice(lo..<hi) { bytes in
                    if let region { hashers[region].update(bytes) } else { structure.update(bytes) }
                }
                lo = hi
            }
        }
        for m in marks {
            feed(at..<m.start, nil)
            feed(m.start..<m.end, m.region)
            at = m.end
        }
        feed(at..<size, nil)
        return (hashers.indices.map { SHA256.hexString(hashers[$0].finalize()) }, SHA256.hexString(structure.finalize()))
    }
}
