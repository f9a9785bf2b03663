/// One `--restart ID:SEED`.
public struct RestartTarget: Equatable, Hashable, Sendable {
    public var experiment: String
    public var seed: Int

    public init(experiment: String, seed: Int) { self.experiment = experiment; self.seed = seed }

    /// Parses `ID:SEED[,ID:SEED...]`; nil when an item is not `ID:SEED` with a seed ≥ 0.
    public static func parseList(_ text: String) -> [RestartTarget]? {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        var out: [RestartTarget] = []
        for item in items {
            guard let colon = item.lastIndex(of: ":"), let seed = Int(item[item.index(after: colon)...]), seed >= 0,
                  colon > item.startIndex else { return nil }
            out.append(RestartTarget(experiment: String(item[..<colon]), seed: seed))
        }
        return out.isEmpty ? nil : out
    }
}
