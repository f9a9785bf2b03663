import Foundation

/// Recycles float buffers by exact element count, so a training step allocates nothing once
/// the first step has run (large `malloc`s would otherwise `mmap` and page-fault every batch).
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private let lock = NSLock()
    /// Total floats currently held in the free lists.
    public private(set) var pooledFloats = 0

    /// Returns a buffer of `count` floats; contents are undefined.
    public func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        lock.lock()
        if var list = free[count], let p = list.popLast() {
            free[count] = list
            pooledFloats -= count
            lock.unlock()
            return p
        }
        lock.unlock()
        return UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
    }

    /// Gives a buffer back for reuse.
    public func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        lock.lock()
        free[count, default: []].append(p)
        pooledFloats += count
        lock.unlock()
    }

    /// Frees every pooled buffer (call between phases with different shapes, e.g. train → eval).
    public func drain() {
        lock.lock()
        for (_, list) in free { for p in list { p.deallocate() } }
        free = [:]
        pooledFloats = 0
        lock.unlock()
    }
}
