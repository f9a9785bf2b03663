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

    func testVaryingSizesReuseBuffersAndStaleOnesAreFreed() {
        let pool = BufferPool()
        pool.maxAge = 1 << 13
        // Sizes that vary a little reuse one buffer of their class.
        let a = pool.take(100_000)
        pool.give(a, 100_000)
        let b = pool.take(100_003)
        XCTAssertEqual(a, b, "the same size class")
        pool.give(b, 100_003)
        // A thousand distinct sizes given back once each: held while young, freed once stale.
        for k in 0..<1000 { let n = 5000 + 997 * k; pool.give(pool.take(n), n) }
        XCTAssertGreaterThan(pool.pooledFloats, 0)
        for _ in 0..<(1 << 14) { pool.give(pool.take(10), 10) }
        XCTAssertEqual(pool.pooledFloats, 10, "only the size still in use is left")
    }
}
