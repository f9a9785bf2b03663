import Foundation

/// Reads and writes run files (`runs/SUITE/PROFILE/ID/seed-S.h5`) in the layout of DESIGN.md:
///
/// ```
/// /                 attributes schema, suite, experiment, model, seed, profile, config,
///                   git_commit, blas_core, threads, host, status, weights_sha256,
///                   conv_algorithm
/// /weights/<key>    float32 (int64 for num_batches_tracked), PyTorch keys and shapes
/// /optimizer/<key>  float32 optimizer state (momentum buffers)
/// /state            epoch, step (int64 scalars); values/<name> int64; rng/<name> uint64;
///                   attribute extra (JSON)
/// /metrics/<name>   float64, one value per epoch
/// /bench/<name>     float64 img/s values; attributes batch, size
/// ```
public enum RunFile {
    /// Writes a run file atomically (see `AtomicFile`): a crash at any moment leaves the
    /// previous file readable. Creates missing parent folders.
    /// - Parameters:
    ///   - record: the content. An empty `weightsSHA256` is filled in from the weights.
    ///   - url: target path.
    /// - Returns: the weights digest stored in the file.
    /// - Throws: `RunStoreError.cannotWrite` (folder or file cannot be made),
    ///   `.invalidValue` (a key with `/`, duplicate keys, a digest that does not match the
    ///   weights), `.hdf5` (disk full).
    @discardableResult
    public static func write(_ record: RunRecord, to url: URL) throws -> String {
        let digest = WeightsDigest.sha256(of: record.weights)
        var attributes = record.attributes
        if attributes.weightsSHA256.isEmpty {
            attributes.weightsSHA256 = digest
        } else if attributes.weightsSHA256 != digest {
            throw RunStoreError.invalidValue(path: url.path, object: "attribute weights_sha256",
                detail: "given \(attributes.weightsSHA256) but the weights hash to \(digest): "
                    + "leave it empty to have it computed")
        }
        try AtomicFile.write(to: url) { file in
            try RunLayout.writeAttributes(attributes, to: file)
            try RunLayout.writeEntries(record.weights, group: RunLayout.weights, to: file)
            try RunLayout.writeEntries(record.optimizer, group: RunLayout.optimizer, to: file)
            try RunLayout.writeState(record.state, to: file)
            try RunLayout.writeMetrics(record.metrics, to: file)
            try RunLayout.writeBench(record.bench, to: file)
        }
        return digest
    }

    /// Reads a whole run file and checks its weights against `weights_sha256`.
    /// - Parameter url: the run file.
    /// - Returns: everything it holds.
    /// - Throws: `RunStoreError.missingFile`, `.unreadable` (truncated or not HDF5),
    ///   `.wrongSchema`, `.missingObject` / `.wrongType` (not a run file),
    ///   `.invalidValue` (weights do not match the digest).
    public static func read(_ url: URL) throws -> RunRecord {
        let file = try HDF5File.openReadOnly(url.path)
        let attributes = try RunLayout.readAttributes(from: file)
        let weights = try RunLayout.readEntries(group: RunLayout.weights, from: file)
        let digest = WeightsDigest.sha256(of: weights)
        if !attributes.weightsSHA256.isEmpty && digest != attributes.weightsSHA256 {
            throw RunStoreError.invalidValue(path: url.path, object: RunLayout.weights,
                detail: "weights hash to \(digest) but weights_sha256 says \(attributes.weightsSHA256): "
                    + "the file is corrupt; rerun the experiment or delete it")
        }
        let record = RunRecord(
            attributes: attributes, weights: weights,
            optimizer: try file.exists(RunLayout.optimizer) ? RunLayout.readEntries(group: RunLayout.optimizer, from: file) : [],
            state: try RunLayout.readState(from: file),
            metrics: try RunLayout.readMetrics(from: file),
            bench: try RunLayout.readBench(from: file))
        try file.close()
        return record
    }

    /// Reads only the root attributes (status, digest, ...): cheap, no tensors are loaded.
    /// - Parameter url: the run file.
    /// - Returns: the attributes.
    /// - Throws: as `read(_:)`, except for the digest check.
    public static func readAttributes(_ url: URL) throws -> RunAttributes {
        let file = try HDF5File.openReadOnly(url.path)
        let attributes = try RunLayout.readAttributes(from: file)
        try file.close()
        return attributes
    }

    /// Reads `/weights` from any HDF5 file that has it (a run file or one written by a PyTorch
    /// script for `forward --weights`), without checking the schema or the digest.
    /// - Parameter url: the file.
    /// - Returns: the entries, in the file's order.
    /// - Throws: `RunStoreError.missingFile`, `.unreadable`, `.missingObject` (no `/weights`),
    ///   `.wrongType` (a dataset that is neither float nor integer).
    public static func readWeights(_ url: URL) throws -> [WeightEntry] {
        let file = try HDF5File.openReadOnly(url.path)
        let weights = try RunLayout.readEntries(group: RunLayout.weights, from: file)
        try file.close()
        return weights
    }
}
