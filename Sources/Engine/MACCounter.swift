/// Counts multiply-accumulates during a forward pass with thop's rules (the convention of the
/// paper's published figures): conv = output elements · (C_in/groups) · kh · kw; linear =
/// in_features · output elements; BatchNorm = 4 · elements; global average pool =
/// (H·W + 1) · outputs; average pool = outputs; ReLU, max-pool, SiLU, sigmoid = 0.
///
/// One counter per `EngineContext`: layers add into their context's counter.
public final class MACCounter {
    /// Whether `add` counts (only inside `count`; off during training).
    public var isCounting = false
    /// MACs counted so far in the current `count`.
    public var macs = 0

    public init() {}

    /// Adds `n` when counting is on (one branch in the ops' forward).
    @inlinable public func add(_ n: Int) { if isCounting { macs += n } }

    /// Runs `body` with counting on and returns the MACs it performed.
    public func count(_ body: () throws -> Void) rethrows -> Int {
        let (was, before) = (isCounting, macs)
        isCounting = true; macs = 0
        defer { isCounting = was; macs = before }
        try body()
        return macs
    }
}
