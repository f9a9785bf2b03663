import Foundation
import XCTest
import TestSupport
@testable import Datasets

final class CIFARTests: XCTestCase {
    /// One CIFAR-100 record: coarse, fine, then R, G, B planes with pixel value = f(c, y, x).
    func record100(coarse: UInt8, fine: UInt8, _ f: (Int, Int, Int) -> UInt8) -> [UInt8] {
        var r = [coarse, fine]
        for c in 0..<3 { for y in 0..<32 { for x in 0..<32 { r.append(f(c, y, x)) } } }
        return r
    }

    func writeCIFAR100(_ dir: TempFolder, train: [[UInt8]], test: [[UInt8]]) {
        dir.write("cifar-100-binary/train.bin", train.flatMap { $0 })
        dir.write("cifar-100-binary/test.bin", test.flatMap { $0 })
    }

    func testCIFAR100FineLabelAndCHWToHWC() throws {
        let dir = TempFolder()
        let f0 = { (c: Int, y: Int, x: Int) in UInt8((c * 85 + y * 7 + x * 3) % 256) }
        let f1 = { (c: Int, y: Int, x: Int) in UInt8(255 - (c * 11 + y + x * 5) % 256) }
        writeCIFAR100(dir, train: [record100(coarse: 3, fine: 57, f0), record100(coarse: 19, fine: 99, f1)],
                      test: [record100(coarse: 0, fine: 0, f0)])
        let ds = try CIFAR.load(.cifar100, folder: dir.url, split: .train)
        XCTAssertEqual([ds.count, ds.height, ds.width, ds.channels, ds.classes], [2, 32, 32, 3, 100])
        XCTAssertEqual(ds.labels, [57, 99])
        for (i, f) in [f0, f1].enumerated() {
            let img = try ds.image(at: i)
            for (y, x) in [(0, 0), (0, 31), (5, 17), (31, 0), (31, 31)] {
                for c in 0..<3 {
                    XCTAssertEqual(img[(y * 32 + x) * 3 + c], f(c, y, x), "image \(i) pixel (\(y),\(x)) channel \(c)")
                }
            }
        }
        // The folder itself (not the root) is accepted too.
        XCTAssertEqual(try CIFAR.load(.cifar100, folder: dir.url.appendingPathComponent("cifar-100-binary"), split: .test).count, 1)
    }

    func testCIFAR10Batches() throws {
        let dir = TempFolder()
        for b in 1...5 {
            var recs: [UInt8] = []
            for r in 0..<2 {
                recs.append(UInt8((b + r) % 10))
                recs += [UInt8](repeating: UInt8(b * 10 + r), count: 3072)
            }
            dir.write("cifar-10-batches-bin/data_batch_\(b).bin", recs)
        }
        dir.write("cifar-10-batches-bin/test_batch.bin", [9] + Array(repeating: 1, count: 3072))
        let ds = try CIFAR.load(.cifar10, folder: dir.url, split: .train)
        XCTAssertEqual(ds.count, 10)
        XCTAssertEqual(ds.labels, [1, 2, 2, 3, 3, 4, 4, 5, 5, 6])   // (batch + record) % 10
        XCTAssertEqual(try ds.image(at: 9), Array(repeating: 51, count: 3072))
        XCTAssertEqual(try CIFAR.load(.cifar10, folder: dir.url, split: .test).labels, [9])
    }

    func testShortBinNamesFileAndRecord() {
        let dir = TempFolder()
        let rec = record100(coarse: 1, fine: 2) { _, _, _ in 0 }
        writeCIFAR100(dir, train: [rec, rec, Array(rec.prefix(100))], test: [rec])
        assertThrowsMessage(try CIFAR.load(.cifar100, folder: dir.url, split: .train),
                            contains: [dir.url.appendingPathComponent("cifar-100-binary/train.bin").path, "record 2", "not a multiple of the 3074-byte"])
    }

    func testLabelOutOfRangeNamesFileAndRecord() {
        let dir = TempFolder()
        let ok = record100(coarse: 1, fine: 2) { _, _, _ in 0 }
        writeCIFAR100(dir, train: [ok], test: [ok, ok, record100(coarse: 1, fine: 100) { _, _, _ in 0 }])
        assertThrowsMessage(try CIFAR.load(.cifar100, folder: dir.url, split: .test),
                            contains: ["test.bin", "record 2", "label 100 is outside 0..<100"])
    }

    func testPythonPicklesNameTheBinaryArchive() {
        let dir = TempFolder()
        dir.write("cifar-100-python/train", [0x80, 2])
        dir.write("cifar-100-python/test", [0x80, 2])
        dir.write("cifar-100-python/meta", [0x80, 2])
        assertThrowsMessage(try CIFAR.load(.cifar100, folder: dir.url, split: .train),
                            contains: ["cifar-100-python", "python", "cifar-100-binary.tar.gz"])
    }

    func testMissingNamesFolderAndFiles() {
        let dir = TempFolder()
        assertThrowsMessage(try CIFAR.load(.cifar10, folder: dir.url, split: .train),
                            contains: [dir.url.path, "cifar-10-batches-bin/data_batch_3.bin", "cifar-10-binary.tar.gz"])
        dir.write("cifar-10-batches-bin/data_batch_1.bin", [0] + Array(repeating: 0, count: 3072))
        assertThrowsMessage(try CIFAR.load(.cifar10, folder: dir.url, split: .train),
                            contains: ["cifar-10-batches-bin", "data_batch_2.bin", "test_batch.bin"])
    }
}
