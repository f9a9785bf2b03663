import Engine

/// Moving a model's state dict between a `ParameterStore` and `WeightEntry`s (run files).
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

    /// Sets every tensor and counter from `entries` (all keys must match, with equal shapes; the
    /// reference's old Chebyshev KAN names are accepted, see `renamingLegacyKANKeys`).
    /// - Parameters:
    ///   - entries: a state dict, e.g. `RunFile.read(url).weights`.
    ///   - source: the file they came from, for messages.
    /// - Throws: `RunStoreError.invalidValue` naming the missing, unexpected or mis-shaped keys;
    ///   nothing is changed then.
    public func load(_ entries: [WeightEntry], from source: String) throws {
        precondition(isFinalized, "ParameterStore.load before finalize")
        let entries = entries.renamingLegacyKANKeys()
        let byKey = Dictionary(entries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var problems: [String] = []
        let expected = Set(floatEntries.map(\.name) + counters.map(\.name))
        let missing = floatEntries.map(\.name).filter { byKey[$0] == nil } + counters.map(\.name).filter { byKey[$0] == nil }
        if !missing.isEmpty { problems.append("missing \(Self.list(missing))") }
        let unexpected = entries.map(\.key).filter { !expected.contains($0) }
        if !unexpected.isEmpty { problems.append("unexpected \(Self.list(unexpected))") }
        for p in floatEntries {
            guard let e = byKey[p.name] else { continue }
            if e.shape != p.shape || e.values.floats == nil {
                problems.append("\(p.name) is \(e.values) \(shapeString(e.shape)), the model has float32 \(shapeString(p.shape))")
            }
        }
        for c in counters {
            guard let e = byKey[c.name] else { continue }
            if e.values.int64s?.count != 1 { problems.append("\(c.name) is \(e.values), the model has one int64") }
        }
        guard problems.isEmpty else {
            throw RunStoreError.invalidValue(path: source, object: "/weights",
                detail: problems.joined(separator: "; ") + ": the weights were written for another model spec")
        }
        for p in floatEntries { p.setTorchValues(byKey[p.name]!.values.floats!) }
        for c in counters { c.value = byKey[c.name]!.values.int64s![0] }
    }

    private static func list(_ keys: [String]) -> String {
        keys.prefix(5).joined(separator: ", ") + (keys.count > 5 ? " and \(keys.count - 5) more" : "")
    }
}
