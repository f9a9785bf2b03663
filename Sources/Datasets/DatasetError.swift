import Engine
import Foundation

/// Errors raised while finding, reading or checking a dataset.
///
/// Every case names the file or folder involved and, where there is one, the fix, so that the
/// message alone tells a user what to do (`rkan-repro` prints `description` and exits 1).
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// The dataset's folder or some of its files are absent. `hint` says how to get them.
    case missing(dataset: String, folder: String, expected: [String], hint: String)
    /// A file exists but its contents are wrong (bad magic, truncated, label out of range, ...).
    case corrupt(file: String, problem: String)
    /// A file could not be read at all (permissions, I/O error).
    case unreadable(file: String, reason: String)
    /// The data is present in a layout this reader does not take (e.g. CIFAR python pickles).
    case wrongFormat(folder: String, found: String, hint: String)
    /// A request that the data cannot satisfy (e.g. a subset larger than a class).
    case invalidRequest(String)

    public var description: String {
        switch self {
        case let .missing(dataset, folder, expected, hint):
            return "\(dataset): not found in \(folder): expected \(expected.joined(separator: ", ")); \(hint)"
        case let .corrupt(file, problem):
            return "\(file): \(problem)"
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .wrongFormat(folder, found, hint):
            return "\(folder): found \(found), which this reader does not take; \(hint)"
        case let .invalidRequest(detail):
            return detail
        }
    }
}

/// Which half of a dataset to read.
public enum Split: String, Sendable, CaseIterable {
    case train, test
}

/// Where datasets live when the caller does not say: `$RKAN_DATA` if set, else `./data`.
public enum DataRoot {
    /// The root folder that holds one sub-folder per dataset.
    public static var `default`: URL {
        if let env = ProcessInfo.processInfo.environment["RKAN_DATA"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return URL(fileURLWithPath: "data", isDirectory: true)
    }

    /// True when `url` exists and is a directory.
    public static func isDirectory(_ url: URL) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &dir) && dir.boolValue
    }

    /// True when `url` exists and is a regular file (or a link to one).
    public static func isFile(_ url: URL) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &dir) && !dir.boolValue
    }

    /// Whether `entry` (a trailing `/` marks a folder) exists under `dir`.
    static func has(_ dir: URL, _ entry: String) -> Bool {
        let u = dir.appendingPathComponent(entry)
        return entry.hasSuffix("/") ? isDirectory(u) : isFile(u)
    }

    /// The folder of one dataset in its official layout: `root/<folderName>` when that holds
    /// `marker`, else `root` itself (the user named the dataset's own folder).
    /// - Throws: `DatasetError.missing` listing the entries of `required` that are absent (as
    ///   `<folderName>/…` when neither place looks like the dataset).
    static func locate(_ root: URL, folderName: String, marker: String, required: [String],
                       dataset: String, hint: String) throws -> URL {
        let sub = root.appendingPathComponent(folderName, isDirectory: true)
        let dir = has(sub, marker) ? sub : root
        let absent = required.filter { !has(dir, $0) }
        guard absent.isEmpty else {
            throw DatasetError.missing(dataset: dataset, folder: dir == sub ? sub.path : "\(root.path) (no \(folderName)/ inside)",
                                       expected: dir == sub ? absent : required.map { "\(folderName)/\($0)" }, hint: hint)
        }
        return dir
    }

    /// The non-empty lines of a list file (class names, wnids), trimmed and sorted.
    /// - Throws: `DatasetError.corrupt` naming the file when it has none or repeats one.
    static func nameList(_ url: URL, noun: String) throws -> [String] {
        let names = try TinyImageNet.lines(url).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.sorted()
        guard !names.isEmpty, Set(names).count == names.count else {
            throw DatasetError.corrupt(file: url.path, problem: names.isEmpty ? "no \(noun)" : "repeated \(noun)")
        }
        return names
    }

    /// Reads a whole file, turning Foundation's error into a `DatasetError` naming the file.
    public static func read(_ url: URL) throws -> Data {
        do { return try InputFile.read(url.path) } catch let failure as InputFile.Failure {
            throw DatasetError.unreadable(file: url.path, reason: failure.reason)
        }
    }
}
