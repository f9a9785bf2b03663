import Foundation
@testable import RunStore
import XCTest

/// The checksum trailer (`FileSeal`): a sealed file whose bytes changed is refused before HDF5
/// parses it, naming the part; a file without the seal is not accepted as a run file.
final class FileSealTests: XCTestCase {
    /// `bytes` (a sealed file) with its seal recomputed over its current HDF5 bytes, same ranges.
    static func resealed(_ bytes: [UInt8]) throws -> [UInt8] {
        let length = bytes[(bytes.count - 16)..<(bytes.count - 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let hdf5 = Array(bytes[0..<(bytes.count - 16 - length)])
        let old = try JSONDecoder().decode(FileSeal.Trailer.self, from: Data(bytes[hdf5.count..<(bytes.count - 16)]))
        let datasets = old.regions.flatMap { r in r.ranges.map { (object: "/\(r.part)/x", offset: $0[0], length: $0[1]) } }
        return hdf5 + FileSeal.trailer(image: hdf5, datasets: datasets)
    }

    private func sealedRunFile(_ name: String = #function) throws -> URL {
        let url = Samples.folder(name).appendingPathComponent("seed-3.h5")
        try RunFile.write(Samples.record(), to: url)
        return url
    }

    private func expectCorrupt(_ url: URL, part: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try RunFile.read(url), message, file: file, line: line) { error in
            guard case let RunStoreError.corrupt(_, parts, _) = error else {
                return XCTFail("\(message): \(error)", file: file, line: line)
            }
            XCTAssertEqual(parts, [part], message, file: file, line: line)
        }
    }

    func testAnIntactFileIsSealedAndReads() throws {
        let url = try sealedRunFile()
        let f = try HDF5File.openReadOnly(url.path)
        XCTAssertTrue(f.sealed)
        try f.close()
        XCTAssertTrue(try FileSeal.verify(path: url.path))
        XCTAssertNoThrow(try RunFile.read(url))
    }

    /// HDF5 metadata (superblock, object headers, link and attribute messages: every byte of the
    /// HDF5 image outside the datasets' stored values) is refused by the seal, so HDF5 never
    /// parses the damaged bytes. Positions: the superblock's signature and version bytes, and 60
    /// more drawn by a fixed generator among the metadata bytes.
    func testDamagedHDF5MetadataIsRefusedBeforeParsing() throws {
        let url = try sealedRunFile()
        let original = Samples.bytes(url)
        let length = original[(original.count - 16)..<(original.count - 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let trailer = try JSONDecoder().decode(FileSeal.Trailer.self, from: Data(original[(original.count - 16 - length)..<(original.count - 16)]))
        let data = trailer.regions.flatMap(\.ranges).map { $0[0]..<($0[0] + $0[1]) }
        let metadata = (0..<trailer.size).filter { i in !data.contains { $0.contains(i) } }
        XCTAssertGreaterThan(metadata.count, 1000, "the sample has metadata to damage")
        var positions = [0, 1, 2, 3, 8, 9]
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for _ in 0..<60 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            positions.append(metadata[Int(state >> 33) % metadata.count])
        }
        for at in positions {
            var bytes = original
            bytes[at] ^= 0xA5
            try Data(bytes).write(to: url)
            expectCorrupt(url, part: FileSeal.structurePart, "metadata byte \(at)")
        }
    }

    /// Removing the trailer (a file cut short by a copy, or rewritten by h5py) is not an intact run file.
    func testAFileWithoutItsSealIsNotAcceptedAsARunFile() throws {
        let url = try sealedRunFile()
        let bytes = Samples.bytes(url)
        let length = bytes[(bytes.count - 16)..<(bytes.count - 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        try Data(bytes[0..<(bytes.count - 16 - length)]).write(to: url)
        XCTAssertFalse(try FileSeal.verify(path: url.path), "no trailer: not sealed")
        expectCorrupt(url, part: "seal (the checksum trailer)", "stripped")
    }

    /// A part's name in the trailer is covered by no checksum: one that names no object of the
    /// file (`we;ghts`) is refused as a damaged seal, not read as if the weights were unsealed.
    func testRenamedPartInTheSealIsRefused() throws {
        let url = try sealedRunFile()
        var bytes = Samples.bytes(url)
        let needle = Array(#""part":"weights""#.utf8)
        let at = try XCTUnwrap((0...(bytes.count - needle.count)).last { bytes[$0..<$0 + needle.count].elementsEqual(needle) })
        bytes[at + needle.count - 6] ^= 0x5A   // the "i" of weights: "we;ghts"
        try Data(bytes).write(to: url)
        expectCorrupt(url, part: "seal (the checksum trailer)", "renamed part")
    }

    /// Every single-byte change anywhere in the file (HDF5 data, metadata, the trailer's JSON,
    /// its length and magic) ends in a `.corrupt` error, never in a read that succeeds and never
    /// in a crash. Positions come from a fixed generator, so the test is repeatable.
    func testEverySingleByteChangeIsRefused() throws {
        let url = try sealedRunFile()
        let original = Samples.bytes(url)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var positions = Array((original.count - 40)..<original.count)  // the trailer's end: length, magic
        for _ in 0..<300 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            positions.append(Int(state >> 33) % original.count)
        }
        for at in positions {
            var bytes = original
            bytes[at] ^= 0x5A
            try Data(bytes).write(to: url)
            XCTAssertThrowsError(try RunFile.read(url), "byte \(at) of \(original.count)") { error in
                guard case RunStoreError.corrupt = error else { return XCTFail("byte \(at): \(error)") }
            }
        }
    }

    /// A seal rewritten consistently (valid JSON, right length) but with a range outside the file
    /// is itself reported, never followed.
    func testASealWithImpossibleRangesIsReported() throws {
        let url = try sealedRunFile()
        let bytes = Samples.bytes(url)
        let length = bytes[(bytes.count - 16)..<(bytes.count - 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let hdf5 = Array(bytes[0..<(bytes.count - 16 - length)])
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[hdf5.count..<(bytes.count - 16)])) as? [String: Any])
        var regions = try XCTUnwrap(json["regions"] as? [[String: Any]])
        regions[0]["ranges"] = [[hdf5.count + 100, 8]]
        json["regions"] = regions
        let edited = [UInt8](try JSONSerialization.data(withJSONObject: json))
        var out: [UInt8] = hdf5 + edited
        withUnsafeBytes(of: UInt64(edited.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array("RKANSEAL".utf8))
        try Data(out).write(to: url)
        XCTAssertThrowsError(try RunFile.read(url)) { error in
            guard case let RunStoreError.corrupt(_, parts, detail) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(parts, ["seal (the checksum trailer)"])
            XCTAssertTrue(detail.contains("outside the file"), detail)
        }
    }
}
