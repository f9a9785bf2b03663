import XCTest
@testable import Engine

/// The buffer pool's size classes and its bound: steps whose shapes vary (a detector's) reuse
/// each other's buffers, and sizes that stop occurring are freed.
final class BufferPoolTests: XCTestCase {
    func testSizeClassesRoundUpByAtMostAnEighth() {
        for n in [1, 7, 4096] { XCTAssertEqual(BufferPool.capacity(for: n), n) }
        XCTAssertEqual(BufferPool.capacity(for: 0), 1)
        var classes = Set<Int>()
        for n in 4097...70_000 {
            let c = BufferPool.capacity(for: n)
            XCTAssertGreaterThanOrEqual(c, n)
            XCTAssertLessThanOrEqual(Double(c - n), Double(n) / 8, "\(n) → \(c)")
            classes.insert(c)
        }
        XCTAssertLessThan(classes.count, 40, "about eight classes per octave")
    }

    func testVaryingSizesReuseBuffersAndThePoolStaysNearThePeakInUse() {
        let pool = BufferPool()
        // Sizes that vary a little reuse one buffer of their class.
        let a = pool.take(100_000)
        pool.give(a, 100_000)
        let b = pool.take(100_003)
        XCTAssertEqual(a, b, "the same size class")
        pool.give(b, 100_003)
        // A steady state (the same buffers every step) keeps all of them.
        for _ in 0..<3 {
            let xs = [50_000, 70_000, 90_000].map { pool.take($0) }
            for (x, n) in zip(xs, [50_000, 70_000, 90_000]) { pool.give(x, n) }
        }
        XCTAssertEqual(pool.peakLiveFloats, [50_000, 70_000, 90_000].map(BufferPool.capacity(for:)).reduce(0, +))
        XCTAssertEqual(pool.pooledFloats, pool.peakLiveFloats + BufferPool.capacity(for: 100_000), "every buffer kept")
        XCTAssertEqual(pool.liveFloats, 0)
        // A thousand distinct sizes, one at a time: the pool never holds more than its bound.
        for k in 0..<1000 {
            let n = 5000 + 997 * k
            pool.give(pool.take(n), n)
            XCTAssertLessThanOrEqual(pool.pooledFloats, pool.peakLiveFloats * BufferPool.boundFactor, "size \(n)")
        }
        XCTAssertEqual(pool.liveFloats, 0)
    }

    /// An inference-like step: each activation is given back before the next but one is taken,
    /// so the step cycles through three times its peak in use; the next step gets the same
    /// buffers back (nothing freed and mapped afresh, no page faults per step).
    func testAStepThatCyclesThroughSeveralTimesItsPeakKeepsItsBuffers() {
        let pool = BufferPool()
        let sizes = [100_000, 90_000, 80_000, 70_000, 60_000, 50_000]
        func step() -> [UnsafeMutablePointer<Float>] {
            var got: [UnsafeMutablePointer<Float>] = [], previous: (UnsafeMutablePointer<Float>, Int)? = nil
            for n in sizes {
                let p = pool.take(n)
                got.append(p)
                if let (q, m) = previous { pool.give(q, m) }
                previous = (p, n)
            }
            pool.give(previous!.0, previous!.1)
            return got
        }
        let first = step()
        XCTAssertGreaterThan(pool.pooledFloats, 2 * pool.peakLiveFloats, "the step cycles through more than twice its peak")
        for _ in 0..<3 { XCTAssertEqual(Set(step()), Set(first), "a later step allocated afresh") }
        XCTAssertEqual(pool.liveFloats, 0)
    }
}
