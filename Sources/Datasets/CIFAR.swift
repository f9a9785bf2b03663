import Foundation

/// CIFAR-10 and CIFAR-100 (Krizhevsky, 2009) in their official *binary* layouts.
///
/// - CIFAR-10: `cifar-10-batches-bin/data_batch_{1..5}.bin`, `test_batch.bin`; records of
///   1 label byte + 3072 pixel bytes.
/// - CIFAR-100: `cifar-100-binary/train.bin`, `test.bin`; records of a coarse label byte, a fine
///   label byte, then 3072 pixel bytes. The fine label (100 classes) is the one used.
///
/// Pixels are stored channel-planar (1024 R, 1024 G, 1024 B, rows top to bottom); they are
/// transposed to HWC on load.
public enum CIFAR {
    /// Which CIFAR.
    public enum Variant: String, Sendable {
        case cifar10, cifar100

        /// Folder name of the binary distribution.
        public var folderName: String { self == .cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary" }
        /// Folder name of the python (pickle) distribution, which this reader does not take.
        public var pythonFolderName: String { self == .cifar10 ? "cifar-10-batches-py" : "cifar-100-python" }
        /// Archive to download.
        public var archive: String { self == .cifar10 ? "cifar-10-binary.tar.gz" : "cifar-100-binary.tar.gz" }
        public var classes: Int { self == .cifar10 ? 10 : 100 }
        /// Label bytes per record (CIFAR-100 has coarse and fine labels).
        public var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        public var recordBytes: Int { labelBytes + 3072 }
        public var hint: String {
            "download https://www.cs.toronto.edu/~kriz/\(archive) and unpack it into the data folder (or pass --data DIR)"
        }

        /// The files of one split.
        public func files(_ split: Split) -> [String] {
            switch (self, split) {
            case (.cifar10, .train): return (1...5).map { "data_batch_\($0).bin" }
            case (.cifar10, .test): return ["test_batch.bin"]
            case (.cifar100, .train): return ["train.bin"]
            case (.cifar100, .test): return ["test.bin"]
            }
        }

        /// Per-channel mean and std (pixels / 255) used by the reference training script.
        public var mean: [Float] { self == .cifar10 ? [0.4914, 0.4822, 0.4465] : [0.5071, 0.4867, 0.4408] }
        public var std: [Float] { self == .cifar10 ? [0.2023, 0.1994, 0.2010] : [0.2675, 0.2565, 0.2761] }
    }

    /// Loads one split into memory.
    /// - Parameters:
    ///   - variant: `.cifar10` or `.cifar100`.
    ///   - folder: a data root holding `cifar-10-batches-bin/` (or `cifar-100-binary/`), or that
    ///     folder itself; `nil` for `DataRoot.default`.
    ///   - split: `.train` (50 000 images) or `.test` (10 000).
    /// - Returns: an in-memory dataset of `(N, 32, 32, 3)` bytes.
    /// - Throws: `DatasetError.missing` (files absent), `.wrongFormat` (only the python pickles
    ///   are there: names the binary archive to download), `.corrupt` naming file and record.
    public static func load(_ variant: Variant, folder: URL? = nil, split: Split) throws -> InMemoryDataset {
        let root = folder ?? DataRoot.default
        let dir = try locate(variant, root: root)
        let files = variant.files(split).map { dir.appendingPathComponent($0) }
        var pixels: [UInt8] = [], labels: [Int32] = []
        for file in files { try readBinary(variant, file: file, pixels: &pixels, labels: &labels) }
        return try InMemoryDataset(name: "\(variant.rawValue)/\(split.rawValue)", classes: variant.classes, channels: 3,
                                   height: 32, width: 32, pixels: pixels, labels: labels)
    }

    /// Finds the folder holding the binary files under `root` (or `root` itself).
    static func locate(_ variant: Variant, root: URL) throws -> URL {
        let all = Split.allCases.flatMap { variant.files($0) }
        let complete = { (d: URL) in all.allSatisfy { DataRoot.isFile(d.appendingPathComponent($0)) } }
        let sub = root.appendingPathComponent(variant.folderName, isDirectory: true)
        if complete(sub) { return sub }
        if complete(root) { return root }
        let python = root.appendingPathComponent(variant.pythonFolderName, isDirectory: true)
        let pickleNames = variant == .cifar10 ? ["data_batch_1", "test_batch"] : ["train", "test"]
        for candidate in [python, root] where pickleNames.allSatisfy({ DataRoot.isFile(candidate.appendingPathComponent($0)) }) {
            throw DatasetError.wrongFormat(
                folder: candidate.path, found: "the python (pickle) version of \(variant.rawValue)",
                hint: "download the binary version \(variant.archive) from https://www.cs.toronto.edu/~kriz/\(variant.archive) and unpack it next to it (it creates \(variant.folderName)/)")
        }
        let base = DataRoot.isDirectory(sub) ? sub : root
        let missing = all.filter { !DataRoot.isFile(base.appendingPathComponent($0)) }
        throw DatasetError.missing(dataset: variant.rawValue, folder: base == sub ? sub.path : "\(root.path) (no \(variant.folderName)/ inside)",
                                   expected: DataRoot.isDirectory(sub) ? missing : all.map { "\(variant.folderName)/\($0)" },
                                   hint: variant.hint)
    }

    /// Appends the records of one `.bin` file, transposing CHW pixels to HWC.
    /// - Parameters:
    ///   - pixels: grows by `(records, 32, 32, 3)` bytes.
    ///   - labels: grows by `(records)` labels (the fine label for CIFAR-100).
    /// - Throws: `DatasetError.corrupt` naming the file and the record for a short file or a
    ///   label out of range.
    public static func readBinary(_ variant: Variant, file: URL, pixels: inout [UInt8], labels: inout [Int32]) throws {
        let data = try DataRoot.read(file)
        let rec = variant.recordBytes
        guard data.count % rec == 0, data.count > 0 else {
            throw DatasetError.corrupt(file: file.path, problem: data.isEmpty ? "empty file" :
                "size \(data.count) bytes is not a multiple of the \(rec)-byte \(variant.rawValue) record: record \(data.count / rec) is cut after \(data.count % rec) bytes (truncated download?)")
        }
        let n = data.count / rec
        let base = pixels.count
        pixels.append(contentsOf: repeatElement(0, count: n * 3072))
        labels.reserveCapacity(labels.count + n)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let src = raw.bindMemory(to: UInt8.self).baseAddress!
            try pixels.withUnsafeMutableBufferPointer { dstAll in
                for r in 0..<n {
                    let record = src + r * rec
                    if variant == .cifar100 && record[0] >= 20 {
                        throw DatasetError.corrupt(file: file.path, problem: "record \(r): coarse label \(record[0]) is outside 0..<20")
                    }
                    let label = Int(record[variant.labelBytes - 1])
                    guard label < variant.classes else {
                        throw DatasetError.corrupt(file: file.path, problem: "record \(r): label \(label) is outside 0..<\(variant.classes)")
                    }
                    labels.append(Int32(label))
                    chwToHWC(dstAll.baseAddress! + base + r * 3072, record + variant.labelBytes, channels: 3, plane: 1024)
                }
            }
        }
    }

    /// Transposes channel-planar bytes to interleaved ones.
    /// - Parameters:
    ///   - out: `(plane, channels)` bytes.
    ///   - inp: `(channels, plane)` bytes.
    @inline(__always)
    static func chwToHWC(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>, channels: Int, plane: Int) {
        for c in 0..<channels {
            let p = inp + c * plane
            for i in 0..<plane { out[i * channels + c] = p[i] }
        }
    }
}
