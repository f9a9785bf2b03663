import XCTest
@testable import Datasets

final class LoaderBenchmarkTests: XCTestCase {
    /// The rate is over every image of every timed epoch: 70 images in batches of 16 (the
    /// partial last batch of 6 included) over 3 epochs are 210 images, whatever the workers.
    func testMeasureCountsEveryImageOfEveryEpoch() throws {
        let data = try LoaderBenchmark.syntheticImages(count: 70, side: 8)
        let augment = Augment(hflip: true, padCrop: 1, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
        for workers in [0, 2] {
            let m = try LoaderBenchmark.measure(data, augment, batchSize: 16, workers: workers, epochs: 3)
            XCTAssertEqual(m.images, 210, "workers \(workers)")
            XCTAssertTrue(m.rate.isFinite && m.rate > 0, "\(m)")
        }
    }

    /// `only` runs just the named scenarios, in the fixed order.
    func testOnlyRunsTheNamedScenarios() throws {
        let results = try LoaderBenchmark.run(samples: 32, jpegSamples: 4, batchSize: 16, workers: 1, epochs: 1,
                                              only: ["jpeg500-rrc", "cifar32-ra"])
        XCTAssertEqual(results.map(\.name), ["cifar32-ra", "jpeg500-rrc"])
    }
}
