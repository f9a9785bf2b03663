/// The parts of a run file that each carry a SHA-256 digest (root attributes
/// `weights_sha256` and `sha256_<part>`), so a reader can say which part changed.
public enum RunPart: String, CaseIterable, Sendable {
    /// Every root attribute except the digests: suite, profile, experiment, model, seed, config,
    /// conv algorithm, BLAS core, status, ... (whatever the writer stores there).
    case attributes
    /// `/weights` (the existing `weights_sha256`, `WeightsDigest`).
    case weights
    /// `/optimizer` (momentum buffers), hashed like the weights.
    case optimizer
    /// `/state`: epoch, step, counters, RNG positions, extra JSON.
    case state
    /// `/metrics`: every value of every epoch, bit for bit.
    case metrics
    /// `/bench`: img/s values with their batch and size.
    case bench

    /// The root attribute holding this part's digest.
    public var attributeName: String { self == .weights ? "weights_sha256" : "sha256_\(rawValue)" }

    /// Whether a root attribute is one of the digests (not itself part of `attributes`).
    public static func isDigestAttribute(_ name: String) -> Bool {
        allCases.contains { $0.attributeName == name }
    }
}
