import Foundation
import XCTest

/// A fresh temporary folder per test, removed on deinit.
final class TempFolder {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("rkan-datasets-\(UUID().uuidString)", isDirectory: true)
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` to `name` (creating sub-folders) and returns its URL.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> URL {
        let file = url.appendingPathComponent(name)
        try! FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try! Data(bytes).write(to: file)
        return file
    }
}

/// Runs `body`, expecting a `DatasetError` whose message contains every string of `parts`.
func assertThrowsMessage<T>(_ body: @autoclosure () throws -> T, contains parts: [String],
                            file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(parts)", file: file, line: line)
    } catch {
        let message = "\(error)"
        for p in parts where !message.contains(p) {
            XCTFail("error message «\(message)» does not contain «\(p)»", file: file, line: line)
        }
    }
}
