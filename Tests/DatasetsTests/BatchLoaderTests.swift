import Engine
import Foundation
import XCTest
import TestSupport
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
        let plain: [Float] = [0, 0, 0], one: [Float] = [1, 1, 1]
        for augment in [train, Augment(hflip: true, padCrop: 1, resize: 13, mean: plain, std: one),
                        Augment(hflip: true, padCrop: 2, randAugment: RandAugment(ops: 2, magnitude: 9), mean: plain, std: one),
                        Augment(hflip: true, autoAugment: .cifar10, mean: plain, std: one),
                        Augment(hflip: true, randomResizedCrop: 6, autoAugment: .imagenet,
                                randAugment: RandAugment(ops: 3, magnitude: 14), mean: plain, std: one)] {
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

    /// RandAugment/AutoAugment after crop and flip: the bytes of the documented composition.
    func testPixelOpsFollowCropAndFlip() throws {
        let augment = Augment(hflip: true, padCrop: 2, autoAugment: .svhn, randAugment: RandAugment(ops: 2, magnitude: 9),
                              mean: train.mean, std: train.std)
        let loader = try BatchLoader(dataset: data, batchSize: 8, seed: 4, epoch: 1, shuffle: true, dropLast: true,
                                     augment: augment, workers: 2)
        let table = Transforms.normalizeTable(mean: train.mean, std: train.std)
        while let batch = try loader.next() {
            for (k, i) in batch.samples.enumerated() {
                let rng = Augment.stream(seed: 4, epoch: 1, sample: i)
                var a = [UInt8](repeating: 0, count: 192), b = a
                Transforms.crop(&a, try data.image(at: i), height: 8, width: 8, channels: 3, outHeight: 8, outWidth: 8,
                                top: rng.below(5, 0) - 2, left: rng.below(5, 1) - 2)
                if rng.uniform(2) < 0.5 { Transforms.hflip(&b, a, height: 8, width: 8, channels: 3); a = b }
                let result = a.withUnsafeMutableBufferPointer { pa in b.withUnsafeMutableBufferPointer { pb in
                    Array(UnsafeBufferPointer(start: AutoAugmentRunner.apply(pa.baseAddress!, spare: pb.baseAddress!, height: 8,
                            width: 8, channels: 3, rng: rng, autoAugment: .svhn, randAugment: RandAugment(ops: 2, magnitude: 9)),
                                              count: 192))
                } }
                var expected = [Float](repeating: 0, count: 192)
                Transforms.normalize(&expected, result, pixels: 64, channels: 3, table: table)
                XCTAssertEqual(Array(batch.images.array[k * 192..<(k + 1) * 192]), expected, "sample \(i)")
            }
        }
    }

    /// Photos of different sizes: RandomResizedCrop and Resize(s) + CenterCrop read each at its
    /// stored size; batches do not depend on the number of workers and equal the composition of
    /// the documented steps.
    func testNativeSizePipelines() throws {
        let dir = TempFolder()
        let r = Philox(seed: 8, purpose: .test)
        var files: [URL] = []
        for i in 0..<9 {
            let (w, h) = (20 + 7 * (i % 4), 18 + 5 * (i % 3))
            let px = (0..<w * h * 3).map { UInt8(truncatingIfNeeded: Int(r.bits(UInt64(i * 10_000 + $0)) % 64) + 3 * ($0 / 3 % w)) }
            files.append(dir.write("img\(i).jpg", JPEG.encode(px, width: w, height: h, components: 3, quality: 90)))
        }
        let photos = ImageFileDataset(name: "photos", classes: 3, height: 16, width: 16, files: files,
                                      labels: (0..<9).map { Int32($0 % 3) })
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let table = Transforms.normalizeTable(mean: mean, std: std)
        let resampler = PILResampler()
        let trainAug = Augment(hflip: true, randomResizedCrop: 12, randAugment: RandAugment(), mean: mean, std: std)
        let evalAug = Augment(centerCrop: 10, resizeShorter: 13, mean: mean, std: std)
        for augment in [trainAug, evalAug] {
            let runs = try [0, 1, 3].map { w in
                try epoch(BatchLoader(dataset: photos, batchSize: 4, seed: 2, epoch: 5, shuffle: true, dropLast: false,
                                      augment: augment, workers: w, prefetch: 2))
            }
            XCTAssertEqual(runs[1].map(\.0), runs[0].map(\.0))
            XCTAssertEqual(runs[2].map(\.0), runs[0].map(\.0))
            let side = augment.randomResizedCrop ?? 10, per = side * side * 3
            for (batch, (images, _, samples)) in runs[0].enumerated() {
                for (k, i) in samples.enumerated() {
                    let (w, h, px) = try JPEG.decode(contentsOf: files[i])
                    let rng = Augment.stream(seed: 2, epoch: 5, sample: i)
                    var a = [UInt8](repeating: 0, count: per), b = a
                    if augment.randomResizedCrop != nil {
                        let box = RandomResizedCrop.box(height: h, width: w, rng: rng)
                        resampler.resize(&a, outHeight: side, outWidth: side, px, inHeight: h, inWidth: w, channels: 3,
                                         top: box.top, left: box.left, height: box.height, width: box.width,
                                         fullHeight: side, fullWidth: side)
                        if rng.uniform(2) < 0.5 { Transforms.hflip(&b, a, height: side, width: side, channels: 3); a = b }
                        a = a.withUnsafeMutableBufferPointer { pa in b.withUnsafeMutableBufferPointer { pb in
                            Array(UnsafeBufferPointer(start: AutoAugmentRunner.apply(pa.baseAddress!, spare: pb.baseAddress!,
                                    height: side, width: side, channels: 3, rng: rng, autoAugment: nil,
                                    randAugment: RandAugment()), count: per))
                        } }
                    } else {
                        // The whole resized image, then torchvision's centre crop.
                        let (rh, rw) = RandomResizedCrop.shorterSide(13, height: h, width: w)
                        var full = [UInt8](repeating: 0, count: rh * rw * 3)
                        resampler.resize(&full, outHeight: rh, outWidth: rw, px, inHeight: h, inWidth: w, channels: 3,
                                         top: 0, left: 0, height: h, width: w, fullHeight: rh, fullWidth: rw)
                        Transforms.crop(&a, full, height: rh, width: rw, channels: 3, outHeight: 10, outWidth: 10,
                                        top: Transforms.centerOffset(input: rh, output: 10),
                                        left: Transforms.centerOffset(input: rw, output: 10))
                    }
                    var expected = [Float](repeating: 0, count: per)
                    Transforms.normalize(&expected, a, pixels: side * side, channels: 3, table: table)
                    XCTAssertEqual(Array(images[k * per..<(k + 1) * per]), expected, "\(augment) batch \(batch) sample \(i)")
                }
            }
        }
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
        let m: [Float] = [0, 0, 0], s: [Float] = [1, 1, 1]
        for (bad, words) in [(Augment(resizeShorter: 10, mean: m, std: s), ["resizeShorter", "centerCrop"]),
                             (Augment(resize: 8, randomResizedCrop: 8, mean: m, std: s), ["exclude"]),
                             (Augment(randAugment: RandAugment(ops: 2, magnitude: 31), mean: m, std: s), ["RandAugment", "magnitude"]),
                             (Augment(randAugment: RandAugment(ops: 13, magnitude: 9), mean: m, std: s), ["RandAugment"])] {
            assertThrowsMessage(try BatchLoader(dataset: data, batchSize: 2, seed: 0, epoch: 0, shuffle: false,
                                                dropLast: false, augment: bad), contains: words)
        }
    }
}
