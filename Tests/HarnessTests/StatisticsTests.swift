import Foundation
import XCTest
@testable import Harness

final class StatisticsTests: XCTestCase {
    func testMeanAndSampleStd() {
        XCTAssertEqual(Statistics.mean([1, 2, 3, 4]), 2.5)
        XCTAssertNil(Statistics.mean([]))
        // Σ(x − 5)² = 32 over 8 values → s² = 32 / 7.
        XCTAssertEqual(Statistics.sampleStandardDeviation([2, 4, 4, 4, 5, 5, 7, 9])!, (32.0 / 7).squareRoot(), accuracy: 1e-12)
        XCTAssertNil(Statistics.sampleStandardDeviation([3]))
    }

    func testTQuantileMatchesTables() {
        // Two-sided 95% critical values from printed t tables.
        let table: [(Double, Double)] = [(1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (10, 2.228), (30, 2.042), (120, 1.980)]
        for (dof, expected) in table {
            XCTAssertEqual(Statistics.studentTQuantile(0.975, degreesOfFreedom: dof), expected, accuracy: 5e-4, "dof \(dof)")
        }
        XCTAssertEqual(Statistics.studentTQuantile(0.975, degreesOfFreedom: 1e7), 1.959964, accuracy: 1e-5, "normal limit")
        XCTAssertEqual(Statistics.studentTQuantile(0.995, degreesOfFreedom: 5), 4.032, accuracy: 5e-4)
        XCTAssertEqual(Statistics.studentTQuantile(0.025, degreesOfFreedom: 4), -2.776, accuracy: 5e-4)
    }

    func testTQuantileMatchesClosedForms() {
        for p in [0.6, 0.9, 0.975, 0.995] {
            // ν = 1 is Cauchy: t = tan(π(p − ½)); ν = 2: t = (2p − 1) / √(2p(1 − p)).
            XCTAssertEqual(Statistics.studentTQuantile(p, degreesOfFreedom: 1), tan(Double.pi * (p - 0.5)), accuracy: 1e-9)
            XCTAssertEqual(Statistics.studentTQuantile(p, degreesOfFreedom: 2), (2 * p - 1) / (2 * p * (1 - p)).squareRoot(),
                           accuracy: 1e-9)
            XCTAssertEqual(Statistics.studentTCDF(-1.3, degreesOfFreedom: 3 + p), 1 - Statistics.studentTCDF(1.3, degreesOfFreedom: 3 + p),
                           accuracy: 1e-14)
        }
    }

    func testSummaryInterval() throws {
        // x̄ = 2, s = 1, n = 3: 2 ± 4.302653 / √3 = 2 ± 2.484138.
        let summary = Statistics.summarize([1, 2, 3])
        XCTAssertEqual(summary.n, 3)
        XCTAssertEqual(summary.mean, 2)
        XCTAssertEqual(summary.std!, 1, accuracy: 1e-12)
        let interval = try XCTUnwrap(summary.interval)
        XCTAssertEqual(interval.lower, 2 - 2.484138, accuracy: 1e-5)
        XCTAssertEqual(interval.upper, 2 + 2.484138, accuracy: 1e-5)
        XCTAssertEqual(Statistics.contains(summary, 0.3), true)
        XCTAssertEqual(Statistics.contains(summary, 5), false)
    }

    func testOneValueHasNoInterval() {
        let summary = Statistics.summarize([0.7])
        XCTAssertEqual(summary.mean, 0.7)
        XCTAssertNil(summary.std)
        XCTAssertNil(summary.interval)
        XCTAssertNil(Statistics.contains(summary, 0.7), "no interval, no verdict")
        XCTAssertEqual(ReportFormat.delta(summary), "+0.70 [n/a] (n=1)")
        XCTAssertEqual(ReportFormat.meanStd(summary), "0.70 (n=1)")
        XCTAssertEqual(Statistics.summarize([]).n, 0)
        XCTAssertEqual(ReportFormat.delta(Statistics.summarize([])), "–")
    }

    func testPairedDeltasUseSeedsOnBothSides() {
        let deltas = Statistics.pairedDeltas(rkan: [2: 93, 0: 91, 1: 92], baseline: [0: 90, 2: 92.5, 3: 80])
        XCTAssertEqual(deltas.map(\.seed), [0, 2])
        XCTAssertEqual(deltas.map(\.delta), [1, 0.5])
    }

    func testFormattingIsStable() {
        XCTAssertEqual(ReportFormat.fixed(-0.001, 2), "0.00")
        XCTAssertEqual(ReportFormat.signed(0.004, 2), "0.00")
        XCTAssertEqual(ReportFormat.signed(1.126, 2), "+1.13")
        XCTAssertEqual(ReportFormat.fixed(1.125, 2), "1.12", "exact binary ties round to even (printf)")
        XCTAssertEqual(ReportFormat.signed(-1.5, 1), "-1.5")
        XCTAssertEqual(ReportFormat.grouped(42_705_060), "42,705,060")
        XCTAssertEqual(ReportFormat.grouped(999), "999")
        XCTAssertEqual(ReportFormat.grouped(-1234), "-1,234")
        XCTAssertEqual(ReportFormat.millions(44_283_090), "44.28")
    }
}
