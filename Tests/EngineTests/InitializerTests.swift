import XCTest
import Foundation
@testable import Engine

/// Initializers drawn by `ParameterStore.initialize` whose arithmetic is the engine's own.
final class InitializerTests: XCTestCase {
    func testInverseErfInvertsErf() {
        for y in stride(from: -0.999999, through: 0.999999, by: 0.0137) {
            let x = InverseErf.value(y)
            XCTAssertEqual(erf(x), y, accuracy: 4e-16 + 2e-15 * abs(y), "erfinv(\(y)) = \(x)")
        }
        XCTAssertEqual(InverseErf.value(0), 0)
        XCTAssertEqual(InverseErf.value(0.5), 0.4769362762044699, accuracy: 1e-15)   // tabulated
        XCTAssertEqual(InverseErf.value(1), .infinity)
        XCTAssertTrue(InverseErf.value(1.5).isNaN)
    }

    /// torch's `trunc_normal_(std=1, a=-2, b=2)`: every value inside the bounds, mean 0 and the
    /// truncated distribution's std (0.8796 for ±2σ) within 4 standard errors, and deterministic.
    func testTruncatedNormalHasTheTruncatedDistribution() {
        func draw(seed: UInt64) -> [Float] {
            let store = ParameterStore()
            let p = store.weight("w", shape: [20_000], initializer: .truncatedNormal(std: 1, low: -2, high: 2))
            store.finalize()
            store.initialize(seed: seed)
            return Array(UnsafeBufferPointer(start: p.value, count: p.count))
        }
        let v = draw(seed: 5).map(Double.init), n = Double(v.count)
        XCTAssertTrue(v.allSatisfy { $0 >= -2 && $0 <= 2 })
        let mean = v.reduce(0, +) / n, std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
        // Var of N(0,1) on [−2, 2]: 1 − 2·2·φ(2)/(Φ(2) − Φ(−2)).
        let phi2 = exp(-2.0) / (2 * Double.pi).squareRoot(), mass = erf(2 / 2.0.squareRoot())
        let expected = (1 - 4 * phi2 / mass).squareRoot()
        XCTAssertEqual(expected, 0.8796, accuracy: 1e-4)
        XCTAssertEqual(mean, 0, accuracy: 4 * expected / n.squareRoot())
        XCTAssertEqual(std, expected, accuracy: 4 * expected / (2 * n).squareRoot())
        XCTAssertGreaterThan(v.filter { abs($0) > 1.9 }.count, 0, "the tails up to the bounds are drawn")
        XCTAssertEqual(draw(seed: 5), draw(seed: 5).map { $0 })
        XCTAssertNotEqual(draw(seed: 5), draw(seed: 6))
    }
}
