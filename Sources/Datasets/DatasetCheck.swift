import Foundation

/// What `rkan-repro data check NAME` prints: per split, the sample count, classes, image size
/// and class balance, or the problem that stopped the reader.
public struct DatasetCheckReport: CustomStringConvertible, Sendable {
    /// One split's summary.
    public struct SplitSummary: Sendable {
        public let split: Split
        public let count: Int
        public let classes: Int
        public let height: Int, width: Int, channels: Int
        /// Fewest and most samples of any class.
        public let perClassMin: Int, perClassMax: Int
        /// Images decoded (JPEG datasets with `decode: true`; 0 otherwise).
        public let decoded: Int
    }

    public let name: String
    public let splits: [SplitSummary]
    /// One line per failure (the reader's error message).
    public let problems: [String]
    /// Differences from the official split sizes and class counts (a subset or a partial
    /// download); they do not make the check fail.
    public let warnings: [String]

    /// True when every split loaded without problems.
    public var ok: Bool { problems.isEmpty }

    public var description: String {
        var lines = ["\(name): \(ok ? "ok" : "PROBLEMS")"]
        for s in splits {
            let balance = s.perClassMin == s.perClassMax ? "\(s.perClassMin) per class" : "\(s.perClassMin)–\(s.perClassMax) per class"
            lines.append("  \(s.split.rawValue): \(s.count) images \(s.height)×\(s.width)×\(s.channels), \(s.classes) classes (\(balance))"
                         + (s.decoded > 0 ? ", \(s.decoded) decoded" : ""))
        }
        lines += warnings.map { "  warning: \($0)" }
        lines += problems.map { "  error: \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// Counts and validates a dataset without training on it.
public enum DatasetCheck {
    /// Loads both splits of `name` and summarises them; never throws.
    /// - Parameters:
    ///   - name: a `DatasetName` raw value (`fashion-mnist`, `cifar100`, ...).
    ///   - folder: data root or the dataset's folder; `nil` for the default.
    ///   - decode: also decode every image of lazily-read (JPEG) datasets, to find broken files.
    /// - Returns: the report; `ok` is false when any split failed.
    public static func run(name: String, folder: URL?, decode: Bool = false) -> DatasetCheckReport {
        let dataset: DatasetName
        do { dataset = try DatasetName.parse(name) } catch {
            return DatasetCheckReport(name: name, splits: [], problems: ["\(error)"], warnings: [])
        }
        if dataset.isDetection {
            return DatasetCheckReport(name: name, splits: [], problems: ["\(name) is a detection data set in the COCO layout: `rkan-repro data check coco --data DIR` checks it"], warnings: [])
        }
        var splits: [DatasetCheckReport.SplitSummary] = [], problems: [String] = [], warnings: [String] = []
        let official = dataset.official
        for split in Split.allCases {
            do {
                let ds = try DatasetCatalog.load(dataset, folder: folder, split: split)
                var perClass = [Int](repeating: 0, count: max(ds.classes, 0))
                var outside = 0
                for i in 0..<ds.count {
                    let l = ds.label(at: i)
                    if l >= 0 && l < perClass.count { perClass[l] += 1 } else {
                        if outside == 0 { problems.append("\(split.rawValue): sample \(i) has label \(l), outside 0..<\(ds.classes): the label data is damaged") }
                        outside += 1
                    }
                }
                // Training refuses these (`TrainingData.check`): report them as problems, not warnings.
                if ds.count == 0 { problems.append("\(split.rawValue) holds 0 images: a run would record a loss of 0 and a top-1 of 0 %") }
                if ds.classes > official.classes {
                    problems.append("\(split.rawValue) lists \(ds.classes) classes; \(dataset.rawValue) has \(official.classes), the model's outputs: restore the dataset's own class list")
                } else if ds.classes != official.classes {
                    warnings.append("\(split.rawValue) has \(ds.classes) classes; the official dataset has \(official.classes)")
                }
                var decoded = 0
                if decode, !(ds is InMemoryDataset) {
                    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: ds.imageBytes)
                    defer { buffer.deallocate() }
                    for i in 0..<ds.count {
                        do { try ds.pixels(at: i, into: buffer); decoded += 1 } catch { problems.append("\(error)") }
                    }
                }
                let expected = split == .train ? official.train : official.test
                if ds.count != expected {
                    warnings.append("\(split.rawValue) has \(ds.count) images; the official split has \(expected)")
                }
                splits.append(.init(split: split, count: ds.count, classes: ds.classes, height: ds.height, width: ds.width,
                                    channels: ds.channels, perClassMin: perClass.min() ?? 0, perClassMax: perClass.max() ?? 0,
                                    decoded: decoded))
            } catch {
                problems.append("\(split.rawValue): \(error)")
            }
        }
        return DatasetCheckReport(name: dataset.rawValue, splits: splits, problems: problems, warnings: warnings)
    }
}
