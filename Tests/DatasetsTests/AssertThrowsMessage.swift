import Foundation
import XCTest

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
