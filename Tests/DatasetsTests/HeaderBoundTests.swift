import Foundation
import XCTest
import TestSupport
@testable import Datasets

/// Every size read from a dataset file is believed only up to what the file holds and a
/// documented limit: IDX and MAT dimensions whose product overflows, a JPEG header that claims
/// 65500×65500 over a few bytes, and readers that meet a folder or a FIFO.
final class HeaderBoundTests: XCTestCase {
    func testBoundedProduct() {
        XCTAssertEqual(boundedProduct([3, 28, 28], limit: 10_000), 2352)
        XCTAssertNil(boundedProduct([3, 28, 28], limit: 2351))
        XCTAssertNil(boundedProduct([Int(UInt32.max), Int(UInt32.max), Int(UInt32.max)], limit: .max), "overflow is nil, not a trap")
        XCTAssertEqual(boundedProduct([Int(UInt32.max), 0], limit: 10), 0)
        XCTAssertNil(boundedProduct([-1, 4], limit: 10))
    }

    func testIDXDimensionsThatOverflowAreAnError() {
        var bytes: [UInt8] = [0, 0, 8, 3]
        for _ in 0..<3 { bytes += [0xFF, 0xFF, 0xFF, 0xFF] }
        bytes += [UInt8](repeating: 1, count: 64)
        assertThrowsMessage(try IDX.header(bytes, magic: IDX.imageMagic, name: "x.idx"), contains: ["x.idx", "dimensions"])
        var big: [UInt8] = [0, 0, 8, 1, 0x7F, 0xFF, 0xFF, 0xFF]
        big += [1, 2, 3]
        assertThrowsMessage(try IDX.header(big, magic: IDX.labelMagic, name: "y.idx"), contains: ["y.idx"])
    }

    func testMATDimensionsThatOverflowAreAnError() throws {
        let v = MATFile.Variable(name: "X", dims: [2, 3], classID: 9, dataType: 9, data: [UInt8](repeating: 0, count: 48))
        var bytes = MATFile.encode([v], compressed: false)
        // The dimensions element follows the 128-byte header, the matrix tag (8) and the flags (16): two Int32 at +8.
        let dimsAt = 128 + 8 + 16 + 8
        XCTAssertEqual(Array(bytes[dimsAt..<dimsAt + 4]), [2, 0, 0, 0], "fixture layout")
        for i in 0..<8 { bytes[dimsAt + i] = i % 4 == 3 ? 0x7F : 0xFF }
        assertThrowsMessage(try bytes.withUnsafeBytes { try MATFile.parse($0, file: "svhn.mat") }, contains: ["svhn.mat", "X"])
    }

    /// A 64×64 JPEG whose SOF header is patched to 65500×65500: refused before any allocation
    /// (PIL raises DecompressionBombError), and so is a size the bytes cannot hold.
    func testAJPEGHeaderIsBelievedOnlyUpToItsDataAndThePixelLimit() throws {
        let small = JPEG.encode([UInt8](repeating: 90, count: 64 * 64 * 3), width: 64, height: 64, components: 3, quality: 90)
        let sof = try XCTUnwrap((0..<small.count - 1).first { small[$0] == 0xFF && small[$0 + 1] == 0xC0 }, "baseline SOF0")
        func patched(_ w: Int, _ h: Int) -> [UInt8] {
            var b = small
            b[sof + 5] = UInt8(h >> 8); b[sof + 6] = UInt8(h & 0xFF)
            b[sof + 7] = UInt8(w >> 8); b[sof + 8] = UInt8(w & 0xFF)
            return b
        }
        let bomb = patched(65500, 65500)
        XCTAssertThrowsError(try bomb.withUnsafeBytes { try JPEG.decode($0, name: "bomb.JPEG") { _, w, h in (w, h) } }) { e in
            XCTAssertTrue("\(e)".contains("bomb.JPEG") && "\(e)".contains("65500×65500") && "\(e)".contains("178956970"), "\(e)")
        }
        let liar = patched(8000, 8000)   // 64 Mpx under the limit, but not in ~1 KB of data
        XCTAssertThrowsError(try liar.withUnsafeBytes { try JPEG.decode($0, name: "liar.JPEG") { _, w, h in (w, h) } }) { e in
            XCTAssertTrue("\(e)".contains("liar.JPEG") && "\(e)".contains("bytes can hold"), "\(e)")
        }
        let ok = try small.withUnsafeBytes { try JPEG.decode($0, name: "ok.JPEG") { _, w, h in [w, h] } }
        XCTAssertEqual(ok, [64, 64])
        XCTAssertEqual(JPEG.maxPixels, 178_956_970, "PIL's limit, documented in the README")
    }

    /// `data check --decode` finds the bomb in a Tiny ImageNet layout; a wnids.txt of more than
    /// 200 classes is a problem, not a crash.
    func testDataCheckFindsBombsAndTooManyClasses() throws {
        let dir = TempFolder()
        let root = "tiny-imagenet-200/"
        let image = JPEG.encode([UInt8](repeating: 40, count: 64 * 64 * 3), width: 64, height: 64, components: 3, quality: 90)
        let sof = (0..<image.count - 1).first { image[$0] == 0xFF && image[$0 + 1] == 0xC0 }!
        var bomb = image
        bomb[sof + 5] = 0xFF; bomb[sof + 6] = 0xDC; bomb[sof + 7] = 0xFF; bomb[sof + 8] = 0xDC
        let wnids = (0..<201).map { String(format: "n%05d", $0) }
        dir.write(root + "wnids.txt", Array(wnids.joined(separator: "\n").utf8))
        for (k, w) in wnids.enumerated() { dir.write(root + "train/\(w)/images/\(w)_0.JPEG", k == 3 ? bomb : image) }
        dir.write(root + "val/val_annotations.txt", Array("v0.JPEG\tn00000\t0\t0\t1\t1\n".utf8))
        dir.write(root + "val/images/v0.JPEG", image)
        let report = DatasetCheck.run(name: "tiny-imagenet", folder: dir.url, decode: true)
        XCTAssertFalse(report.ok, report.description)
        XCTAssertTrue(report.description.contains("n00003_0.JPEG") && report.description.contains("178956970"), report.description)
        XCTAssertTrue(report.description.contains("201 classes"), report.description)
    }

    func testReadersRefuseFoldersAndFIFOsWithoutBlocking() throws {
        let dir = TempFolder()
        let folder = dir.url.appendingPathComponent("t10k-images-idx3-ubyte.gz")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let fifo = dir.url.appendingPathComponent("x.JPEG")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        assertThrowsMessage(try Gzip.decompress(contentsOf: folder), contains: [folder.path, "folder"])
        assertThrowsMessage(try JPEG.decode(contentsOf: fifo), contains: [fifo.path, "FIFO"])
    }
}
