/// How a state dict (`WeightEntry`s) differs from a model's `ParameterStore`: the keys the model
/// needs and the entries lack, the keys the entries have and the model does not, and the keys
/// present with another shape or type. Computed by `ParameterStore.mismatch(with:)`.
public struct StateDictMismatch: Sendable, CustomStringConvertible {
    /// Whether entries the model does not use are a problem (`load` refuses them) or are left
    /// out and reported (`forward --weights` on a reference state dict, whose classes build
    /// modules for every stage and call only some).
    public enum Unexpected: Sendable { case refuse, ignore }

    /// Keys of the model missing from the entries (tensors in creation order, then counters).
    public var missing: [String] = []
    /// Keys of the entries (after legacy renaming) the model does not have, in the entries' order.
    /// Empty when they were ignored.
    public var unexpected: [String] = []
    /// One line per key present with another shape or type: what the entries have, what the model needs.
    public var misShaped: [(key: String, problem: String)] = []

    public init() {}

    /// Whether the entries fit the model.
    public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && misShaped.isEmpty }

    /// `missing a, b; unexpected c; d is float32 × 8 [2, 4], the model has float32 [8]` (at most
    /// five keys a list, then a count).
    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing \(Self.list(missing))") }
        if !unexpected.isEmpty { parts.append("unexpected \(Self.list(unexpected))") }
        parts += misShaped.prefix(5).map(\.problem)
        if misShaped.count > 5 { parts.append("\(misShaped.count - 5) more keys of another shape") }
        return parts.joined(separator: "; ")
    }

    private static func list(_ keys: [String]) -> String {
        keys.prefix(5).joined(separator: ", ") + (keys.count > 5 ? " and \(keys.count - 5) more" : "")
    }
}
