import XCTest
@testable import Datasets

final class SubsetTests: XCTestCase {
    /// Unequal classes: class k has 50 + 7k samples, interleaved.
    let labels: [Int] = (0..<800).map { ($0 * 7 + $0 / 13) % 10 }

    func testBalancedSortedDistinctAndSeeded() throws {
        let s = try classBalancedSubset(labels: labels, classes: 10, count: 200, seed: 1)
        XCTAssertEqual(s.count, 200)
        XCTAssertEqual(s, s.sorted())
        XCTAssertEqual(Set(s).count, 200)
        var per = [Int](repeating: 0, count: 10)
        for i in s { per[labels[i]] += 1 }
        XCTAssertEqual(per, Array(repeating: 20, count: 10))
        XCTAssertEqual(s, try classBalancedSubset(labels: labels, classes: 10, count: 200, seed: 1))
        XCTAssertNotEqual(s, try classBalancedSubset(labels: labels, classes: 10, count: 200, seed: 2))
    }

    func testRemainderGoesToFirstClasses() throws {
        let s = try classBalancedSubset(labels: labels, classes: 10, count: 203, seed: 0)
        var per = [Int](repeating: 0, count: 10)
        for i in s { per[labels[i]] += 1 }
        XCTAssertEqual(per, [21, 21, 21, 20, 20, 20, 20, 20, 20, 20])
    }

    func testClassChoiceFollowsPhiloxPermutation() throws {
        // Independent reference: class k's members in order, take those at the first `quota`
        // positions of Philox(seed, .subset, k).permutation.
        let s = try classBalancedSubset(labels: labels, classes: 10, count: 30, seed: 9)
        var expected: [Int] = []
        for k in 0..<10 {
            let members = labels.indices.filter { labels[$0] == k }
            let p = Philox(seed: 9, purpose: .subset, index: UInt64(k)).permutation(members.count)
            expected += p.prefix(3).map { members[$0] }
        }
        XCTAssertEqual(s, expected.sorted())
    }

    func testTooLargeForAClassThrows() {
        let small = [0, 0, 0, 1]
        assertThrowsMessage(try classBalancedSubset(labels: small, classes: 2, count: 4, seed: 0),
                            contains: ["class 1", "has 1"])
    }
}

import Engine
