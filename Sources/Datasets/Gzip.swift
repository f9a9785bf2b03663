import CZlib
import Foundation

/// gzip (RFC 1952) through zlib's `inflate`/`deflate`, with errors that name the file.
///
/// `inflate` on the whole file (not `gzread`) so that a truncated stream is an error rather than
/// a short read: a stream that ends before its trailer, a CRC mismatch or a damaged block all
/// throw `DatasetError.corrupt(file:problem:)`.
public enum Gzip {
    /// windowBits for zlib: 15 (32 KiB window) + 16 = gzip wrapper.
    static let gzipWindowBits: Int32 = 15 + 16

    /// Decompresses a gzip file (all members, as `gunzip` does).
    /// - Parameter url: the `.gz` file.
    /// - Returns: the uncompressed bytes.
    /// - Throws: `DatasetError.unreadable` when the file cannot be read, `.corrupt` when it is not
    ///   gzip, is truncated or fails its checksum.
    public static func decompress(contentsOf url: URL) throws -> [UInt8] {
        let data = try DataRoot.read(url)
        return try decompress(data, name: url.path)
    }

    /// Decompresses gzip bytes; `name` is used in error messages.
    public static func decompress(_ data: Data, name: String) throws -> [UInt8] {
        guard data.count >= 18, data[data.startIndex] == 0x1f, data[data.startIndex + 1] == 0x8b else {
            throw DatasetError.corrupt(file: name, problem: data.count < 18
                ? "truncated gzip file (\(data.count) bytes, a gzip stream takes at least 18)"
                : "not a gzip file (magic bytes are not 1f 8b)")
        }
        // ISIZE (uncompressed size mod 2^32, little-endian) of the last member: a capacity hint,
        // believed only within deflate's maximum ratio (~1032:1; a truncated file ends in garbage).
        let tail = data.suffix(4).map { UInt32($0) }
        let isize = Int(tail[0] | tail[1] << 8 | tail[2] << 16 | tail[3] << 24)
        let hint = isize <= data.count * 1032 ? isize : 4 * data.count
        var out = [UInt8](repeating: 0, count: max(hint, 1 << 16))
        var produced = 0

        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let input = raw.bindMemory(to: UInt8.self)
            var consumed = 0
            while consumed < input.count {
                var strm = z_stream()
                guard inflateInit2_(&strm, gzipWindowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                    throw DatasetError.corrupt(file: name, problem: "zlib inflateInit2 failed")
                }
                defer { inflateEnd(&strm) }
                strm.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + consumed)
                strm.avail_in = UInt32(input.count - consumed)
                var status = Z_OK
                while status != Z_STREAM_END {
                    if produced == out.count { out.append(contentsOf: repeatElement(0, count: out.count)) }
                    let before = strm.total_out
                    status = out.withUnsafeMutableBufferPointer { o -> Int32 in
                        strm.next_out = o.baseAddress! + produced
                        strm.avail_out = UInt32(min(o.count - produced, Int(UInt32.max)))
                        return inflate(&strm, Z_NO_FLUSH)
                    }
                    produced += Int(strm.total_out - before)
                    switch status {
                    case Z_OK, Z_STREAM_END: break
                    case Z_BUF_ERROR where strm.avail_in == 0:
                        throw DatasetError.corrupt(file: name, problem: "truncated gzip file: the stream ends after \(input.count) compressed bytes, \(produced) bytes decompressed, before its end marker")
                    case Z_BUF_ERROR: break   // output full: grow and go on
                    default:
                        let msg = strm.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                        throw DatasetError.corrupt(file: name, problem: "damaged gzip data after \(produced) decompressed bytes: \(msg)")
                    }
                }
                consumed += Int(strm.total_in)
                // Another member follows only if it starts with the gzip magic; trailing zeros
                // (tape padding) are allowed as gunzip allows them, anything else is an error.
                let rest = input[consumed...]
                if rest.isEmpty { break }
                if rest.count >= 2 && rest[consumed] == 0x1f && rest[consumed + 1] == 0x8b { continue }
                if rest.allSatisfy({ $0 == 0 }) { break }
                throw DatasetError.corrupt(file: name, problem: "\(rest.count) bytes of trailing garbage after the gzip stream")
            }
        }
        out.removeLast(out.count - produced)
        return out
    }

    /// Compresses bytes into one gzip member (for writing test files and fixtures).
    /// - Parameters:
    ///   - bytes: data to compress.
    ///   - level: zlib level 0–9.
    /// - Returns: the `.gz` file contents.
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var strm = z_stream()
        let initStatus = deflateInit2_(&strm, level, Z_DEFLATED, gzipWindowBits, 8, Z_DEFAULT_STRATEGY,
                                       ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK, "deflateInit2 failed")
        defer { deflateEnd(&strm) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&strm, UInt(bytes.count))) + 32)
        var src = bytes
        let status = src.withUnsafeMutableBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o -> Int32 in
                strm.next_in = s.baseAddress
                strm.avail_in = UInt32(s.count)
                strm.next_out = o.baseAddress
                strm.avail_out = UInt32(o.count)
                return deflate(&strm, Z_FINISH)
            }
        }
        precondition(status == Z_STREAM_END, "deflate did not finish (status \(status))")
        out.removeLast(out.count - Int(strm.total_out))
        return out
    }
}
