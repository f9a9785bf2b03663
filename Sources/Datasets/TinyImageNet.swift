import Foundation

/// Tiny ImageNet (CS231n, 200 classes of 64×64 JPEGs) in its official zip layout:
///
///     tiny-imagenet-200/wnids.txt                       one WordNet id per line
///     tiny-imagenet-200/train/<wnid>/images/*.JPEG      500 per class
///     tiny-imagenet-200/val/images/*.JPEG               10 000
///     tiny-imagenet-200/val/val_annotations.txt         file \t wnid \t x0 \t y0 \t x1 \t y1
///
/// Class `k` is the `k`-th wnid in sorted order, and samples are ordered by class then file
/// name: the order of torchvision's `ImageFolder`, which the reference training script uses.
/// `.test` is the labelled validation set (the test images have no labels).
public enum TinyImageNet {
    public static let folderName = "tiny-imagenet-200"
    public static let hint = "download http://cs231n.stanford.edu/tiny-imagenet-200.zip and unzip it into the data folder (or pass --data DIR)"
    /// ImageNet channel statistics, as in the reference script.
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    public static let std: [Float] = [0.229, 0.224, 0.225]

    /// Indexes one split (files are decoded lazily; call `materialized()` to decode all).
    /// - Parameters:
    ///   - folder: a data root holding `tiny-imagenet-200/`, or that folder; `nil` for `DataRoot.default`.
    ///   - split: `.train` (100 000 images) or `.test` (the 10 000 validation images).
    /// - Throws: `DatasetError.missing` naming what is absent, `.corrupt` naming the file and
    ///   line of a bad annotation or an unknown wnid.
    public static func load(folder: URL? = nil, split: Split) throws -> ImageFileDataset {
        let dir = try DataRoot.locate(folder ?? DataRoot.default, folderName: folderName, marker: "wnids.txt",
                                      required: ["wnids.txt", "train/", "val/images/", "val/val_annotations.txt"],
                                      dataset: "tiny-imagenet", hint: hint)
        let wnids = try DataRoot.nameList(dir.appendingPathComponent("wnids.txt"), noun: "class ids")
        let classOf = Dictionary(uniqueKeysWithValues: wnids.enumerated().map { ($1, $0) })
        var files: [URL] = [], labels: [Int32] = []
        switch split {
        case .train:
            for (k, wnid) in wnids.enumerated() {
                let images = dir.appendingPathComponent("train/\(wnid)/images", isDirectory: true)
                guard DataRoot.isDirectory(images) else {
                    throw DatasetError.missing(dataset: "tiny-imagenet", folder: dir.appendingPathComponent("train").path,
                                               expected: ["\(wnid)/images/ (class \(k) of wnids.txt)"], hint: hint)
                }
                let names = try listJPEGs(images)
                files += names.map { images.appendingPathComponent($0) }
                labels += repeatElement(Int32(k), count: names.count)
            }
        case .test:
            let annURL = dir.appendingPathComponent("val/val_annotations.txt")
            var entries: [(Int, String)] = []
            for (n, line) in try lines(annURL).enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
                guard fields.count >= 2 else {
                    throw DatasetError.corrupt(file: annURL.path, problem: "line \(n + 1): expected `file<TAB>wnid<TAB>box`, got «\(line)»")
                }
                guard let k = classOf[String(fields[1])] else {
                    throw DatasetError.corrupt(file: annURL.path, problem: "line \(n + 1): class \(fields[1]) is not in wnids.txt")
                }
                entries.append((k, String(fields[0])))
            }
            entries.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            let images = dir.appendingPathComponent("val/images", isDirectory: true)
            files = entries.map { images.appendingPathComponent($0.1) }
            labels = entries.map { Int32($0.0) }
            if let gone = files.first(where: { !DataRoot.isFile($0) }) {
                throw DatasetError.missing(dataset: "tiny-imagenet", folder: images.path,
                                           expected: [gone.lastPathComponent + " (listed in val_annotations.txt)"], hint: hint)
            }
        }
        return ImageFileDataset(name: "tiny-imagenet/\(split.rawValue)", classes: wnids.count, height: 64, width: 64,
                                files: files, labels: labels)
    }

    /// The lines of a text file.
    static func lines(_ url: URL) throws -> [String] {
        let data = try DataRoot.read(url)
        guard let text = String(data: data, encoding: .utf8) else {
            throw DatasetError.corrupt(file: url.path, problem: "not UTF-8 text")
        }
        return text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
    }

    /// Sorted names of the `.jpeg`/`.jpg` files (any case) in a folder.
    static func listJPEGs(_ dir: URL) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: dir.path)
                .filter { ["jpeg", "jpg"].contains(($0 as NSString).pathExtension.lowercased()) }
                .sorted()
        } catch {
            throw DatasetError.unreadable(file: dir.path, reason: (error as NSError).localizedDescription)
        }
    }
}
