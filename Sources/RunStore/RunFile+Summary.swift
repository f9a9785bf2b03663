import Foundation

/// What a run file says about its run, without the tensors: identity and status, progress,
/// per-epoch metrics and throughput. Reports, `status` and `check` read this.
public struct RunFileSummary: Equatable, Sendable {
    public var attributes: RunAttributes
    public var state: RunState
    /// One value per epoch, as `RunRecord.metrics`.
    public var metrics: [String: [Double]]
    public var bench: [BenchEntry]

    public init(attributes: RunAttributes, state: RunState, metrics: [String: [Double]], bench: [BenchEntry]) {
        self.attributes = attributes; self.state = state; self.metrics = metrics; self.bench = bench
    }
}

extension RunFile {
    /// Reads the root attributes, `/state`, `/metrics` and `/bench` and verifies each against its
    /// stored digest; the weights and optimizer state are neither loaded nor hashed (their
    /// digest, `weights_sha256`, is among the attributes).
    /// - Parameters:
    ///   - url: the run file.
    ///   - slot: as for `read`: a file naming another slot is refused.
    /// - Returns: the summary.
    /// - Throws: as `read(_:slot:)`; `.corrupt` names only the parts read.
    public static func readSummary(_ url: URL, slot: RunSlot? = nil) throws -> RunFileSummary {
        try reading(url, slot: slot) { file, list, attributes in
            let record = RunRecord(attributes: attributes, state: try RunLayout.readState(from: file),
                                   metrics: try RunLayout.readMetrics(from: file), bench: try RunLayout.readBench(from: file))
            try verify(list, record: record, path: url.path, parts: [.state, .metrics, .bench])
            return RunFileSummary(attributes: attributes, state: record.state, metrics: record.metrics, bench: record.bench)
        }
    }
}
