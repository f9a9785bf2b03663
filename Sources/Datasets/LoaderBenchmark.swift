import Engine
import Foundation

/// Throughput of the batch loader on synthetic data (a benchmark, not a test; run it from a
/// release build). Each scenario times whole epochs of `BatchLoader` (shuffle, augmentation,
/// normalisation, batching) after the dataset is built; images per second = samples / seconds.
///
/// Scenarios:
/// - `cifar32-ra`: 32×32 in-memory images, pad-crop 4 + flip + RandAugment(2, 9).
/// - `jpeg160-ra`: 160×160 JPEG files in a Tiny-ImageNet-like folder under the temporary
///   directory, decoded per sample, Resize(160, bicubic) + flip + RandAugment(2, 9).
/// - `jpeg500-rrc`: 500×375 JPEG photos (ImageNet-like), RandomResizedCrop(224) + flip +
///   RandAugment(2, 9) at their stored size.
public enum LoaderBenchmark {
    /// Runs every scenario.
    /// - Parameters:
    ///   - samples: images of the in-memory scenario.
    ///   - jpegSamples: files of each JPEG scenario.
    ///   - batchSize: samples per batch.
    ///   - workers: loader threads.
    ///   - epochs: epochs timed per scenario (after one untimed warm-up batch).
    ///   - only: scenario names to run (nil: all).
    /// - Returns: `(name, images per second)` per scenario.
    /// - Throws: what writing the temporary JPEG folder or the loader throws.
    public static func run(samples: Int = 4096, jpegSamples: Int = 512, batchSize: Int = 128, workers: Int = 2,
                           epochs: Int = 2, only: Set<String>? = nil) throws -> [(name: String, imgPerSec: Double)] {
        var results: [(name: String, imgPerSec: Double)] = []
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let ra = RandAugment(ops: 2, magnitude: 9)
        if only?.contains("cifar32-ra") ?? true {
            let data = try syntheticImages(count: samples, side: 32)
            let augment = Augment(hflip: true, padCrop: 4, randAugment: ra, mean: mean, std: std)
            results.append(("cifar32-ra", try measure(data, augment, batchSize: batchSize, workers: workers, epochs: epochs).rate))
        }
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("rkan-loader-bench-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        if only?.contains("jpeg160-ra") ?? true {
            let files = try writeJPEGs(count: jpegSamples, width: 160, height: 160, folder: scratch.appendingPathComponent("tiny"))
            let data = ImageFileDataset(name: "synthetic-160", classes: 10, height: 160, width: 160, files: files,
                                        labels: (0..<files.count).map { Int32($0 % 10) })
            let augment = Augment(hflip: true, resize: 160, interpolation: .bicubic, randAugment: ra, mean: mean, std: std)
            results.append(("jpeg160-ra", try measure(data, augment, batchSize: batchSize, workers: workers, epochs: epochs).rate))
        }
        if only?.contains("jpeg500-rrc") ?? true {
            let files = try writeJPEGs(count: jpegSamples, width: 500, height: 375, folder: scratch.appendingPathComponent("photos"))
            let data = ImageFileDataset(name: "synthetic-500", classes: 10, height: 224, width: 224, files: files,
                                        labels: (0..<files.count).map { Int32($0 % 10) })
            let augment = Augment(hflip: true, randomResizedCrop: 224, randAugment: ra, mean: mean, std: std)
            results.append(("jpeg500-rrc", try measure(data, augment, batchSize: batchSize, workers: workers, epochs: epochs).rate))
        }
        return results
    }

    /// Loads `epochs` full epochs (a partial last batch included) after one untimed batch.
    /// - Returns: the images loaded, and their rate in images per second.
    static func measure(_ data: any ImageDataset, _ augment: Augment, batchSize: Int, workers: Int,
                        epochs: Int) throws -> (images: Int, rate: Double) {
        let warm = try BatchLoader(dataset: data, batchSize: min(batchSize, data.count), seed: 1, epoch: 1_000, shuffle: true,
                                   dropLast: false, augment: augment, workers: 0)
        _ = try warm.batch(0)
        var images = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for e in 0..<epochs {
            let loader = try BatchLoader(dataset: data, batchSize: batchSize, seed: 1, epoch: e, shuffle: true, dropLast: false,
                                         augment: augment, workers: workers)
            while let b = try loader.next() { images += b.labels.count }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        return (images, Double(images) / seconds)
    }

    /// Smooth random-ish RGB images (gradients plus noise), so that the pixel operations see
    /// photo-like histograms.
    static func syntheticImages(count: Int, side: Int) throws -> InMemoryDataset {
        let per = side * side * 3
        var px = [UInt8](repeating: 0, count: count * per)
        let r = Philox(seed: 17, purpose: .benchmark)
        for i in 0..<count {
            let a = Int(r.bits(UInt64(4 * i)) % 200), b = Int(r.bits(UInt64(4 * i + 1)) % 7) + 1
            for p in 0..<side * side {
                let (y, x) = p.quotientAndRemainder(dividingBy: side)
                for c in 0..<3 { px[i * per + p * 3 + c] = UInt8(truncatingIfNeeded: a + b * (x + c * y) + (p * 7919 + i) % 23) }
            }
        }
        return try InMemoryDataset(name: "synthetic-\(side)", classes: 10, channels: 3, height: side, width: side,
                                   pixels: px, labels: (0..<count).map { Int32($0 % 10) })
    }

    /// Writes `count` distinct JPEGs of one size into `folder` (quality 90).
    static func writeJPEGs(count: Int, width: Int, height: Int, folder: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let template = try syntheticImages(count: 1, side: max(width, height)).pixelData
        let side = max(width, height)
        var files: [URL] = []
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<count {
            for y in 0..<height {
                for x in 0..<width {
                    for c in 0..<3 {
                        px[(y * width + x) * 3 + c] = template[(y * side + x) * 3 + c] &+ UInt8(truncatingIfNeeded: 37 * i + 11 * c)
                    }
                }
            }
            let url = folder.appendingPathComponent(String(format: "img_%05d.JPEG", i))
            try Data(JPEG.encode(px, width: width, height: height, components: 3, quality: 90)).write(to: url)
            files.append(url)
        }
        return files
    }
}
