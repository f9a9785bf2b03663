import Foundation

/// Food-101 (101 classes of food photos, up to 512 px) in its official archive layout:
///
///     food-101/meta/classes.txt            one class name per line
///     food-101/meta/train.txt              `class/id` per line, 750 per class (75 750)
///     food-101/meta/test.txt               250 per class (25 250)
///     food-101/images/<class>/<id>.jpg
///
/// Class `k` is the `k`-th name in sorted order and samples keep the order of the split file,
/// as torchvision's `Food101` does. Images are decoded lazily: `pixels(at:)` gives a
/// `size × size` bilinear squash, the augmentation pipeline reads them at their stored size
/// (`RandomResizedCrop`, `Resize(280)` + `CenterCrop(224)` in the reference).
public enum Food101 {
    public static let folderName = "food-101"
    public static let hint = "download http://data.vision.ee.ethz.ch/cvl/food-101.tar.gz and unpack it into the data folder (or pass --data DIR)"
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    public static let std: [Float] = [0.229, 0.224, 0.225]

    /// Indexes one split.
    /// - Parameters:
    ///   - folder: a data root holding `food-101/`, or that folder; `nil` for `DataRoot.default`.
    ///   - split: `.train` or `.test`.
    ///   - size: side of the fixed-size view `pixels(at:)` gives.
    /// - Throws: `DatasetError.missing` naming what is absent (the meta files, a listed image),
    ///   `.corrupt` naming the file and line of a malformed entry or an unknown class.
    public static func load(folder: URL? = nil, split: Split, size: Int = 224) throws -> ImageFileDataset {
        let dir = try DataRoot.locate(folder ?? DataRoot.default, folderName: folderName, marker: "meta/classes.txt",
                                      required: ["meta/classes.txt", "meta/train.txt", "meta/test.txt", "images/"],
                                      dataset: "food101", hint: hint)
        let classes = try DataRoot.nameList(dir.appendingPathComponent("meta/classes.txt"), noun: "class names")
        let classOf = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        let listURL = dir.appendingPathComponent("meta/\(split.rawValue).txt")
        let images = dir.appendingPathComponent("images", isDirectory: true)
        var files: [URL] = [], labels: [Int32] = []
        for (n, raw) in try TinyImageNet.lines(listURL).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let parts = line.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw DatasetError.corrupt(file: listURL.path, problem: "line \(n + 1): expected `class/id`, got «\(line)»")
            }
            guard let k = classOf[String(parts[0])] else {
                throw DatasetError.corrupt(file: listURL.path, problem: "line \(n + 1): class \(parts[0]) is not in classes.txt")
            }
            let file = images.appendingPathComponent("\(line).jpg")
            guard DataRoot.isFile(file) else {
                throw DatasetError.missing(dataset: "food101", folder: images.path,
                                           expected: ["\(line).jpg (line \(n + 1) of meta/\(split.rawValue).txt)"], hint: hint)
            }
            files.append(file)
            labels.append(Int32(k))
        }
        return ImageFileDataset(name: "food101/\(split.rawValue)", classes: classes.count, height: size, width: size,
                                files: files, labels: labels)
    }
}
