import Foundation

/// The datasets this module reads, by the names suite files use (`dataset: {name: cifar100}`).
public enum DatasetName: String, CaseIterable, Sendable {
    case fashionMNIST = "fashion-mnist"
    case mnist
    case cifar10
    case cifar100
    case tinyImageNet = "tiny-imagenet"

    /// Per-channel Normalize mean and std (pixels / 255), as in the reference training script.
    public var mean: [Float] {
        switch self {
        case .fashionMNIST: return FashionMNIST.mean
        case .mnist: return MNIST.mean
        case .cifar10: return CIFAR.Variant.cifar10.mean
        case .cifar100: return CIFAR.Variant.cifar100.mean
        case .tinyImageNet: return TinyImageNet.mean
        }
    }

    public var std: [Float] {
        switch self {
        case .fashionMNIST: return FashionMNIST.std
        case .mnist: return MNIST.std
        case .cifar10: return CIFAR.Variant.cifar10.std
        case .cifar100: return CIFAR.Variant.cifar100.std
        case .tinyImageNet: return TinyImageNet.std
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
    ///   - inMemory: decode lazily-read datasets (Tiny ImageNet) into memory up front.
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
        }
    }
}
