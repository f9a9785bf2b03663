import Foundation
import XCTest
import TestSupport
@testable import Datasets

final class TinyImageNetTests: XCTestCase {
    let wnids = ["n0300", "n0100", "n0200"]   // file order; classes are the sorted order

    /// A flat 64×64 JPEG of one colour.
    func flat(_ r: UInt8, _ g: UInt8, _ b: UInt8, size: Int = 64) -> [UInt8] {
        JPEG.encode((0..<size * size).flatMap { _ in [r, g, b] }, width: size, height: size, components: 3, quality: 100)
    }

    /// Writes a small Tiny ImageNet: 2 train images per class (value = 40·class + 10·j), 4 val images.
    func makeLayout(_ dir: TempFolder, valLines: [String]? = nil) {
        let root = "tiny-imagenet-200/"
        dir.write(root + "wnids.txt", Array((wnids.joined(separator: "\n") + "\n").utf8))
        for w in wnids {
            let k = wnids.sorted().firstIndex(of: w)!
            for j in 0..<2 {
                let v = UInt8(40 * k + 10 * j)
                dir.write(root + "train/\(w)/images/\(w)_\(j).JPEG", flat(v, v, v))
            }
            dir.write(root + "train/\(w)/\(w)_boxes.txt", Array("ignored\n".utf8))
        }
        let lines = valLines ?? ["val_0.JPEG\tn0200\t0\t0\t10\t10", "val_1.JPEG\tn0100\t1\t1\t9\t9",
                                 "val_2.JPEG\tn0300\t0\t0\t63\t63", "val_3.JPEG\tn0100\t0\t0\t5\t5"]
        dir.write(root + "val/val_annotations.txt", Array(lines.joined(separator: "\n").utf8))
        for i in 0..<4 { dir.write(root + "val/images/val_\(i).JPEG", flat(UInt8(200 + i), 0, 0, size: i == 3 ? 80 : 64)) }
    }

    func testTrainFollowsImageFolderOrderAndLabels() throws {
        let dir = TempFolder()
        makeLayout(dir)
        let train = try TinyImageNet.load(folder: dir.url, split: .train)
        XCTAssertEqual([train.count, train.classes, train.height, train.width, train.channels], [6, 3, 64, 64, 3])
        XCTAssertEqual(train.labels, [0, 0, 1, 1, 2, 2])
        XCTAssertEqual(train.files.map(\.lastPathComponent),
                       ["n0100_0.JPEG", "n0100_1.JPEG", "n0200_0.JPEG", "n0200_1.JPEG", "n0300_0.JPEG", "n0300_1.JPEG"])
        for i in 0..<6 {
            let img = try train.image(at: i)
            let want = 40 * (i / 2) + 10 * (i % 2)
            XCTAssert(img.allSatisfy { abs(Int($0) - want) <= 1 }, "sample \(i) should be flat \(want)")
        }
        let memory = try train.materialized()
        for i in 0..<6 { XCTAssertEqual(try memory.image(at: i), try train.image(at: i)) }
    }

    func testValUsesAnnotationsAndResizesOddSizes() throws {
        let dir = TempFolder()
        makeLayout(dir)
        let val = try TinyImageNet.load(folder: dir.url, split: .test)
        XCTAssertEqual(val.labels, [0, 0, 1, 2])
        XCTAssertEqual(val.files.map(\.lastPathComponent), ["val_1.JPEG", "val_3.JPEG", "val_0.JPEG", "val_2.JPEG"])
        let big = try val.image(at: 1)   // 80×80 file, resized bilinearly to 64×64
        XCTAssertEqual(big.count, 64 * 64 * 3)
        XCTAssertLessThanOrEqual(abs(Int(big[0]) - 203), 2)
    }

    func testUnknownWnidNamesFileAndLine() {
        let dir = TempFolder()
        makeLayout(dir, valLines: ["val_0.JPEG\tn0200\t0\t0\t1\t1", "val_1.JPEG\tn9999\t0\t0\t1\t1"])
        assertThrowsMessage(try TinyImageNet.load(folder: dir.url, split: .test),
                            contains: ["val_annotations.txt", "line 2", "n9999"])
    }

    func testMissingLayoutNamesWhatIsAbsent() {
        let dir = TempFolder()
        assertThrowsMessage(try TinyImageNet.load(folder: dir.url, split: .train),
                            contains: [dir.url.path, "tiny-imagenet-200/wnids.txt", "tiny-imagenet-200.zip"])
        dir.write("tiny-imagenet-200/wnids.txt", Array("n0100\n".utf8))
        assertThrowsMessage(try TinyImageNet.load(folder: dir.url, split: .train), contains: ["val/val_annotations.txt", "train/"])
    }

    func testBrokenJPEGFailsItsBatchNamingTheFile() throws {
        let dir = TempFolder()
        makeLayout(dir)
        let bad = dir.write("tiny-imagenet-200/train/n0200/images/n0200_1.JPEG", Array(flat(1, 2, 3).prefix(300)))
        let train = try TinyImageNet.load(folder: dir.url, split: .train)
        let loader = try BatchLoader(dataset: train, batchSize: 2, seed: 0, epoch: 0, shuffle: false, dropLast: false,
                                     augment: Augment(mean: TinyImageNet.mean, std: TinyImageNet.std), workers: 2)
        XCTAssertEqual(try loader.next()?.labels, [0, 0])
        assertThrowsMessage(try loader.next(), contains: [bad.path, "broken JPEG"])
        XCTAssertEqual(try loader.next()?.labels, [2, 2])
        assertThrowsMessage(try train.materialized(), contains: [bad.path])
        let report = DatasetCheck.run(name: "tiny-imagenet", folder: dir.url, decode: true)
        XCTAssertFalse(report.ok)
        XCTAssert(report.description.contains(bad.path), report.description)
    }

    func testDatasetCheckReport() throws {
        let dir = TempFolder()
        makeLayout(dir)
        let report = DatasetCheck.run(name: "tiny-imagenet", folder: dir.url, decode: true)
        XCTAssert(report.ok, report.description)
        XCTAssertEqual(report.splits.map(\.count), [6, 4])
        XCTAssertEqual(report.splits.map(\.decoded), [6, 4])
        XCTAssertEqual(report.splits[1].perClassMin, 1)
        XCTAssertEqual(report.splits[1].perClassMax, 2)
        XCTAssert(report.description.contains("train: 6 images 64×64×3, 3 classes (2 per class)"), report.description)
        let missing = DatasetCheck.run(name: "cifar100", folder: dir.url)
        XCTAssertFalse(missing.ok)
        XCTAssert(missing.description.contains("cifar-100-binary.tar.gz"), missing.description)
        XCTAssert(DatasetCheck.run(name: "imagenet-22k", folder: nil).description.contains("unknown dataset"))
    }

    func testDatasetCheckOnInstalledFashionMNIST() throws {
        try Prerequisite.fashionMNIST()
        let report = DatasetCheck.run(name: "fashion-mnist", folder: FashionMNIST.systemFolder)
        XCTAssert(report.ok, report.description)
        XCTAssertEqual(report.splits.map(\.count), [60000, 10000])
        XCTAssertEqual(report.splits.map(\.perClassMin), [6000, 1000])
    }
}
