import Foundation
import Datasets

/// Loading a suite's dataset for the harness's commands, with errors that name `--data`.
extension DatasetName {
    /// The `--data` folder, when given, must be an existing folder: a file or a missing path
    /// is named as such (one check for `run`, `list` and `data check`).
    /// - Parameters:
    ///   - folder: the `--data` root (nil: the default location, not checked here).
    ///   - name: the dataset as the user wrote it.
    /// - Throws: `HarnessError.dataMissing` with the cause and the fix.
    public static func checkDataFolder(_ folder: URL?, for name: String) throws {
        guard let folder, !DataRoot.isDirectory(folder) else { return }
        let cause = FileManager.default.fileExists(atPath: folder.path)
            ? "--data \(folder.path) is a file, not a folder" : "the data folder \(folder.path) does not exist"
        throw HarnessError.dataMissing(dataset: name, detail:
            "\(cause). Pass --data with the folder that holds the dataset in its official layout (or leave it out for the default location).")
    }

    /// Loads one split from `folder` (the `--data` root; nil: the dataset's default location).
    /// JPEG datasets stay lazy: loader workers decode only the images a (subset) epoch uses.
    /// - Throws: `HarnessError.dataMissing` for a `--data` folder that does not exist,
    ///   `.unsupported` for a dataset without a reader; the reader's `DatasetError` (naming the
    ///   expected files) otherwise.
    public func load(folder: URL?, split: Split) throws -> any ImageDataset {
        try Self.checkDataFolder(folder, for: rawValue)
        guard !isDetection else {
            throw HarnessError.unsupported(what: "dataset '\(rawValue)' as classification images", detail:
                "it is a detection data set, read by the detection runs' COCO reader; classification readers exist for \(Self.allCases.filter { !$0.isDetection }.map(\.rawValue).joined(separator: ", ")).")
        }
        return try DatasetCatalog.load(self, folder: folder, split: split, inMemory: false)
    }
}
