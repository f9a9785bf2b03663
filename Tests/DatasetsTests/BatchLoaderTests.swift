import Engine
import Foundation
import XCTest
@testable import Datasets

final class BatchLoaderTests: XCTestCase {
    /// 37 RGB 8×8 images of pseudo-random bytes, labels i % 5.
    let data: InMemoryDataset = {
        let r = Philox(seed: 42, purpose: .test)
        let px = (0..<37 * 192).map { UInt8(truncatingIfNeeded: r.bits(UInt64($0))) }
        return try! InMemoryDataset(name: "synthetic", classes: 5, channels: 3, height: 8, width: 8,
                                    pixels: px, labels: (0..<37).map { Int32($0 % 5) })
    }()
    let train = Augment(hflip: true, padCrop: 2, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3])

    /// All batches of one epoch: (image bytes, labels, samples).
    func epoch(_ loader: BatchLoader) throws -> [([Float], [Int], [Int])] {
        var out: [([Float], [Int], [Int])] = []
        while let b = try loader.next() { out.append((b.images.array, b.labels, b.samples)) }
        return out
    }

    func testIdenticalBytesForZeroOneAndThreeWorkers() throws {
        for augment in [train, Augment(hflip: true, padCrop: 1, resize: 13, mean: [0, 0, 0], std: [1, 1, 1])] {
            let runs = try [0, 1, 3].map { w in
                try epoch(BatchLoader(dataset: data, batchSize: 5, seed: 7, epoch: 2, shuffle: true, dropLast: false,
                                      augment: augment, workers: w, prefetch: 2))
            }
            XCTAssertEqual(runs[0].count, 8)
            for w in 1..<3 {
                XCTAssertEqual(runs[w].map(\.0), runs[0].map(\.0), "images, workers run \(w)")
                XCTAssertEqual(runs[w].map(\.1), runs[0].map(\.1), "labels, workers run \(w)")
            }
        }
    }

    func testOrderIsThePhiloxPermutationOfTheIndicesAndEpochsDiffer() throws {
        let indices = [3, 4, 8, 9, 10, 20, 21, 30, 31, 36]
        let e1 = try epoch(BatchLoader(dataset: data, indices: indices, batchSize: 4, seed: 5, epoch: 1, shuffle: true,
                                       dropLast: false, augment: train, workers: 2))
        let perm = Philox(seed: 5, purpose: .shuffle, index: 1).permutation(10)
        XCTAssertEqual(e1.flatMap(\.2), perm.map { indices[$0] })
        XCTAssertEqual(e1.flatMap(\.1), perm.map { indices[$0] % 5 })
        let e2 = try epoch(BatchLoader(dataset: data, indices: indices, batchSize: 4, seed: 5, epoch: 2, shuffle: true,
                                       dropLast: false, augment: train, workers: 2))
        XCTAssertNotEqual(e1.flatMap(\.2), e2.flatMap(\.2))
        let again = try epoch(BatchLoader(dataset: data, indices: indices, batchSize: 4, seed: 5, epoch: 1, shuffle: true,
                                          dropLast: false, augment: train, workers: 1))
        XCTAssertEqual(again.map(\.0), e1.map(\.0))
        let plain = try epoch(BatchLoader(dataset: data, indices: indices, batchSize: 4, seed: 5, epoch: 1, shuffle: false,
                                          dropLast: false, augment: train, workers: 0))
        XCTAssertEqual(plain.flatMap(\.2), indices)
    }

    func testDropLast() throws {
        let keep = try BatchLoader(dataset: data, batchSize: 10, seed: 0, epoch: 0, shuffle: true, dropLast: false, augment: train, workers: 2)
        let drop = try BatchLoader(dataset: data, batchSize: 10, seed: 0, epoch: 0, shuffle: true, dropLast: true, augment: train, workers: 2)
        XCTAssertEqual(try epoch(keep).map { $0.1.count }, [10, 10, 10, 7])
        XCTAssertEqual(try epoch(drop).map { $0.1.count }, [10, 10, 10])
        XCTAssertEqual(try keep.batch(3).images.shape, [7, 8, 8, 3])
    }

    /// A sample's augmentation depends only on (seed, epoch, sample index), and equals the
    /// separate transforms driven by the documented draws.
    func testAugmentationMatchesDocumentedDraws() throws {
        let loader = try BatchLoader(dataset: data, batchSize: 6, seed: 11, epoch: 3, shuffle: true, dropLast: true,
                                     augment: train, workers: 2)
        let table = Transforms.normalizeTable(mean: train.mean, std: train.std)
        var flips = 0
        while let batch = try loader.next() {
            for (k, i) in batch.samples.enumerated() {
                let rng = Philox(seed: 11, purpose: .augment, index: 3 << 32 | UInt64(i))
                let top = rng.below(5, 0), left = rng.below(5, 1), flip = rng.uniform(2) < 0.5
                flips += flip ? 1 : 0
                var crop = [UInt8](repeating: 0, count: 192), flipped = crop
                Transforms.crop(&crop, try data.image(at: i), height: 8, width: 8, channels: 3,
                                outHeight: 8, outWidth: 8, top: top - 2, left: left - 2)
                if flip { Transforms.hflip(&flipped, crop, height: 8, width: 8, channels: 3) } else { flipped = crop }
                var expected = [Float](repeating: 0, count: 192)
                Transforms.normalize(&expected, flipped, pixels: 64, channels: 3, table: table)
                XCTAssertEqual(Array(batch.images.array[k * 192..<(k + 1) * 192]), expected, "sample \(i)")
            }
        }
        XCTAssert(flips > 5 && flips < 31, "flip draws look biased: \(flips) of 36")
    }

    func testEvalPipelineIsPlainNormalisation() throws {
        let eval = Augment(mean: [0, 0, 0], std: [1, 1, 1])
        let loader = try BatchLoader(dataset: data, batchSize: 37, seed: 0, epoch: 0, shuffle: false, dropLast: false,
                                     augment: eval, workers: 0)
        let b = try XCTUnwrap(try loader.next())
        XCTAssertEqual(b.images.array, data.pixelData.map { Float($0) / 255 })
        XCTAssertNil(try loader.next())
    }

    /// Dropping or closing a loader whose workers are blocked on a full queue returns promptly.
    func testEarlyStopDoesNotHang() throws {
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { [data, train] in
            for w in [1, 3] {
                let a = try! BatchLoader(dataset: data, batchSize: 2, seed: 0, epoch: 0, shuffle: true, dropLast: true,
                                         augment: train, workers: w, prefetch: 2)
                _ = try! a.next()
                a.close()
                a.close()
                var b: BatchLoader? = try! BatchLoader(dataset: data, batchSize: 2, seed: 0, epoch: 0, shuffle: true,
                                                       dropLast: true, augment: train, workers: w)
                _ = b
                b = nil
            }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success, "loader shutdown hung")
    }

    /// A sample that fails to decode fails its batch with the dataset's message; others still load.
    func testSampleErrorSurfacesInItsBatch() throws {
        struct Broken: ImageDataset {
            let name = "broken", count = 10, classes = 2, channels = 1, height = 2, width = 2
            func label(at i: Int) -> Int { i % 2 }
            func pixels(at i: Int, into out: UnsafeMutablePointer<UInt8>) throws {
                if i == 7 { throw DatasetError.corrupt(file: "img7.jpg", problem: "bad huffman table") }
                out.update(repeating: UInt8(i), count: 4)
            }
        }
        for w in [0, 2] {
            let loader = try BatchLoader(dataset: Broken(), batchSize: 3, seed: 0, epoch: 0, shuffle: false, dropLast: false,
                                         augment: Augment(mean: [0], std: [1]), workers: w)
            XCTAssertEqual(try loader.next()?.labels, [0, 1, 0])
            XCTAssertEqual(try loader.next()?.labels, [1, 0, 1])
            assertThrowsMessage(try loader.next(), contains: ["img7.jpg", "bad huffman table"])
            XCTAssertEqual(try loader.next()?.samples, [9])
        }
    }

    func testBadArgumentsAreErrors() {
        assertThrowsMessage(try BatchLoader(dataset: data, indices: [0, 37], batchSize: 2, seed: 0, epoch: 0, shuffle: false,
                                            dropLast: false, augment: train), contains: ["index 37", "synthetic"])
        assertThrowsMessage(try BatchLoader(dataset: data, batchSize: 2, seed: 0, epoch: 0, shuffle: false, dropLast: false,
                                            augment: Augment(mean: [0.5], std: [0.2])), contains: ["3-channel"])
    }
}
