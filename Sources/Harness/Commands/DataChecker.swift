import Foundation
import Datasets

/// `rkan-repro data check`: the Datasets module's check (headers, sizes, label ranges, per-class
/// counts against the official ones, optionally decoding every image).
public enum DataChecker {
    public static func check(_ name: String, folder: URL?, decode: Bool = false) throws -> (text: String, ok: Bool) {
        try DatasetName.checkDataFolder(folder, for: name)
        let report = DatasetCheck.run(name: name, folder: folder, decode: decode)
        return (report.description, report.ok)
    }
}
