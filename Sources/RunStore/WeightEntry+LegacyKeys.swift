import Engine

/// State dicts written before the reference renamed the Chebyshev KAN tensors
/// (815a357:KAN_Conv/chebyshevkan.py: `chebyshev_weight` → `polynomial_weight`,
/// `chebyshev_scaler` → `scaler`) and rkan-repro's older run files, which use the old names, stay readable:
/// every loader matches keys after this renaming.
extension Array where Element == WeightEntry {
    /// The entries with the old Chebyshev KAN key names replaced by the current ones. A key whose
    /// new name is also present is left alone (the file then has both, and the new one wins).
    public func renamingLegacyKANKeys() -> [WeightEntry] {
        let present = Set(map(\.key))
        return map { e in
            for (old, new) in ChebyshevKANConv2d.legacyKeySuffixes where e.key.hasSuffix(old) {
                let renamed = String(e.key.dropLast(old.count)) + new
                guard !present.contains(renamed) else { return e }
                var r = e
                r.key = renamed
                return r
            }
            return e
        }
    }
}
