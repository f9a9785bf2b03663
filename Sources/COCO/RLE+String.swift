/// COCO's compressed RLE string (`rleToString` / `rleFrString`): LEB128-like, 5 bits of payload
/// per character plus a continuation bit, characters `'0'` (48) to `'o'` (111); from the third
/// count on, each value is stored as the difference to the count two places back (runs of 0s and
/// of 1s each vary slowly).
extension RLE {
    /// The compressed string of `counts`, byte for byte pycocotools' `rleToString`.
    public var compressedCounts: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(counts.count * 2)
        for i in 0..<counts.count {
            var x = Int64(counts[i])
            if i > 2 { x -= Int64(counts[i - 2]) }
            var more = true
            while more {
                var c = UInt8(truncatingIfNeeded: x & 0x1f)
                x >>= 5
                more = (c & 0x10) != 0 ? x != -1 : x != 0
                if more { c |= 0x20 }
                bytes.append(c + 48)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses a compressed string (`rleFrString`).
    /// - Parameters:
    ///   - bytes: the string's bytes.
    ///   - what: names the mask in messages (file and annotation id).
    /// - Throws: `COCOError.mask` for a character outside `'0'…'o'`, a value longer than 12
    ///   characters (more than 60 bits) or a string that ends inside a value. pycocotools reads
    ///   these without a check (and past the end of its buffer for the last one).
    public init<S: Collection>(compressed bytes: S, height: Int, width: Int, what: String) throws where S.Element == UInt8 {
        var cnts: [UInt32] = []
        var x: Int64 = 0, k = 0
        for byte in bytes {
            guard byte >= 48 && byte <= 111 else {
                throw COCOError.mask("\(what): compressed RLE has the character \(byte < 32 || byte > 126 ? "byte \(byte)" : "'\(Character(Unicode.Scalar(byte)))'"), outside '0'…'o'")
            }
            let c = Int64(byte - 48)
            guard k < 12 else { throw COCOError.mask("\(what): compressed RLE has a value longer than 12 characters") }
            x |= (c & 0x1f) << (5 * Int64(k))
            k += 1
            if c & 0x20 == 0 {
                if c & 0x10 != 0 { x |= -1 << (5 * Int64(k)) }
                if cnts.count > 2 { x &+= Int64(cnts[cnts.count - 2]) }
                cnts.append(UInt32(truncatingIfNeeded: x))
                x = 0; k = 0
            }
        }
        guard k == 0 else { throw COCOError.mask("\(what): compressed RLE ends inside a value") }
        self.init(height: height, width: width, counts: cnts)
    }
}
