import Foundation
import XCTest
import TestSupport
@testable import Datasets

final class IDXTests: XCTestCase {
    /// Writes a gzip IDX pair for `split` with `n` images of `rows`×`cols` and returns the pixels and labels.
    @discardableResult
    func writeSplit(_ dir: TempFolder, _ split: Split, n: Int, rows: Int = 5, cols: Int = 4, labelMax: Int = 9)
        -> (pixels: [UInt8], labels: [UInt8]) {
        let pixels = (0..<n * rows * cols).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let labels = (0..<n).map { UInt8(($0 * 7) % (labelMax + 1)) }
        let names = IDXDataset.fileNames(split)
        dir.write(names.images, Gzip.compress(IDX.encode(dims: [n, rows, cols], payload: pixels)))
        dir.write(names.labels, Gzip.compress(IDX.encode(dims: [n], payload: labels)))
        return (pixels, labels)
    }

    func testGzipRoundTripAcrossSizes() throws {
        for n in [0, 1, 1000, 300_000] {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: ($0 * $0) >> 3) }
            XCTAssertEqual(try Gzip.decompress(Data(Gzip.compress(bytes)), name: "x.gz"), bytes, "n=\(n)")
        }
    }

    func testGzipMultiMemberIsConcatenated() throws {
        let a: [UInt8] = Array(repeating: 7, count: 100), b: [UInt8] = [1, 2, 3]
        XCTAssertEqual(try Gzip.decompress(Data(Gzip.compress(a) + Gzip.compress(b)), name: "x.gz"), a + b)
    }

    func testWrittenIDXReadsBackExactly() throws {
        let dir = TempFolder()
        let train = writeSplit(dir, .train, n: 12)
        let test = writeSplit(dir, .test, n: 3, labelMax: 2)
        let ds = try FashionMNIST.load(folder: dir.url, split: .train)
        XCTAssertEqual([ds.count, ds.height, ds.width, ds.channels, ds.classes], [12, 5, 4, 1, 10])
        XCTAssertEqual(ds.pixelData, train.pixels)
        XCTAssertEqual(ds.labels, train.labels.map(Int.init))
        XCTAssertEqual(try ds.image(at: 2), Array(train.pixels[40..<60]))
        let t = try FashionMNIST.load(folder: dir.url, split: .test)
        XCTAssertEqual(t.pixelData, test.pixels)
        XCTAssertEqual(t.labels, test.labels.map(Int.init))
    }

    func testDataRootWithSubfolderIsAccepted() throws {
        let dir = TempFolder()
        let names = IDXDataset.fileNames(.test)
        dir.write("fashion-mnist/" + names.images, Gzip.compress(IDX.encode(dims: [1, 2, 2], payload: [1, 2, 3, 4])))
        dir.write("fashion-mnist/" + names.labels, Gzip.compress(IDX.encode(dims: [1], payload: [9])))
        let ds = try FashionMNIST.load(folder: dir.url, split: .test)
        XCTAssertEqual(ds.labels, [9])
    }

    func testMissingFolderNamesFolderFilesAndInstallCommand() {
        let dir = TempFolder()
        assertThrowsMessage(try FashionMNIST.load(folder: dir.url, split: .train), contains: [
            dir.url.path, "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
            "install it with: apt-get install dataset-fashion-mnist (or pass --data DIR)"])
    }

    func testTruncatedGzipNamesFile() {
        let dir = TempFolder()
        writeSplit(dir, .train, n: 50)
        let names = IDXDataset.fileNames(.train)
        let good = Gzip.compress(IDX.encode(dims: [50, 5, 4], payload: (0..<1000).map { UInt8($0 % 251) }))
        let file = dir.write(names.images, Array(good.prefix(good.count / 2)))
        assertThrowsMessage(try FashionMNIST.load(folder: dir.url, split: .train), contains: [file.path, "truncated"])
        // Cut inside the 8-byte trailer: the data is complete but the CRC/size is missing.
        dir.write(names.images, Array(good.prefix(good.count - 3)))
        assertThrowsMessage(try FashionMNIST.load(folder: dir.url, split: .train), contains: [file.path, "truncated"])
    }

    func testDamagedGzipNamesFile() {
        let dir = TempFolder()
        writeSplit(dir, .train, n: 50)
        let names = IDXDataset.fileNames(.train)
        var bytes = Gzip.compress(IDX.encode(dims: [50, 5, 4], payload: (0..<1000).map { UInt8($0 % 251) }))
        bytes[bytes.count - 6] ^= 0xff   // inside the CRC32 of the trailer
        let file = dir.write(names.images, bytes)
        assertThrowsMessage(try FashionMNIST.load(folder: dir.url, split: .train), contains: [file.path, "damaged"])
        let plain = dir.write(names.images, IDX.encode(dims: [1, 2, 2], payload: [1, 2, 3, 4]) + Array(repeating: 0, count: 20))
        assertThrowsMessage(try FashionMNIST.load(folder: dir.url, split: .train), contains: [plain.path, "not a gzip file"])
    }

    func testWrongMagicNamesFileAndMagic() {
        let dir = TempFolder()
        writeSplit(dir, .train, n: 2)
        let names = IDXDataset.fileNames(.train)
        // A label file where the image file should be.
        let file = dir.write(names.images, Gzip.compress(IDX.encode(dims: [2], payload: [1, 2])))
        assertThrowsMessage(try FashionMNIST.load(folder: dir.url, split: .train),
                            contains: [file.path, "wrong IDX magic 0x00000801", "expected 0x00000803"])
    }

    func testCountMismatchAndBadLabels() {
        let dir = TempFolder()
        writeSplit(dir, .train, n: 4)
        let names = IDXDataset.fileNames(.train)
        let labels = dir.write(names.labels, Gzip.compress(IDX.encode(dims: [3], payload: [1, 2, 3])))
        assertThrowsMessage(try FashionMNIST.load(folder: dir.url, split: .train), contains: [labels.path, "3 labels for 4 images"])
        dir.write(names.labels, Gzip.compress(IDX.encode(dims: [4], payload: [1, 2, 10, 3])))
        assertThrowsMessage(try FashionMNIST.load(folder: dir.url, split: .train), contains: [labels.path, "label 10 of sample 2"])
        // Header announcing more data than the file holds.
        var short = IDX.encode(dims: [4, 5, 4], payload: Array(repeating: 0, count: 80))
        short.removeLast(7)
        let images = dir.write(names.images, Gzip.compress(short))
        assertThrowsMessage(try FashionMNIST.load(folder: dir.url, split: .train), contains: [images.path, "announce 80 bytes", "holds 73"])
    }

    func testRealFashionMNISTCounts() throws {
        let folder = FashionMNIST.systemFolder
        try Prerequisite.fashionMNIST()
        let train = try FashionMNIST.load(folder: folder, split: .train)
        let test = try FashionMNIST.load(folder: folder, split: .test)
        XCTAssertEqual([train.count, test.count], [60000, 10000])
        XCTAssertEqual([train.height, train.width, train.channels, train.classes], [28, 28, 1, 10])
        var perClass = [Int](repeating: 0, count: 10)
        for l in test.labels { perClass[l] += 1 }
        XCTAssertEqual(perClass, Array(repeating: 1000, count: 10))
        // Mean pixel of the training set: the published 0.2860 normalisation constant.
        let mean = Double(train.pixelData.reduce(0) { $0 + Int($1) }) / Double(train.pixelData.count) / 255
        XCTAssertEqual(mean, Double(FashionMNIST.mean[0]), accuracy: 1e-4)
    }
}
