/// The `weights_sha256` of a run file: one SHA-256 over all weights, so two runs can be
/// compared bit for bit without loading them.
///
/// Entries are hashed in key order (sorted by the keys' UTF-8 bytes), so the digest does not
/// depend on the order they are stored in. For each entry: the key's UTF-8 bytes, then each
/// dimension of the shape as a little-endian Int64, then the values as little-endian float32
/// or int64 bytes. In Python (`Tools/runfile/check_runfile.py` does exactly this):
/// `for k in sorted(sd, key=str.encode): h.update(k.encode()); h.update(np.array(v.shape,
/// '<i8').tobytes()); h.update(v.astype('<f4' or '<i8').tobytes())`.
public enum WeightsDigest {
    /// - Parameter entries: the weights (any order; keys must be distinct).
    /// - Returns: the digest as 64 lowercase hex digits.
    public static func sha256(of entries: [WeightEntry]) -> String {
        var hasher = SHA256()
        for entry in inKeyOrder(entries) {
            hasher.update(Array(entry.key.utf8))
            let dims = entry.shape.map { Int64($0).littleEndian }
            dims.withUnsafeBytes { hasher.update($0) }
            #if _endian(little)
            switch entry.values {
            case let .float32(v): v.withUnsafeBytes { hasher.update($0) }
            case let .int64(v): v.withUnsafeBytes { hasher.update($0) }
            }
            #else
            switch entry.values {
            case let .float32(v): v.map { $0.bitPattern.littleEndian }.withUnsafeBytes { hasher.update($0) }
            case let .int64(v): v.map { $0.littleEndian }.withUnsafeBytes { hasher.update($0) }
            }
            #endif
        }
        return SHA256.hexString(hasher.finalize())
    }

    /// `entries` sorted by their keys' UTF-8 bytes: the order the digest hashes them in, and the
    /// order `RunFile.write` stores `/weights` in (so a run file's bytes do not depend on the
    /// order a writer listed its state dict).
    public static func inKeyOrder(_ entries: [WeightEntry]) -> [WeightEntry] {
        entries.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
    }
}
