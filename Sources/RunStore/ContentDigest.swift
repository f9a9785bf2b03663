import Foundation

/// One SHA-256 per `RunPart` over everything that determines a run's results, so any flipped
/// byte in values, counters, metrics or identifying attributes is found by every reader.
///
/// Each part is hashed over a canonical encoding independent of HDF5's layout: strings as a
/// little-endian Int64 byte count then UTF-8 bytes, integers as little-endian Int64 (UInt64 bit
/// patterns), reals as little-endian IEEE-754 bit patterns (NaN payloads included), lists as a
/// count then the items, named things in UTF-8 byte order of their names. Attributes are hashed
/// generically (any name, any `HDF5AttributeValue`, with a type tag), so attributes added later
/// are covered without changing this code.
public enum ContentDigest {
    /// - Parameters:
    ///   - attributes: the root attributes as stored (digest attributes are skipped).
    ///   - record: the tensors, state, metrics and bench.
    /// - Returns: a digest (64 lowercase hex digits) per part.
    public static func digests(attributes: [(String, HDF5AttributeValue)], record: RunRecord) -> [RunPart: String] {
        var result: [RunPart: String] = [:]
        for part in RunPart.allCases { result[part] = digest(part, attributes: attributes, record: record) }
        return result
    }

    static func digest(_ part: RunPart, attributes: [(String, HDF5AttributeValue)], record: RunRecord) -> String {
        var h = CanonicalHasher()
        switch part {
        case .weights: return WeightsDigest.sha256(of: record.weights)
        case .optimizer: return WeightsDigest.sha256(of: record.optimizer)
        case .attributes:
            let kept = attributes.filter { !RunPart.isDigestAttribute($0.0) }.sorted { byBytes($0.0, $1.0) }
            h.int(Int64(kept.count))
            for (name, value) in kept { h.string(name); h.value(value) }
        case .state:
            let s = record.state
            h.int(Int64(s.epoch)); h.int(Int64(s.step))
            h.int(Int64(s.values.count))
            for name in s.values.keys.sorted(by: byBytes) { h.string(name); h.int(s.values[name]!) }
            h.int(Int64(s.rngCounters.count))
            for name in s.rngCounters.keys.sorted(by: byBytes) { h.string(name); h.int(Int64(bitPattern: s.rngCounters[name]!)) }
            h.string(s.extraJSON)
        case .metrics:
            h.int(Int64(record.metrics.count))
            for name in record.metrics.keys.sorted(by: byBytes) { h.string(name); h.doubles(record.metrics[name]!) }
        case .bench:
            h.int(Int64(record.bench.count))
            for e in record.bench.sorted(by: { byBytes($0.name, $1.name) }) {
                h.string(e.name); h.int(Int64(e.batch)); h.int(Int64(e.size)); h.doubles(e.values)
            }
        }
        return h.finalize()
    }

    static func byBytes(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }
}

