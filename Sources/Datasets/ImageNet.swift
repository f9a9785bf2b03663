import Foundation

/// ImageNet-1k (ILSVRC 2012) in the ImageFolder layout torchvision's examples use:
///
///     imagenet/train/<wnid>/*.JPEG     1 281 167 images, 1000 folders
///     imagenet/val/<wnid>/*.JPEG       50 000 images (the validation set sorted into class folders)
///
/// Classes are the sorted folder names of `train/`; samples are ordered by class then file name,
/// as `ImageFolder` orders them. Images are decoded lazily: `pixels(at:)` gives a `size × size`
/// bilinear squash, the augmentation pipeline reads them at their stored size
/// (`RandomResizedCrop(224)`, `Resize(256)` + `CenterCrop(224)`).
public enum ImageNet {
    public static let folderName = "imagenet"
    public static let hint = "put ILSVRC2012 train/ and val/ (val sorted into <wnid>/ folders, e.g. with the valprep.sh script of the PyTorch examples) into DATA/imagenet/ (or pass --data DIR)"
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    public static let std: [Float] = [0.229, 0.224, 0.225]

    /// Indexes one split.
    /// - Parameters:
    ///   - folder: a data root holding `imagenet/`, or that folder; `nil` for `DataRoot.default`.
    ///   - split: `.train` or `.test` (the validation set).
    ///   - size: side of the fixed-size view `pixels(at:)` gives.
    /// - Throws: `DatasetError.missing` naming the absent folders, `.wrongFormat` for a flat
    ///   `val/`, `.corrupt` for a validation folder that is not a training class.
    public static func load(folder: URL? = nil, split: Split, size: Int = 224) throws -> ImageFileDataset {
        let dir = try DataRoot.locate(folder ?? DataRoot.default, folderName: folderName, marker: "train/",
                                      required: ["train/", "val/"], dataset: "imagenet", hint: hint)
        let train = dir.appendingPathComponent("train", isDirectory: true)
        let wnids = try subfolders(train)
        guard !wnids.isEmpty else {
            throw DatasetError.missing(dataset: "imagenet", folder: train.path, expected: ["one folder per class (<wnid>/)"], hint: hint)
        }
        let base = split == .train ? train : dir.appendingPathComponent("val", isDirectory: true)
        if split == .test {
            let folders = try subfolders(base)
            if folders.isEmpty, try !TinyImageNet.listJPEGs(base).isEmpty {
                throw DatasetError.wrongFormat(folder: base.path, found: "the validation images directly in val/",
                                               hint: "sort them into val/<wnid>/ folders (valprep.sh of the PyTorch ImageNet example does it)")
            }
            let known = Set(wnids)
            if let stray = folders.first(where: { !known.contains($0) }) {
                throw DatasetError.corrupt(file: base.appendingPathComponent(stray).path,
                                           problem: "validation class \(stray) has no folder in \(train.path)")
            }
        }
        var files: [URL] = [], labels: [Int32] = []
        for (k, wnid) in wnids.enumerated() {
            let classDir = base.appendingPathComponent(wnid, isDirectory: true)
            guard DataRoot.isDirectory(classDir) else { continue }
            let names = try TinyImageNet.listJPEGs(classDir)
            files += names.map { classDir.appendingPathComponent($0) }
            labels += repeatElement(Int32(k), count: names.count)
        }
        return ImageFileDataset(name: "imagenet/\(split.rawValue)", classes: wnids.count, height: size, width: size,
                                files: files, labels: labels)
    }

    /// Sorted names of the sub-folders of `dir`.
    static func subfolders(_ dir: URL) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: dir.path)
                .filter { !$0.hasPrefix(".") && DataRoot.isDirectory(dir.appendingPathComponent($0)) }
                .sorted()
        } catch {
            throw DatasetError.unreadable(file: dir.path, reason: (error as NSError).localizedDescription)
        }
    }
}
