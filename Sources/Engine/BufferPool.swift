import Foundation

/// Recycles float buffers, so a training step allocates nothing once the first step has run
/// (large `malloc`s would otherwise `mmap` and page-fault every batch).
///
/// Buffers are kept by size class: a request of n floats gets a buffer of `capacity(for: n)`
/// (n itself up to 4096 floats, above that n rounded up to an eighth of its power of two, at most
/// 12.5 % more), so steps whose shapes vary a little from batch to batch (a detector's proposals,
/// samples and image sizes) reuse each other's buffers. The pool holds at most 4 times as many
/// floats as were ever taken and not yet given back at one time (the peak of a step); beyond that
/// the buffers given back longest ago are freed, so sizes that stop occurring do not pile up.
/// Why 4: an inference step gives each activation back soon after its next layer has read it,
/// so the buffers one step cycles through add up to several times its peak in use (ResNet-18 at
/// batch 128, 32²: with a bound of 1.5 times, about 20 000 page faults per step, 80 MB mapped
/// afresh every step; with 4, none after the first step, for 8 % more peak RSS there and 4.5 %
/// more in ResNet-50 training). Neither rule changes a value the engine computes: a taken
/// buffer's contents are undefined either way.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    private var free: [Int: [(pointer: UnsafeMutablePointer<Float>, tick: Int)]] = [:]
    private let lock = NSLock()
    /// Total floats currently held in the free lists.
    public private(set) var pooledFloats = 0
    /// Floats taken and not yet given back, and the most there ever were (the pool's bound).
    public private(set) var liveFloats = 0, peakLiveFloats = 0
    /// Pool operations so far: the order in which buffers were given back.
    private var tick = 0
    /// The pool holds at most this many times the peak of floats in use (see above).
    public static let boundFactor = 4

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
        tick += 1
        liveFloats += c
        peakLiveFloats = max(peakLiveFloats, liveFloats)
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
        tick += 1
        liveFloats -= c
        free[c, default: []].append((p, tick))
        pooledFloats += c
        if pooledFloats > Self.boundFactor * peakLiveFloats { evictOldest(to: (Self.boundFactor - 1) * peakLiveFloats) }
        lock.unlock()
    }

    /// Frees the buffers given back longest ago until the pool holds at most `limit` floats (one
    /// peak below the bound, so evictions come in batches; called with the lock held).
    private func evictOldest(to limit: Int) {
        var entries: [(c: Int, tick: Int)] = []
        for (c, list) in free { for e in list { entries.append((c, e.tick)) } }
        entries.sort { $0.tick < $1.tick }
        var freed: [Int: Int] = [:]   // class → how many of its oldest entries go
        for e in entries where pooledFloats > limit {
            freed[e.c, default: 0] += 1
            pooledFloats -= e.c
        }
        for (c, n) in freed {
            let list = free[c]!
            for e in list.prefix(n) { e.pointer.deallocate() }
            free[c] = n == list.count ? nil : Array(list.dropFirst(n))
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
