import Foundation
import XCTest
@testable import Datasets
import Engine

/// `DatasetName.transforms`: the reference notebook's per-dataset pipeline. Photos (ImageNet,
/// Food-101) take a RandomResizedCrop for training and Resize(shorter side) + CenterCrop for
/// evaluation, ImageNet 256 → 224, Food-101 200 → 160 (1.25×); fixed-size datasets are resized
/// (bicubic) only when the run's size differs. Checked as settings and on a tiny JPEG folder.
final class PhotoPipelineTests: XCTestCase {
    func testPhotoDatasetsCropForTrainingAndResizeThenCenterCropForEvaluation() {
        let imagenet = DatasetName.imagenet.transforms(imageSize: 224, storedHeight: 224, storedWidth: 224, training: false)
        XCTAssertEqual(imagenet.resizeShorter, 256)
        XCTAssertEqual(imagenet.centerCrop, 224)
        XCTAssertNil(imagenet.resize)
        XCTAssertNil(imagenet.randomResizedCrop)
        XCTAssertEqual(imagenet.mean, [0.485, 0.456, 0.406])
        XCTAssertEqual(imagenet.std, [0.229, 0.224, 0.225])
        let food = DatasetName.food101.transforms(imageSize: 160, storedHeight: 224, storedWidth: 224, training: false)
        XCTAssertEqual(food.resizeShorter, 200, "Resize(int(160 · 1.25))")
        XCTAssertEqual(food.centerCrop, 160)
        let train = DatasetName.food101.transforms(imageSize: 160, storedHeight: 224, storedWidth: 224, training: true)
        XCTAssertEqual(train.randomResizedCrop, 160)
        XCTAssertNil(train.resize, "the crop reads the photo at its stored size")
        XCTAssertNil(train.resizeShorter)
        XCTAssertNil(train.centerCrop)
        XCTAssertFalse(train.hflip, "augmentation is the suite's, added by the caller")
    }

    func testFixedSizeDatasetsResizeOnlyToAnotherSize() {
        let native = DatasetName.cifar100.transforms(imageSize: 32, storedHeight: 32, storedWidth: 32, training: true)
        XCTAssertNil(native.resize)
        XCTAssertFalse(native.usesNativeSize)
        let upscaled = DatasetName.tinyImageNet.transforms(imageSize: 160, storedHeight: 64, storedWidth: 64, training: false)
        XCTAssertEqual(upscaled.resize, 160)
        XCTAssertEqual(upscaled.interpolation, .bicubic)
        XCTAssertNil(upscaled.centerCrop)
        XCTAssertEqual(DatasetName.fashionMNIST.transforms(imageSize: 28, storedHeight: 28, storedWidth: 28, training: false).mean,
                       FashionMNIST.mean)
    }

    /// Two flat-coloured 300×200 JPEGs through the evaluation pipeline at 64: shorter side 200 →
    /// 64·256/224 = 73, centre crop 64, then (v/255 − mean)/std per channel. A flat image stays
    /// flat through resizing and cropping, so every output value is the normalised colour.
    func testEvaluationBatchOfATinyPhotoFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("photo-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let colours: [[UInt8]] = [[200, 120, 40], [30, 90, 160]]
        var files: [URL] = []
        for (i, rgb) in colours.enumerated() {
            let px = (0..<300 * 200).flatMap { _ in rgb }
            let url = folder.appendingPathComponent("\(i).jpg")
            try Data(JPEG.encode(px, width: 300, height: 200, components: 3, quality: 95)).write(to: url)
            files.append(url)
        }
        let decoded = try files.map { try JPEG.decode(contentsOf: $0).pixels }
        let data = ImageFileDataset(name: "photos", classes: 2, height: 224, width: 224, files: files, labels: [0, 1])
        let aug = DatasetName.imagenet.transforms(imageSize: 64, storedHeight: 224, storedWidth: 224, training: false)
        XCTAssertEqual(aug.resizeShorter, 73)
        let loader = try BatchLoader(dataset: data, batchSize: 2, seed: 0, epoch: 0, shuffle: false, dropLast: false,
                                     augment: aug, workers: 0)
        let batch = try XCTUnwrap(try loader.next())
        XCTAssertEqual(batch.images.shape, [2, 64, 64, 3])
        XCTAssertEqual(batch.labels, [0, 1])
        let mean = DatasetName.imagenet.mean, std = DatasetName.imagenet.std
        for n in 0..<2 {
            for c in 0..<3 {
                let expected = (Float(decoded[n][c]) / 255 - mean[c]) / std[c]
                for p in stride(from: 0, to: 64 * 64, by: 97) {
                    XCTAssertEqual(batch.images.data[(n * 64 * 64 + p) * 3 + c], expected, accuracy: 2 / 255 / std[c],
                                   "image \(n), pixel \(p), channel \(c)")
                }
            }
        }
    }
}
