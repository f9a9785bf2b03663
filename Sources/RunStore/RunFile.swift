import Foundation

/// Reads and writes run files (`runs/SUITE/PROFILE/ID/seed-S.h5`) in the layout of docs/design.md:
///
/// ```
/// /                 attributes schema, suite, experiment, model, seed, profile, config,
///                   git_commit, blas_core, threads, host, status, conv_algorithm,
///                   winograd_gemm (fixed-length strings), and the digests weights_sha256, sha256_<part> (`ContentDigest`)
/// /weights/<key>    float32 (int64 for num_batches_tracked), PyTorch keys and shapes, stored
///                   in key order (`WeightsDigest.inKeyOrder`), whatever order the record lists
/// /optimizer/<key>  float32 optimizer state (momentum buffers)
/// /state            epoch, step (int64 scalars); values/<name> int64; rng/<name> uint64;
///                   attribute extra (JSON)
/// /metrics/<name>   float64, one value per epoch
/// /bench/<name>     float64 img/s values; attributes batch, size
/// ```
public enum RunFile {
    /// Writes a run file atomically (see `AtomicFile`): a crash at any moment leaves the
    /// previous file readable. Creates missing parent folders. Stores the per-part digests
    /// (`ContentDigest`) beside the content.
    /// - Parameters:
    ///   - record: the content. An empty `weightsSHA256` is filled in from the weights. The
    ///     weights may come in any order (e.g. state_dict order, `ParameterStore.weightEntries`);
    ///     `/weights` stores them in key order, as every rkan-repro/2 run file has, so the
    ///     bytes of a run file depend only on its content.
    ///   - url: target path.
    /// - Returns: the weights digest stored in the file.
    /// - Throws: `RunStoreError.cannotWrite` (folder or file cannot be made, disk full),
    ///   `.invalidValue` (a key with `/`, duplicate keys, a digest that does not match the
    ///   weights).
    @discardableResult
    public static func write(_ record: RunRecord, to url: URL) throws -> String {
        let digest = WeightsDigest.sha256(of: record.weights)
        let attributes = record.attributes
        if !attributes.weightsSHA256.isEmpty && attributes.weightsSHA256 != digest {
            throw RunStoreError.invalidValue(path: url.path, object: "attribute weights_sha256",
                detail: "given \(attributes.weightsSHA256) but the weights hash to \(digest): "
                    + "leave it empty to have it computed")
        }
        let list = RunLayout.attributeList(attributes)
        let digests = ContentDigest.digests(attributes: list, record: record)
        try AtomicFile.write(to: url) { file in
            try RunLayout.writeAttributes(list, digests: digests, to: file)
            try RunLayout.writeEntries(WeightsDigest.inKeyOrder(record.weights), group: RunLayout.weights, to: file)
            try RunLayout.writeEntries(record.optimizer, group: RunLayout.optimizer, to: file)
            try RunLayout.writeState(record.state, to: file)
            try RunLayout.writeMetrics(record.metrics, to: file)
            try RunLayout.writeBench(record.bench, to: file)
        }
        return digest
    }

    /// Reads a whole run file and verifies every part against its digest.
    /// - Parameters:
    ///   - url: the run file.
    ///   - slot: where the file was found; a file naming another suite, profile, experiment
    ///     or seed is refused. Nil for a file read from an arbitrary path.
    /// - Returns: everything it holds.
    /// - Throws: `RunStoreError.missingFile`, `.unreadable` (truncated or not HDF5),
    ///   `.wrongSchema` (another layout version, e.g. `rkan-repro/1`), `.missingObject` /
    ///   `.wrongType` (not a run file), `.corrupt` naming the parts that do not match their
    ///   digests, `.wrongSlot`.
    public static func read(_ url: URL, slot: RunSlot? = nil) throws -> RunRecord {
        try reading(url, slot: slot) { file, list, attributes in
            let record = RunRecord(
                attributes: attributes,
                weights: try RunLayout.readEntries(group: RunLayout.weights, from: file),
                optimizer: try RunLayout.readEntries(group: RunLayout.optimizer, from: file),
                state: try RunLayout.readState(from: file),
                metrics: try RunLayout.readMetrics(from: file),
                bench: try RunLayout.readBench(from: file))
            try verify(list, record: record, path: url.path, parts: RunPart.allCases.filter { $0 != .attributes })
            return record
        }
    }

    /// Opens a run file, requires its seal, verifies and decodes its root attributes (their
    /// digest first: a damaged status or seed is reported as damage), runs `body` on the open
    /// file, then refuses a file of another slot.
    /// - Throws: what `read` documents, and what `body` throws.
    static func reading<T>(_ url: URL, slot: RunSlot?,
                           _ body: (HDF5File, [(String, HDF5AttributeValue)], RunAttributes) throws -> T) throws -> T {
        let file = try HDF5File.openReadOnly(url.path)
        defer { try? file.close() }
        let list = try RunLayout.readAttributeList(from: file)
        try requireSeal(file)
        try verify(list, record: RunRecord(attributes: placeholder), path: url.path, parts: [.attributes])
        let attributes = try RunLayout.decodeAttributes(list, path: url.path)
        let result = try body(file, list, attributes)
        if let slot {
            let m = slot.mismatches(attributes)
            if !m.isEmpty { throw RunStoreError.wrongSlot(path: url.path, mismatches: m) }
        }
        return result
    }

