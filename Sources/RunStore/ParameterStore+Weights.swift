import Engine

/// Moving a model's state dict between a `ParameterStore` and `WeightEntry`s: the one way every
/// command writes and reads weights (the trainer's checkpoints, `forward --weights`, `init`).
extension ParameterStore {
    /// The state dict in PyTorch's keys, shapes and element order: every float tensor in
    /// creation order, each counter (`num_batches_tracked`) right after the last tensor of its
    /// module, as `state_dict()` lists them.
    /// - Returns: one entry per tensor and counter.
    public func weightEntries() -> [WeightEntry] {
        precondition(isFinalized, "ParameterStore.weightEntries before finalize")
        var entries = floatEntries.map { WeightEntry(key: $0.name, shape: $0.shape, floats: $0.torchValues()) }
        for c in counters {
            let module = c.name.split(separator: ".").dropLast().joined(separator: ".")
            let prefix = module.isEmpty ? "" : module + "."
            let after = entries.lastIndex { $0.key.hasPrefix(prefix) && !$0.key.dropFirst(prefix.count).contains(".") }
            let entry = WeightEntry(key: c.name, shape: [], int64s: [c.value])
            entries.insert(entry, at: after.map { $0 + 1 } ?? entries.count)
        }
        return entries
    }

    /// How `entries` differ from this store's state dict, after the reference's old Chebyshev KAN
    /// names are renamed (`renamingLegacyKANKeys`). Every tensor and counter of the store is
    /// required, with its shape (float32) or as one int64.
    /// - Parameters:
    ///   - entries: a state dict in any order.
    ///   - unexpected: whether keys the store lacks are reported (`.refuse`) or left out (`.ignore`).
    public func mismatch(with entries: [WeightEntry], unexpected: StateDictMismatch.Unexpected = .refuse) -> StateDictMismatch {
        precondition(isFinalized, "ParameterStore.mismatch before finalize")
        let entries = entries.renamingLegacyKANKeys()
        let byKey = Dictionary(entries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var m = StateDictMismatch()
        for p in floatEntries {
            guard let found = byKey[p.name] else { m.missing.append(p.name); continue }
            if found.shape != p.shape || found.values.floats == nil {
                m.misShaped.append((p.name, "\(p.name) is \(found.values) \(shapeString(found.shape)), the model has float32 \(shapeString(p.shape))"))
            }
        }
        for c in counters {
            guard let found = byKey[c.name] else { m.missing.append(c.name); continue }
            if found.values.int64s?.count != 1 { m.misShaped.append((c.name, "\(c.name) is \(found.values), the model has one int64")) }
        }
        if unexpected == .refuse {
            let expected = Set(floatEntries.map(\.name) + counters.map(\.name))
            m.unexpected = entries.map(\.key).filter { !expected.contains($0) }
        }
        return m
    }

    /// Sets every tensor and counter from `entries` (all keys must match, with equal shapes; the
    /// reference's old Chebyshev KAN names are accepted, see `renamingLegacyKANKeys`). The order
    /// of `entries` does not matter.
    /// - Parameters:
    ///   - entries: a state dict, e.g. `RunFile.read(url).weights`.
    ///   - source: the file they came from, for messages.
    ///   - unexpected: `.refuse` (a run file or init file of this model has no other key) or
    ///     `.ignore` (a reference state dict may hold modules the forward never calls).
    /// - Returns: the keys of `entries` the store does not use, as the entries name them, sorted
    ///   (empty with `.refuse`).
    /// - Throws: `RunStoreError.invalidValue` naming the missing, unexpected or mis-shaped keys
    ///   (`StateDictMismatch`); nothing is changed then.
    @discardableResult
    public func load(_ entries: [WeightEntry], from source: String,
                     unexpected: StateDictMismatch.Unexpected = .refuse) throws -> [String] {
        let m = mismatch(with: entries, unexpected: unexpected)
        guard m.isEmpty else {
            throw RunStoreError.invalidValue(path: source, object: "/weights",
                                             detail: "\(m): the weights were written for another model spec")
        }
        let renamed = entries.renamingLegacyKANKeys()
        let byKey = Dictionary(renamed.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        for p in floatEntries { p.setTorchValues(byKey[p.name]!.values.floats!) }
        for c in counters { c.value = byKey[c.name]!.values.int64s![0] }
        let used = Set(floatEntries.map(\.name) + counters.map(\.name))
        return zip(entries, renamed).filter { !used.contains($0.1.key) }.map(\.0.key).sorted()
    }
}
