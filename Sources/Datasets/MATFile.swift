import CZlib
import Foundation

/// A reader of MATLAB level-5 MAT-files (`save -v7`, what SVHN ships), numeric arrays only.
///
/// Layout: a 128-byte header (text, subsystem offset, version 0x0100, endian mark `IM` for
/// little-endian), then data elements, each an 8-byte tag `(type u32, bytes u32)` and its data
/// padded to 8 bytes, or a 4-byte "small" tag `(bytes u16 << 16 | type u16)` with ≤ 4 data bytes.
/// A top-level element is an `miMATRIX` (14): array flags (class in the low byte), dimensions
/// (`miINT32`), name (`miINT8`), real part (any numeric type, often narrower than the class);
/// or an `miCOMPRESSED` (15) holding one zlib-compressed `miMATRIX` (not padded). Values are
/// stored column-major (first index fastest). Every problem is a `DatasetError.corrupt` naming
/// the file and what is wrong.
public enum MATFile {
    /// One numeric array.
    public struct Variable: Sendable {
        public let name: String
        /// MATLAB dimensions, e.g. `[32, 32, 3, N]`.
        public let dims: [Int]
        /// MATLAB class (`mxDOUBLE_CLASS` = 6, `mxUINT8_CLASS` = 9, ...).
        public let classID: Int
        /// Element type of `data` (`miUINT8` = 2, `miDOUBLE` = 9, ...).
        public let dataType: Int
        /// The real part's bytes, little-endian, column-major.
        public let data: [UInt8]

        public init(name: String, dims: [Int], classID: Int, dataType: Int, data: [UInt8]) {
            self.name = name; self.dims = dims; self.classID = classID; self.dataType = dataType; self.data = data
        }

        /// Number of elements: the product of `dims`.
        public var count: Int { dims.reduce(1, *) }

        /// Bytes per element of `dataType`, or nil for a non-numeric type.
        static func width(_ type: Int) -> Int? {
            switch type {
            case 1, 2: return 1          // miINT8, miUINT8
            case 3, 4: return 2          // miINT16, miUINT16
            case 5, 6, 7: return 4       // miINT32, miUINT32, miSINGLE
            case 9, 12, 13: return 8     // miDOUBLE, miINT64, miUINT64
            default: return nil
            }
        }

        /// Element `i` as a Double.
        public func value(_ i: Int) -> Double {
            data.withUnsafeBytes { raw in
                switch dataType {
                case 1: return Double(raw.load(fromByteOffset: i, as: Int8.self))
                case 2: return Double(raw[i])
                case 3: return Double(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)))
                case 4: return Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                case 5: return Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                case 6: return Double(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                case 7: return Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
                case 9: return Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
                case 12: return Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                default: return Double(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
                }
            }
        }
    }

    /// Reads every numeric array of a MAT-file (other classes: cells, structs, strings are skipped).
    /// - Returns: the arrays by name.
    /// - Throws: `DatasetError.unreadable` when the file cannot be read, `.corrupt` naming the
    ///   file for a bad header, a truncated or damaged element.
    public static func read(_ url: URL) throws -> [String: Variable] {
        let data = try DataRoot.read(url)
        return try data.withUnsafeBytes { try parse($0, file: url.path) }
    }

    /// Parses MAT-file bytes; `file` names them in errors.
    public static func parse(_ raw: UnsafeRawBufferPointer, file: String) throws -> [String: Variable] {
        guard raw.count >= 128 else {
            throw DatasetError.corrupt(file: file, problem: "not a MATLAB 5 MAT-file: \(raw.count) bytes, shorter than the 128-byte header")
        }
        guard raw[126] == UInt8(ascii: "I") && raw[127] == UInt8(ascii: "M") else {
            let text = String(decoding: raw[0..<min(19, raw.count)], as: UTF8.self)
            let hint = text.hasPrefix("MATLAB 7.3") || (raw[0] == 0x89 && raw[1] == 0x48) ? " (MATLAB 7.3 / HDF5 files are not read; save with -v7)" : ""
            throw DatasetError.corrupt(file: file, problem: "not a little-endian MATLAB 5 MAT-file (header ends in \(raw[126]) \(raw[127]), not 'IM')\(hint)")
        }
        var arrays: [String: Variable] = [:]
        var pos = 128
        while pos < raw.count {
            let (type, bytes, start, next) = try tag(raw, at: pos, file: file, what: "top-level element")
            switch type {
            case 14:
                if let a = try matrix(UnsafeRawBufferPointer(rebasing: raw[start..<start + bytes]), at: pos, file: file) {
                    arrays[a.name] = a
                }
            case 15:
                let inflated = try inflateElement(UnsafeRawBufferPointer(rebasing: raw[start..<start + bytes]), at: pos, file: file)
                try inflated.withUnsafeBytes { inner in
                    let (t, n, s, _) = try tag(inner, at: 0, file: file, what: "compressed element at byte \(pos)")
                    guard t == 14 else {
                        throw DatasetError.corrupt(file: file, problem: "compressed element at byte \(pos) holds type \(t), not an array (14)")
                    }
                    if let a = try matrix(UnsafeRawBufferPointer(rebasing: inner[s..<s + n]), at: pos, file: file) { arrays[a.name] = a }
                }
            default: break   // other top-level data is ignored
            }
            pos = type == 15 ? start + bytes : next
        }
        return arrays
    }

