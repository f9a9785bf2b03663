import Foundation

/// Fashion-MNIST (Xiao et al., 2017) and MNIST in their official gzip IDX layout:
/// `{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`, 28×28 grey images, 10 classes.
public enum FashionMNIST {
    /// Where the Debian package `dataset-fashion-mnist` installs the files.
    public static let systemFolder = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist", isDirectory: true)
    /// How to get the data, printed when it is missing.
    public static let installHint = "install it with: apt-get install dataset-fashion-mnist (or pass --data DIR)"
    /// Channel mean and std of the training images (pixels / 255), for `Normalize`.
    public static let mean: [Float] = [0.2860]
    public static let std: [Float] = [0.3530]

    /// The folder used when none is given: `$RKAN_DATA/fashion-mnist` if it exists, else
    /// `/usr/share/datasets/fashion-mnist`.
    public static var defaultFolder: URL {
        let local = DataRoot.default.appendingPathComponent("fashion-mnist", isDirectory: true)
        return DataRoot.isDirectory(local) ? local : systemFolder
    }

    /// Loads one split into memory.
    /// - Parameters:
    ///   - folder: folder holding the four `.gz` files, or a data root with a `fashion-mnist`
    ///     sub-folder; `nil` for `defaultFolder`.
    ///   - split: `.train` (60 000 images) or `.test` (10 000).
    /// - Returns: an in-memory dataset of `(N, 28, 28, 1)` bytes.
    /// - Throws: `DatasetError.missing` naming the folder, the files and the install command;
    ///   `.corrupt` naming the file for a truncated or malformed file.
    public static func load(folder: URL? = nil, split: Split) throws -> InMemoryDataset {
        try IDXDataset.load(name: "fashion-mnist", folder: folder ?? defaultFolder, split: split, hint: installHint)
    }
}

/// MNIST (LeCun et al.) in the same layout as Fashion-MNIST; no default location.
public enum MNIST {
    public static let installHint = "download the four .gz files from https://yann.lecun.com/exdb/mnist/ (or pass --data DIR)"
    public static let mean: [Float] = [0.1307]
    public static let std: [Float] = [0.3081]

    /// Loads one split; `folder` defaults to `$RKAN_DATA/mnist`. See `FashionMNIST.load`.
    public static func load(folder: URL? = nil, split: Split) throws -> InMemoryDataset {
        let folder = folder ?? DataRoot.default.appendingPathComponent("mnist", isDirectory: true)
        return try IDXDataset.load(name: "mnist", folder: folder, split: split, hint: installHint)
    }
}

/// Shared reader for datasets stored as a pair of IDX files per split (MNIST family).
public enum IDXDataset {
    /// The file names of a split: (images, labels).
    public static func fileNames(_ split: Split) -> (images: String, labels: String) {
        let prefix = split == .train ? "train" : "t10k"
        return ("\(prefix)-images-idx3-ubyte.gz", "\(prefix)-labels-idx1-ubyte.gz")
    }

    /// Loads the images and labels of `split` from `folder` (or `folder/name`).
    /// - Throws: `DatasetError` (missing files, corrupt files, counts that disagree, labels ≥ 10).
    public static func load(name: String, folder: URL, split: Split, hint: String) throws -> InMemoryDataset {
        let files = fileNames(split)
        var dir = folder
        let present = { (d: URL) in DataRoot.isFile(d.appendingPathComponent(files.images)) && DataRoot.isFile(d.appendingPathComponent(files.labels)) }
        if !present(dir) && present(folder.appendingPathComponent(name, isDirectory: true)) {
            dir = folder.appendingPathComponent(name, isDirectory: true)
        }
        guard present(dir) else {
            let all = Split.allCases.flatMap { [fileNames($0).images, fileNames($0).labels] }
            throw DatasetError.missing(dataset: name, folder: folder.path, expected: all, hint: hint)
        }
        let imageURL = dir.appendingPathComponent(files.images), labelURL = dir.appendingPathComponent(files.labels)
        let images = try IDX.readImages(imageURL)
        let labels = try IDX.readLabels(labelURL)
        guard images.count == labels.count else {
            throw DatasetError.corrupt(file: labelURL.path, problem: "\(labels.count) labels for \(images.count) images in \(imageURL.lastPathComponent)")
        }
        if let bad = labels.firstIndex(where: { $0 >= 10 }) {
            throw DatasetError.corrupt(file: labelURL.path, problem: "label \(labels[bad]) of sample \(bad) is not below 10")
        }
        return try InMemoryDataset(name: "\(name)/\(split.rawValue)", classes: 10, channels: 1,
                                   height: images.rows, width: images.cols, pixels: images.pixels, labels: labels)
    }
}
