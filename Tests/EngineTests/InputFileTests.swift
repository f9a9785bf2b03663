import Foundation
import XCTest
import Engine

/// `InputFile`: the kind of a path is checked before it is opened, so a folder, a FIFO or a
/// device is a sentence naming it, never a trap or a read that blocks.
final class InputFileTests: XCTestCase {
    func testRegularFilesReadWholeAndOthersAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inputfile-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for size in [0, 1, 65_536, 200_003] {
            let f = dir.appendingPathComponent("f\(size)")
            let bytes = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            try bytes.write(to: f)
            XCTAssertNil(InputFile.problem(f.path))
            XCTAssertEqual(try InputFile.read(f.path), bytes, "size \(size)")
        }
        XCTAssertThrowsError(try InputFile.read(dir.appendingPathComponent("f200003").path, limit: 1000)) { e in
            XCTAssertTrue("\(e)".contains("200003 bytes"), "\(e)")
        }
        let fifo = dir.appendingPathComponent("fifo")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        let link = dir.appendingPathComponent("link-to-folder")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: dir.path)
        for (path, words) in [(dir.path, "a folder"), (fifo.path, "FIFO"), ("/dev/zero", "character device"), (link.path, "a folder"),
                              (dir.appendingPathComponent("absent").path, "does not exist")] {
            XCTAssertTrue(InputFile.problem(path)?.contains(words) ?? false, "\(path): \(InputFile.problem(path) ?? "nil")")
            XCTAssertThrowsError(try InputFile.read(path)) { e in XCTAssertTrue("\(e)".contains(path) && "\(e)".contains(words), "\(e)") }
        }
        XCTAssertEqual(InputFile.isNonFile(fifo.path), "a FIFO (named pipe)")
        XCTAssertNil(InputFile.isNonFile(dir.appendingPathComponent("f1").path))
        XCTAssertNil(InputFile.isNonFile(dir.appendingPathComponent("absent").path))
    }
}
