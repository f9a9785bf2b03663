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

/// The datasets suites can name, and how to load them from a data folder.
public enum DatasetCatalog {
    static let imagenetMean: [Float] = [0.485, 0.456, 0.406], imagenetStd: [Float] = [0.229, 0.224, 0.225]

    public static func info(_ name: String) -> DatasetInfo? {
        switch name {
        case "fashion-mnist": return DatasetInfo(name: name, classes: 10, channels: 1, nativeSize: 28, mean: FashionMNIST.mean, std: FashionMNIST.std)
        case "mnist": return DatasetInfo(name: name, classes: 10, channels: 1, nativeSize: 28, mean: MNIST.mean, std: MNIST.std)
        case "cifar10": return DatasetInfo(name: name, classes: 10, channels: 3, nativeSize: 32, mean: CIFAR.Variant.cifar10.mean, std: CIFAR.Variant.cifar10.std)
        case "cifar100": return DatasetInfo(name: name, classes: 100, channels: 3, nativeSize: 32, mean: CIFAR.Variant.cifar100.mean, std: CIFAR.Variant.cifar100.std)
        case "tiny-imagenet": return DatasetInfo(name: name, classes: 200, channels: 3, nativeSize: 64, mean: imagenetMean, std: imagenetStd)
        case "food101": return DatasetInfo(name: name, classes: 101, channels: 3, nativeSize: 224, mean: imagenetMean, std: imagenetStd)
        case "imagenet": return DatasetInfo(name: name, classes: 1000, channels: 3, nativeSize: 224, mean: imagenetMean, std: imagenetStd)
        case "coco": return DatasetInfo(name: name, classes: 80, channels: 3, nativeSize: 640, mean: imagenetMean, std: imagenetStd)
        default: return nil
        }
    }

    public static func classes(of name: String) -> Int? { info(name)?.classes }
    public static func channels(of name: String) -> Int? { info(name)?.channels }

    /// Loads one split from `folder` (the `--data` root; nil: the dataset's default location).
    /// - Throws: `DatasetError` naming the expected files and where to get them.
    public static func load(_ name: String, folder: URL?, split: Split) throws -> any ImageDataset {
        switch name {
        case "fashion-mnist":
            return try FashionMNIST.load(folder: folder.map { sub($0, "fashion-mnist") }, split: split)
        case "mnist":
            return try MNIST.load(folder: folder.map { sub($0, "mnist") }, split: split)
        case "cifar10":
            return try CIFAR.load(.cifar10, folder: folder, split: split)
        case "cifar100":
            return try CIFAR.load(.cifar100, folder: folder, split: split)
        default:
            throw HarnessError.unsupported(what: "dataset '\(name)'", detail:
                "no reader for it yet; readers exist for fashion-mnist, mnist, cifar10 and cifar100.")
        }
    }

    /// `root/name` when that folder exists, else `root` itself.
    static func sub(_ root: URL, _ name: String) -> URL {
        let s = root.appendingPathComponent(name, isDirectory: true)
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: s.path, isDirectory: &isDir) && isDir.boolValue ? s : root
    }
}