    /// Every run file of this layout is written sealed (`FileSeal`); one without its seal was cut
    /// short or rewritten by another program, so its bytes cannot be vouched for.
    static func requireSeal(_ file: HDF5File) throws {
        guard file.sealed else {
            throw RunStoreError.corrupt(path: file.path, parts: ["seal (the checksum trailer)"],
                detail: "the file has no checksum trailer: it was cut short or rewritten by another program")
        }
    }

    /// Throws `.corrupt` naming every part whose digest differs from the stored one.
    static func verify(_ list: [(String, HDF5AttributeValue)], record: RunRecord, path: String,
                       parts: [RunPart] = RunPart.allCases) throws {
        let stored = RunLayout.storedDigests(list)
        let bad = parts.filter { ContentDigest.digest($0, attributes: list, record: record) != stored[$0] }
        guard bad.isEmpty else {
            let missing = bad.filter { stored[$0]!.isEmpty }
            let detail = missing.isEmpty ? "recomputed digests differ from the stored ones"
                : "no stored digest for \(missing.map(\.rawValue).joined(separator: ", "))"
            throw RunStoreError.corrupt(path: path, parts: bad.map(partName), detail: detail)
        }
    }

    /// Attributes for a record that only carries the root attributes' list to `verify`.
    private static let placeholder = RunAttributes(suite: "", experiment: "", model: "", seed: 0, profile: "", config: "",
                                                   gitCommit: "", blasCore: "", threads: 0, host: "", status: .running)

    static func partName(_ p: RunPart) -> String {
        switch p {
        case .attributes: return "root attributes (identity, config, status)"
        case .weights: return "weights (/weights)"
        case .optimizer: return "optimizer state (/optimizer)"
        case .state: return "state counters (/state)"
        case .metrics: return "metrics (/metrics)"
        case .bench: return "bench (/bench)"
        }
    }

    /// Reads only the root attributes (status, digest, ...) and verifies them against their
    /// digest: cheap, no tensors are loaded (their digests are checked by `read`).
    /// - Parameters:
    ///   - url: the run file.
    ///   - slot: as for `read`.
    /// - Returns: the attributes.
    /// - Throws: as `read(_:slot:)`, `.corrupt` only for the attributes.
    public static func readAttributes(_ url: URL, slot: RunSlot? = nil) throws -> RunAttributes {
        try reading(url, slot: slot) { _, _, attributes in attributes }
    }

    /// Reads `/weights` from any HDF5 file that has it, for `forward --weights`. A run file
    /// (one with a root `schema` attribute) is read and verified whole, as by `read`; an
    /// `init` file is checked against its `weights_sha256` (`InitFile.readWeights`); a file
    /// without a schema (written by a PyTorch script) is read as it is, and so is a run file of
    /// the older layout `rkan-repro/1` (variable-length strings, which are never read: its weights
    /// stay usable for `forward`, unverified; old KAN key names are renamed by the loader).
    /// - Parameter url: the file.
    /// - Returns: the entries, in the file's order.
    /// - Throws: `RunStoreError.missingFile`, `.unreadable`, `.missingObject` (no `/weights`),
    ///   `.wrongType` (a dataset that is neither float nor integer), and for run files what
    ///   `read` throws.
    public static func readWeights(_ url: URL) throws -> [WeightEntry] {
        let file: HDF5File
        do { file = try HDF5File.openReadOnly(url.path) } catch RunStoreError.corrupt(let path, let parts, let detail) {
            // Damaged before HDF5 could tell what the file is: give both fixes.
            throw RunStoreError.invalidValue(path: path, object: parts.joined(separator: " and "), detail:
                "\(detail): the file was damaged or changed after rkan-repro wrote it. Make it again: an init file with "
                + "`rkan-repro init SPEC --classes N --seed S --out \(path) --force`, a run file with `rkan-repro run … --restart ID:SEED`")
        }
        defer { try? file.close() }
        guard try file.attributeNames().contains("schema") else {
            return try RunLayout.readEntries(group: RunLayout.weights, from: file)
        }
        let schema: String?
        do { schema = try file.attribute("schema")?.stringValue } catch RunStoreError.wrongType {
            // A variable-length schema string: a run file of the `rkan-repro/1` layout (or another
            // program's file). Its strings are not read (see `HDF5File.attribute`) and it has no
            // content digests, so its weights are read as they are, like those of any other program.
            return try RunLayout.readEntries(group: RunLayout.weights, from: file)
        }
        if schema == InitFile.schema { return try InitFile.readWeights(url) }
        return try read(url).weights
    }
}
