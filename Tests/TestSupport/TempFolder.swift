import Foundation

/// A fresh temporary folder `rkan-<name>-<pid>-<random>` (the caller removes it, or uses `TempFolder`).
public func makeTempFolder(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("rkan-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A fresh temporary folder per test, removed on deinit.
public final class TempFolder {
    public let url: URL

    public init(_ name: String = "test") {
        do { url = try makeTempFolder(name) } catch { fatalError("cannot create a temporary folder: \(error)") }
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` to `name` (creating sub-folders) and returns its URL.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) -> URL {
        let file = url.appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: file)
        } catch { fatalError("cannot write \(file.path): \(error)") }
        return file
    }
}
