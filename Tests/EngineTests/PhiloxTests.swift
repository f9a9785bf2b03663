import XCTest
@testable import Engine

final class PhiloxTests: XCTestCase {
    /// Known-answer tests from the Random123 distribution (kat_vectors, philox4x32_10).
    func testKnownAnswers() {
        let zero = Philox(seed: 0, stream: 0).block(0)
        XCTAssertEqual([zero.0, zero.1, zero.2, zero.3], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        let ones = Philox(seed: 0xffff_ffff_ffff_ffff, stream: 0xffff_ffff_ffff_ffff).block(0xffff_ffff_ffff_ffff)
        XCTAssertEqual([ones.0, ones.1, ones.2, ones.3], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
    }

    func testPermutationIsAPermutationAndDependsOnStream() {
        let p = Philox(seed: 3, purpose: .shuffle, index: 1).permutation(1000)
        XCTAssertEqual(p.sorted(), Array(0..<1000))
        XCTAssertNotEqual(p, Philox(seed: 3, purpose: .shuffle, index: 2).permutation(1000))
        XCTAssertEqual(p, Philox(seed: 3, purpose: .shuffle, index: 1).permutation(1000))
    }

    func testNormalMoments() {
        let r = Philox(seed: 1, purpose: .test)
        let xs = (0..<100_000).map { r.normal(UInt64($0)) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
    }
}
