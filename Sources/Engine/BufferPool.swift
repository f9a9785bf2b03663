import Foundation

/// Recycles float buffers, so a training step allocates nothing once the first step has run
/// (large `malloc`s would otherwise `mmap` and page-fault every batch).
///
/// Buffers are kept by size class: a request of n floats gets a buffer of `capacity(for: n)`
/// (n itself up to 4096 floats, above that n rounded up to an eighth of its power of two, at most
/// 12.5 % more), so steps whose shapes vary a little from batch to batch (a detector's proposals,
/// samples and image sizes) reuse each other's buffers. A buffer given back and not taken again
/// within `maxAge` pool operations is freed, so sizes that stop occurring do not pile up. Neither
/// rule changes a value the engine computes: a taken buffer's contents are undefined either way.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    private var free: [Int: [(pointer: UnsafeMutablePointer<Float>, tick: Int)]] = [:]
    private let lock = NSLock()
    /// Total floats currently held in the free lists.
    public private(set) var pooledFloats = 0
    /// Pool operations so far (takes and gives): the clock of `maxAge`.
    private var tick = 0
    /// Operations after which an unused pooled buffer is freed (a training step of the largest
    /// model takes and gives far fewer, so a steady state keeps all of its buffers).
    public var maxAge = 1 << 18
    /// How often (in operations) the free lists are swept for buffers older than `maxAge`.
    private let sweepEvery = 1 << 12

    /// The floats actually allocated for a request of `count`.
    @inlinable
    public static func capacity(for count: Int) -> Int {
        guard count > 4096 else { return max(count, 1) }
        let step = 1 << (Int.bitWidth - count.leadingZeroBitCount - 4)   // 2^(⌊log2 n⌋ − 3)
        return (count + step - 1) / step * step
    }

    /// Returns a buffer of at least `count` floats; contents are undefined.
    public func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let c = Self.capacity(for: count)
        lock.lock()
        advance()
        if var list = free[c], let entry = list.popLast() {
            free[c] = list.isEmpty ? nil : list
            pooledFloats -= c
            lock.unlock()
            return entry.pointer
        }
        lock.unlock()
        return UnsafeMutablePointer<Float>.allocate(capacity: c)
    }

    /// Gives a buffer back for reuse (`count` as it was taken).
    public func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        let c = Self.capacity(for: count)
        lock.lock()
        advance()
        free[c, default: []].append((p, tick))
        pooledFloats += c
        lock.unlock()
    }

    /// Advances the clock and, every `sweepEvery` operations, frees the buffers given back more
    /// than `maxAge` operations ago (called with the lock held).
    private func advance() {
        tick += 1
        guard tick % sweepEvery == 0 else { return }
        let oldest = tick - maxAge
        for (c, list) in free where list.first.map({ $0.tick < oldest }) ?? false {
            let kept = list.filter { $0.tick >= oldest }
            for e in list where e.tick < oldest { e.pointer.deallocate() }
            pooledFloats -= c * (list.count - kept.count)
            free[c] = kept.isEmpty ? nil : kept
        }
    }

    /// Frees every pooled buffer (call between phases with different shapes, e.g. train → eval).
    public func drain() {
        lock.lock()
        for (_, list) in free { for e in list { e.pointer.deallocate() } }
        free = [:]
        pooledFloats = 0
        lock.unlock()
    }
}
