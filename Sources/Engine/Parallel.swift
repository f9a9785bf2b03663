import Dispatch

/// Deterministic parallel loops: work is split into chunks whose size does not depend on the
/// thread count, each chunk is processed by one thread, and reductions combine per-chunk
/// partials in chunk order, so results are the same bytes for any number of threads.
public enum Parallel {
    /// Worker threads for the engine's own loops (OpenBLAS threads are set by `BLAS.setThreads`).
    nonisolated(unsafe) public static var threads: Int = 1

    /// Calls `body(range)` for consecutive ranges of at most `chunk` indices covering `0..<count`.
    /// Bodies must write disjoint memory.
    @inlinable
    public static func forEachChunk(count: Int, chunk: Int, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let chunk = max(chunk, 1)
        let n = (count + chunk - 1) / chunk
        if threads <= 1 || n == 1 {
            var lo = 0
            while lo < count { body(lo..<min(lo + chunk, count)); lo += chunk }
            return
        }
        let workers = min(threads, n)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var c = w
            while c < n {
                let lo = c * chunk
                body(lo..<min(lo + chunk, count))
                c += workers
            }
        }
    }

    /// Calls `body(i)` for each `i` in `0..<count`, parallelised over `threads` workers in a fixed
    /// interleaving. Bodies must write disjoint memory.
    @inlinable
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        forEachChunk(count: count, chunk: 1) { r in for i in r { body(i) } }
    }

    /// Suggested chunk so that an elementwise loop over `count` elements has a few chunks per
    /// thread but never tiny ones. Depends only on `count` (determinism).
    @inlinable
    public static func elementChunk(_ count: Int) -> Int { max(16_384, (count + 15) / 16) }
}
