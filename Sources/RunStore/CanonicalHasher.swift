/// SHA-256 over the canonical encoding of `ContentDigest`.
struct CanonicalHasher {
    private var sha = SHA256()

    mutating func int(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { sha.update($0) } }

    mutating func string(_ s: String) {
        let bytes = Array(s.utf8)
        int(Int64(bytes.count))
        bytes.withUnsafeBytes { sha.update($0) }
    }

    mutating func doubles(_ v: [Double]) {
        int(Int64(v.count))
        for x in v { int(Int64(bitPattern: x.bitPattern)) }
    }

    mutating func value(_ v: HDF5AttributeValue) {
        switch v {
        case let .string(s): int(1); string(s)
        case let .int64(x): int(2); int(x)
        case let .double(x): int(3); int(Int64(bitPattern: x.bitPattern))
        case let .strings(s): int(4); int(Int64(s.count)); s.forEach { string($0) }
        case let .int64s(x): int(5); int(Int64(x.count)); x.forEach { int($0) }
        case let .doubles(x): int(6); doubles(x)
        }
    }

    mutating func finalize() -> String { SHA256.hexString(sha.finalize()) }
}
