import Foundation

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
        case .coco:
            throw DatasetError.invalidRequest("coco is a detection data set: the COCO reader (COCODetectionData) reads it, not the classification loaders")
        }
    }
}
