import Dispatch
import Foundation

/// Deterministic parallel loops: work is split into chunks whose size does not depend on the
/// thread count, each chunk is processed by one thread, and reductions combine per-chunk
/// partials in chunk order, so results are the same bytes for any number of threads.
///
/// Chunks are handed out dynamically (next free chunk to the next free worker), which keeps
/// both cores busy when the machine is shared; which thread runs a chunk never changes its
/// result. A loop started inside another loop's body runs serially on the calling worker (same
/// chunks, same bytes), so kernels may nest freely: e.g. `BLAS.sgemm` called per image chunk.
public enum Parallel {
    /// Worker threads for the engine's own loops started on the calling thread, GEMM splits
    /// included; 1 until set. Per calling thread (a pthread key), so two engines in one process
    /// do not share it: `EngineContext.run` sets it for a model's passes (`withThreads`).
    public static var threads: Int {
        get { ParallelRegion.threads }
        set { ParallelRegion.threads = max(1, newValue) }
    }

    /// Runs `body` with `threads = n` on the calling thread, restoring the previous value.
    @inlinable
    public static func withThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        let old = threads
        threads = n
        defer { threads = old }
        return try body()
    }

    /// Calls `body(range)` for consecutive ranges of at most `chunk` indices covering `0..<count`.
    /// Bodies must write disjoint memory.
    @inlinable
    public static func forEachChunk(count: Int, chunk: Int, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let chunk = max(chunk, 1)
        let n = (count + chunk - 1) / chunk
        if threads <= 1 || n == 1 || ParallelRegion.isInside {
            var lo = 0
            while lo < count { body(lo..<min(lo + chunk, count)); lo += chunk }
            return
        }
        let next = ParallelRegion.Counter()
        let workers = min(threads, n)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            ParallelRegion.enter()
            defer { ParallelRegion.leave() }
            while true {
                let c = next.take()
                if c >= n { break }
                let lo = c * chunk
                body(lo..<min(lo + chunk, count))
            }
        }
    }

    /// Calls `body(i)` for each `i` in `0..<count`, parallelised over `threads` workers.
    /// Bodies must write disjoint memory.
    @inlinable
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        forEachChunk(count: count, chunk: 1) { r in for i in r { body(i) } }
    }

    /// Suggested chunk so that an elementwise loop over `count` elements has a few chunks per
    /// thread but never tiny ones. Depends only on `count` (determinism).
    @inlinable
    public static func elementChunk(_ count: Int) -> Int { max(16_384, (count + 15) / 16) }
}

/// Bookkeeping of `Parallel`'s regions: the shared chunk counter and a per-thread "inside a
/// region" mark (a pthread key), so nested loops run serially instead of oversubscribing.
public enum ParallelRegion {
    /// Hands out chunk indices 0, 1, 2, … to whichever worker asks next.
    public final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLock()
        public init() {}
        /// The next chunk index.
        public func take() -> Int {
            lock.lock()
            defer { lock.unlock() }
            let v = value
            value += 1
            return v
        }
    }

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        precondition(pthread_key_create(&k, nil) == 0, "Parallel: pthread_key_create failed")
        return k
    }()
    /// The calling thread's `Parallel.threads`, stored as the key's pointer value (0 = unset = 1).
    private static let threadsKey: pthread_key_t = {
        var k = pthread_key_t()
        precondition(pthread_key_create(&k, nil) == 0, "Parallel: pthread_key_create failed")
        return k
    }()

    /// Backing store of `Parallel.threads` on the calling thread.
    public static var threads: Int {
        get { max(1, Int(bitPattern: pthread_getspecific(threadsKey))) }
        set { pthread_setspecific(threadsKey, UnsafeRawPointer(bitPattern: max(1, newValue))) }
    }
    private static let mark = UnsafeMutableRawPointer(bitPattern: 1)!

    /// Whether the calling thread is running a chunk of a parallel loop.
    public static var isInside: Bool { pthread_getspecific(key) != nil }
    /// Marks the calling thread as running chunks (restores with `leave`).
    public static func enter() { pthread_setspecific(key, mark) }
    /// Clears the mark of `enter`.
    public static func leave() { pthread_setspecific(key, nil) }
}