    /// Reads the tag at `pos`. - Returns: type, data bytes, data start and the next element's offset.
    static func tag(_ raw: UnsafeRawBufferPointer, at pos: Int, file: String, what: String) throws -> (Int, Int, Int, Int) {
        guard pos + 8 <= raw.count else {
            throw DatasetError.corrupt(file: file, problem: "truncated: \(what) at byte \(pos) has no complete 8-byte tag (\(raw.count) bytes)")
        }
        let first = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: pos, as: UInt32.self)))
        if first >> 16 != 0 {   // small data element: bytes in the high half, data in the next 4 bytes
            return (first & 0xFFFF, first >> 16, pos + 4, pos + 8)
        }
        let bytes = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: pos + 4, as: UInt32.self)))
        guard pos + 8 + bytes <= raw.count else {
            throw DatasetError.corrupt(file: file, problem: "truncated: \(what) at byte \(pos) declares \(bytes) bytes but only \(raw.count - pos - 8) follow")
        }
        return (first, bytes, pos + 8, pos + 8 + (bytes + 7) / 8 * 8)
    }

    /// Parses the body of an `miMATRIX`; nil for a non-numeric class.
    static func matrix(_ body: UnsafeRawBufferPointer, at pos: Int, file: String) throws -> Variable? {
        let what = "array at byte \(pos)"
        let (ft, fn, fs, fnext) = try tag(body, at: 0, file: file, what: "\(what): flags")
        guard ft == 6 && fn == 8 else { throw DatasetError.corrupt(file: file, problem: "\(what): array flags have type \(ft), \(fn) bytes (expected miUINT32, 8)") }
        let flags = Int(UInt32(littleEndian: body.loadUnaligned(fromByteOffset: fs, as: UInt32.self)))
        let classID = flags & 0xFF
        let (dt, dn, ds, dnext) = try tag(body, at: fnext, file: file, what: "\(what): dimensions")
        guard dt == 5 && dn >= 8 && dn % 4 == 0 else {
            throw DatasetError.corrupt(file: file, problem: "\(what): dimensions have type \(dt), \(dn) bytes (expected miINT32, ≥ 2 values)")
        }
        let dims = (0..<dn / 4).map { Int(Int32(littleEndian: body.loadUnaligned(fromByteOffset: ds + 4 * $0, as: Int32.self))) }
        let (_, nn, ns, nnext) = try tag(body, at: dnext, file: file, what: "\(what): name")
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: body[ns..<ns + nn]), as: UTF8.self)
        guard (6...15).contains(classID) else { return nil }
        guard flags & 0x800 == 0 else { throw DatasetError.corrupt(file: file, problem: "array \(name): complex values are not supported") }
        guard dims.allSatisfy({ $0 >= 0 }) else { throw DatasetError.corrupt(file: file, problem: "array \(name): negative dimension in \(dims)") }
        let (rt, rn, rs, _) = try tag(body, at: nnext, file: file, what: "array \(name): values")
        guard let w = Variable.width(rt) else { throw DatasetError.corrupt(file: file, problem: "array \(name): values have unknown type \(rt)") }
        guard let bytes = boundedProduct(dims + [w], limit: body.count) else {
            throw DatasetError.corrupt(file: file, problem: "array \(name) \(dims): its dimensions announce more values than the \(rn) bytes the file holds for them")
        }
        let count = bytes / w
        guard rn == bytes else {
            throw DatasetError.corrupt(file: file, problem: "array \(name) \(dims): \(rn) value bytes, expected \(count) × \(w) = \(count * w) (truncated?)")
        }
        return Variable(name: name, dims: dims, classID: classID, dataType: rt,
                     data: [UInt8](UnsafeRawBufferPointer(rebasing: body[rs..<rs + rn])))
    }

    /// Inflates an `miCOMPRESSED` element (zlib stream) into the element it holds.
    static func inflateElement(_ src: UnsafeRawBufferPointer, at pos: Int, file: String) throws -> [UInt8] {
        var strm = z_stream()
        guard inflateInit_(&strm, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError.corrupt(file: file, problem: "zlib inflateInit failed")
        }
        defer { inflateEnd(&strm) }
        let input = src.bindMemory(to: UInt8.self)
        var fed = 0
        var out = [UInt8](repeating: 0, count: 8)
        var produced = 0, status = Z_OK
        /// Inflates into out[produced...] until it is full or the stream ends.
        func run() throws {
            while produced < out.count && status != Z_STREAM_END {
                if strm.avail_in == 0 && fed < input.count {
                    let n = min(input.count - fed, 1 << 30)
                    strm.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + fed)
                    strm.avail_in = UInt32(n)
                    fed += n
                }
                let before = strm.total_out
                status = out.withUnsafeMutableBufferPointer { o -> Int32 in
                    strm.next_out = o.baseAddress! + produced
                    strm.avail_out = UInt32(min(o.count - produced, 1 << 30))
                    return inflate(&strm, Z_NO_FLUSH)
                }
                produced += Int(strm.total_out - before)
                switch status {
                case Z_OK, Z_STREAM_END: break
                case Z_BUF_ERROR where strm.avail_in == 0 && fed == input.count:
                    throw DatasetError.corrupt(file: file, problem: "truncated: the compressed element at byte \(pos) ends after \(produced) of \(out.count) bytes")
                case Z_BUF_ERROR: break
                default:
                    let msg = strm.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw DatasetError.corrupt(file: file, problem: "damaged compressed element at byte \(pos) after \(produced) bytes: \(msg)")
                }
            }
        }
        try run()
        guard produced == 8 else {
            throw DatasetError.corrupt(file: file, problem: "truncated: the compressed element at byte \(pos) holds \(produced) bytes, not even a tag")
        }
        let bytes = out.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self))) }
        guard bytes <= max(src.count, 64) * 1100 else {   // deflate expands at most ~1032:1
            throw DatasetError.corrupt(file: file, problem: "compressed element at byte \(pos) claims \(bytes) bytes from \(src.count) compressed ones")
        }
        out.append(contentsOf: repeatElement(0, count: bytes))
        try run()
        guard produced == out.count else {
            throw DatasetError.corrupt(file: file, problem: "truncated: the compressed element at byte \(pos) ends after \(produced) of \(out.count) bytes")
        }
        return out
    }

    /// Encodes variables as a MAT-file (for tests and fixtures): the name in a full (not small)
    /// element, values as stored in `data`; each array in an `miCOMPRESSED` element if `compressed`.
    public static func encode(_ variables: [Variable], compressed: Bool) -> [UInt8] {
        var out = [UInt8]("MATLAB 5.0 MAT-file, written by rkan-repro".utf8)
        out += repeatElement(UInt8(ascii: " "), count: 116 - out.count)
        out += repeatElement(0, count: 8) + [0x00, 0x01, UInt8(ascii: "I"), UInt8(ascii: "M")]
        func u32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        func element(_ type: Int, _ data: [UInt8], pad: Bool = true) -> [UInt8] {
            u32(type) + u32(data.count) + data + (pad ? [UInt8](repeating: 0, count: (8 - data.count % 8) % 8) : [])
        }
        for v in variables {
            let body = element(6, u32(v.classID) + u32(0)) + element(5, v.dims.flatMap { u32($0) })
                + element(1, [UInt8](v.name.utf8)) + element(v.dataType, v.data)
            let matrix = element(14, body)
            guard compressed else { out += matrix; continue }
            var size = compressBound(UInt(matrix.count))
            var z = [UInt8](repeating: 0, count: Int(size))
            let status = compress2(&z, &size, matrix, UInt(matrix.count), 6)
            precondition(status == Z_OK, "compress2 failed: \(status)")
            out += element(15, Swift.Array(z.prefix(Int(size))), pad: false)
        }
        return out
    }
}
