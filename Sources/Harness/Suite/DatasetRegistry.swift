import Foundation
import Datasets

/// Facts about a suite's dataset: classes, channels, native size, normalisation.
public struct DatasetInfo: Sendable, Equatable {
    public var name: String
    public var classes: Int
    public var channels: Int
    public var nativeSize: Int
    public var mean: [Float]
    public var std: [Float]
}

/// The datasets suites can name: their facts, and loading through the Datasets module.
public enum DatasetRegistry {
    static let imagenetMean: [Float] = [0.485, 0.456, 0.406], imagenetStd: [Float] = [0.229, 0.224, 0.225]

    public static func info(_ name: String) -> DatasetInfo? {
        switch name {
        case "fashion-mnist": return DatasetInfo(name: name, classes: 10, channels: 1, nativeSize: 28, mean: FashionMNIST.mean, std: FashionMNIST.std)
        case "mnist": return DatasetInfo(name: name, classes: 10, channels: 1, nativeSize: 28, mean: MNIST.mean, std: MNIST.std)
        case "cifar10": return DatasetInfo(name: name, classes: 10, channels: 3, nativeSize: 32, mean: CIFAR.Variant.cifar10.mean, std: CIFAR.Variant.cifar10.std)
        case "cifar100": return DatasetInfo(name: name, classes: 100, channels: 3, nativeSize: 32, mean: CIFAR.Variant.cifar100.mean, std: CIFAR.Variant.cifar100.std)
        case "svhn": return DatasetInfo(name: name, classes: 10, channels: 3, nativeSize: 32, mean: SVHN.mean, std: SVHN.std)
        case "tiny-imagenet": return DatasetInfo(name: name, classes: 200, channels: 3, nativeSize: 64, mean: TinyImageNet.mean, std: TinyImageNet.std)
        case "food101": return DatasetInfo(name: name, classes: 101, channels: 3, nativeSize: 224, mean: imagenetMean, std: imagenetStd)
        case "imagenet": return DatasetInfo(name: name, classes: 1000, channels: 3, nativeSize: 224, mean: imagenetMean, std: imagenetStd)
        case "coco": return DatasetInfo(name: name, classes: 80, channels: 3, nativeSize: 640, mean: imagenetMean, std: imagenetStd)
        default: return nil
        }
    }

    public static func classes(of name: String) -> Int? { info(name)?.classes }
    public static func channels(of name: String) -> Int? { info(name)?.channels }

    /// The `--data` folder, when given, must be an existing folder: a file or a missing path
    /// is named as such (one check for `run`, `list` and `data check`).
    /// - Throws: `HarnessError.dataMissing` with the cause and the fix.
    public static func checkDataFolder(_ name: String, _ folder: URL?) throws {
        guard let folder, !DataRoot.isDirectory(folder) else { return }
        let cause = FileManager.default.fileExists(atPath: folder.path)
            ? "--data \(folder.path) is a file, not a folder" : "the data folder \(folder.path) does not exist"
        throw HarnessError.dataMissing(dataset: name, detail:
            "\(cause). Pass --data with the folder that holds the dataset in its official layout (or leave it out for the default location).")
    }

    /// Loads one split from `folder` (the `--data` root; nil: the dataset's default location).
    /// - Throws: `HarnessError.dataMissing` for a `--data` folder that does not exist or a dataset
    ///   without a reader; the reader's `DatasetError` (naming the expected files) otherwise.
    public static func load(_ name: String, folder: URL?, split: Split) throws -> any ImageDataset {
        try checkDataFolder(name, folder)
        guard let known = DatasetName(rawValue: name) else {
            throw HarnessError.unsupported(what: "dataset '\(name)'", detail:
                "rkan-repro has no reader for it yet; readers exist for \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        // JPEG datasets stay lazy: loader workers decode only the images a (subset) epoch uses.
        return try DatasetCatalog.load(known, folder: folder, split: split, inMemory: false)
    }
}
