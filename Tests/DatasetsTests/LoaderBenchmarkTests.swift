import XCTest
@testable import Datasets

final class LoaderBenchmarkTests: XCTestCase {
    /// The benchmark runs every scenario on a few samples and reports positive rates.
    func testRunsAllScenarios() throws {
        let results = try LoaderBenchmark.run(samples: 64, jpegSamples: 6, batchSize: 16, workers: 2, epochs: 1)
        XCTAssertEqual(results.map(\.name), ["cifar32-ra", "jpeg160-ra", "jpeg500-rrc"])
        XCTAssert(results.allSatisfy { $0.imgPerSec > 0 && $0.imgPerSec.isFinite }, "\(results)")
    }
}
