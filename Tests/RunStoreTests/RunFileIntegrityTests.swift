import Foundation
import RunStore
import XCTest

/// Every part of a run file is covered by a digest: one flipped byte in any of them is found
/// and named; a file of another slot or of the older layout is refused, and a corrupted
/// variable-length string is never read (it crashed HDF5).
final class RunFileIntegrityTests: XCTestCase {
    /// Writes the sample record and flips one bit at `offset(file)`.
    private func damaged(_ offset: (URL) throws -> Int) throws -> URL {
        let url = Samples.folder().appendingPathComponent("seed-3.h5")
        try RunFile.write(Samples.record(), to: url)
        XCTAssertNoThrow(try RunFile.read(url), "the intact file reads")
        let at = try offset(url)
        var bytes = Samples.bytes(url)
        bytes[at] ^= 0x01
        try Data(bytes).write(to: url)
        return url
    }

    private func dataOffset(_ object: String) -> (URL) throws -> Int {
        { url in
            let f = try HDF5File.openReadOnly(url.path)
            defer { try? f.close() }
            return try XCTUnwrap(try f.dataOffset(object), object)
        }
    }

    private func bytesOffset(_ text: String) -> (URL) throws -> Int {
        { url in
            let bytes = Samples.bytes(url), needle = Array(text.utf8)
            return try XCTUnwrap((0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) }, text)
        }
    }

    func testAFlippedBitInEachPartIsNamed() throws {
        let cases: [(String, (URL) throws -> Int, String)] = [
            ("weights", dataOffset("/weights/resnet.fc.weight"), "weights (/weights)"),
            ("optimizer", dataOffset("/optimizer/momentum.resnet.fc.bias"), "optimizer state (/optimizer)"),
            ("epoch", dataOffset("/state/epoch"), "state counters (/state)"),
            ("rng", dataOffset("/state/rng/shuffle"), "state counters (/state)"),
            ("metrics", dataOffset("/metrics/val_top1"), "metrics (/metrics)"),
            ("bench", dataOffset("/bench/infer_img_s"), "bench (/bench)"),
            ("config attribute", bytesOffset(#""lr":0.05"#), FileSeal.structurePart),
            ("experiment attribute", bytesOffset("rkanet18"), FileSeal.structurePart),
        ]
        for (name, offset, part) in cases {
            let url = try damaged(offset)
            XCTAssertThrowsError(try RunFile.read(url), name) { error in
                guard case let RunStoreError.corrupt(path, parts, _) = error else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(path, url.path, name)
                XCTAssertEqual(parts, [part], name)
                XCTAssertTrue("\(error)".contains("move it aside and retrain"), "\(error)")
            }
        }
    }

    func testAttributesAreVerifiedByTheCheapReaderToo() throws {
        let url = try damaged(bytesOffset("running"))
        XCTAssertThrowsError(try RunFile.readAttributes(url)) { error in
            guard case RunStoreError.corrupt = error else { return XCTFail("\(error)") }
        }
    }

    func testAFileOfAnotherSlotIsRefused() throws {
        let url = Samples.folder().appendingPathComponent("seed-3.h5")
        try RunFile.write(Samples.record(), to: url)
        let own = RunSlot(suite: "cifar100", profile: "smoke", experiment: "rkanet18", seed: 3)
        XCTAssertNoThrow(try RunFile.read(url, slot: own))
        var other = own
        other.experiment = "resnet18"
        other.seed = 4
        XCTAssertThrowsError(try RunFile.read(url, slot: other)) { error in
            XCTAssertEqual(error as? RunStoreError, .wrongSlot(path: url.path, mismatches: [
                #"experiment "rkanet18" (slot: "resnet18")"#, "seed 3 (slot: 4)"]))
        }
        XCTAssertThrowsError(try RunFile.readAttributes(url, slot: other))
    }

    /// A file of the `rkan-repro/1` layout: variable-length strings, no content digests.
    private func oldLayoutFile() throws -> URL {
        let url = Samples.folder().appendingPathComponent("seed-0.h5")
        let f = try HDF5File.create(url.path)
        for (k, v) in [("schema", "rkan-repro/1"), ("suite", "cifar100"), ("experiment", "rkanet18"), ("status", "finished"),
                       ("config", String(repeating: "x", count: 200))] {
            try f.setAttribute(k, .string(v), strings: .variable)
        }
        try f.write([Float(1)], shape: [1], to: "/weights/w")
        try f.close()
        return url
    }

    func testTheOlderLayoutIsRefusedWithoutReadingItsStrings() throws {
        let url = try oldLayoutFile()
        XCTAssertThrowsError(try RunFile.read(url)) { error in
            guard case let RunStoreError.wrongSchema(_, found, expected) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(found.contains("rkan-repro/1 or older"), found)
            XCTAssertEqual(expected, "rkan-repro/2")
        }
        // Damage the global heap that holds the strings: its first object's size becomes huge.
        var bytes = Samples.bytes(url)
        let gcol = try XCTUnwrap((0...(bytes.count - 4)).first { bytes[$0..<$0 + 4].elementsEqual(Array("GCOL".utf8)) })
        for i in 0..<8 { bytes[gcol + 24 + i] = 0x7F }
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try RunFile.read(url)) { XCTAssertTrue("\($0)".contains("rkan-repro/1 or older"), "\($0)") }
        // `forward --weights` still reads an old run file's weights (unverified, strings unread).
        XCTAssertEqual(try RunFile.readWeights(url).map(\.key), ["w"])
        let f = try HDF5File.openReadOnly(url.path)
        XCTAssertThrowsError(try f.attribute("config")) { XCTAssertTrue("\($0)".contains("variable-length"), "\($0)") }
    }
}
