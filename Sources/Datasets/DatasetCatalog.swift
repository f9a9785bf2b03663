import Foundation

/// The datasets this module reads, by the names suite files use (`dataset: {name: cifar100}`).
public enum DatasetName: String, CaseIterable, Sendable {
    case fashionMNIST = "fashion-mnist"
    case mnist
    case cifar10
    case cifar100
    case tinyImageNet = "tiny-imagenet"
    case svhn
    case food101
    case imagenet

    /// Per-channel Normalize mean and std (pixels / 255), as in the reference training script.
    public var mean: [Float] {
        switch self {
        case .fashionMNIST: return FashionMNIST.mean
        case .mnist: return MNIST.mean
        case .cifar10: return CIFAR.Variant.cifar10.mean
        case .cifar100: return CIFAR.Variant.cifar100.mean
        case .tinyImageNet: return TinyImageNet.mean
        case .svhn: return SVHN.mean
        case .food101: return Food101.mean
        case .imagenet: return ImageNet.mean
        }
    }

    public var std: [Float] {
        switch self {
        case .fashionMNIST: return FashionMNIST.std
        case .mnist: return MNIST.std
        case .cifar10: return CIFAR.Variant.cifar10.std
        case .cifar100: return CIFAR.Variant.cifar100.std
        case .tinyImageNet: return TinyImageNet.std
        case .svhn: return SVHN.std
        case .food101: return Food101.std
        case .imagenet: return ImageNet.std
        }
    }

    /// Sample counts of the official splits and the number of classes (`test` is the labelled
    /// validation set where the test set has no labels).
    public var official: (train: Int, test: Int, classes: Int) {
        switch self {
        case .fashionMNIST, .mnist: return (60_000, 10_000, 10)
        case .cifar10: return (50_000, 10_000, 10)
        case .cifar100: return (50_000, 10_000, 100)
        case .tinyImageNet: return (100_000, 10_000, 200)
        case .svhn: return (73_257, 26_032, 10)
        case .food101: return (75_750, 25_250, 101)
        case .imagenet: return (1_281_167, 50_000, 1000)
        }
    }

    /// Parses a name, with an error listing the known ones.
    public static func parse(_ text: String) throws -> DatasetName {
        guard let n = DatasetName(rawValue: text.lowercased()) else {
            throw DatasetError.invalidRequest("unknown dataset «\(text)»; known: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return n
    }
}

/// Loads any known dataset by name.
public enum DatasetCatalog {
    /// Loads one split.
    /// - Parameters:
    ///   - name: which dataset.
    ///   - folder: data root (`--data DIR`) or the dataset's own folder; `nil` for the default
    ///     (`$RKAN_DATA`, or `/usr/share/datasets/fashion-mnist` for Fashion-MNIST).
    ///   - split: train or test.
    ///   - inMemory: decode Tiny ImageNet into memory up front (Food-101 and ImageNet stay lazy:
    ///     their pipelines read each photo at its stored size).
    /// - Throws: the reader's `DatasetError`.
    public static func load(_ name: DatasetName, folder: URL? = nil, split: Split, inMemory: Bool = false) throws -> any ImageDataset {
        switch name {
        case .fashionMNIST:
            // `--data DIR` names a root; without Fashion-MNIST there, the system package's copy
            // (if installed) is used, else the error names DIR.
            if let folder, !DataRoot.isDirectory(folder.appendingPathComponent("fashion-mnist")),
               !DataRoot.isFile(folder.appendingPathComponent(IDXDataset.fileNames(split).images)),
               DataRoot.isFile(FashionMNIST.systemFolder.appendingPathComponent(IDXDataset.fileNames(split).images)) {
                return try FashionMNIST.load(folder: FashionMNIST.systemFolder, split: split)
            }
            return try FashionMNIST.load(folder: folder, split: split)
        case .mnist: return try MNIST.load(folder: folder, split: split)
        case .cifar10: return try CIFAR.load(.cifar10, folder: folder, split: split)
        case .cifar100: return try CIFAR.load(.cifar100, folder: folder, split: split)
        case .tinyImageNet:
            let lazy = try TinyImageNet.load(folder: folder, split: split)
            return inMemory ? try lazy.materialized() : lazy
        case .svhn: return try SVHN.load(folder: folder, split: split)
        case .food101: return try Food101.load(folder: folder, split: split)
        case .imagenet: return try ImageNet.load(folder: folder, split: split)
        }
    }
}
