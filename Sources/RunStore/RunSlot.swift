/// Where a run file belongs: its slot `OUT/SUITE/PROFILE/EXPERIMENT/seed-SEED.h5`. A reader that
/// knows the slot refuses a file whose attributes name another one (a file copied or moved in).
public struct RunSlot: Equatable, Sendable {
    public var suite: String
    public var profile: String
    public var experiment: String
    public var seed: Int

    public init(suite: String, profile: String, experiment: String, seed: Int) {
        self.suite = suite; self.profile = profile; self.experiment = experiment; self.seed = seed
    }

    /// The fields of `a` that differ from this slot, as `name "found" (slot: "expected")`.
    public func mismatches(_ a: RunAttributes) -> [String] {
        var m: [String] = []
        if a.suite != suite { m.append("suite \"\(a.suite)\" (slot: \"\(suite)\")") }
        if a.profile != profile { m.append("profile \"\(a.profile)\" (slot: \"\(profile)\")") }
        if a.experiment != experiment { m.append("experiment \"\(a.experiment)\" (slot: \"\(experiment)\")") }
        if a.seed != seed { m.append("seed \(a.seed) (slot: \(seed))") }
        return m
    }
}
