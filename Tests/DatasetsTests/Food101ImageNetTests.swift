import Foundation
import XCTest
import TestSupport
@testable import Datasets

final class Food101ImageNetTests: XCTestCase {
    /// A flat JPEG of one grey level and a given size.
    func flat(_ v: UInt8, width: Int, height: Int) -> [UInt8] {
        JPEG.encode([UInt8](repeating: v, count: width * height * 3), width: width, height: height, components: 3, quality: 100)
    }

    func makeFood(_ dir: TempFolder, trainLines: [String]? = nil) {
        let root = "food-101/"
        dir.write(root + "meta/classes.txt", Array("ramen\napple_pie\nsushi\n".utf8))   // sorted: apple_pie, ramen, sushi
        let train = trainLines ?? ["apple_pie/11", "apple_pie/3", "ramen/7", "sushi/2", "sushi/1"]
        dir.write(root + "meta/train.txt", Array(train.joined(separator: "\n").utf8))
        dir.write(root + "meta/test.txt", Array("ramen/9\napple_pie/5\n".utf8))
        for (k, id) in ["apple_pie/11", "apple_pie/3", "ramen/7", "sushi/2", "sushi/1", "ramen/9", "apple_pie/5"].enumerated() {
            dir.write(root + "images/\(id).jpg", flat(UInt8(20 * k + 10), width: 40 + 3 * k, height: 30 + 5 * k))
        }
    }

    func testFood101KeepsSplitOrderWithSortedClasses() throws {
        let dir = TempFolder()
        makeFood(dir)
        let train = try Food101.load(folder: dir.url, split: .train, size: 16)
        XCTAssertEqual([train.count, train.classes, train.height, train.width], [5, 3, 16, 16])
        XCTAssertEqual(train.labels, [0, 0, 1, 2, 2])
        XCTAssertEqual(train.files.map { $0.deletingLastPathComponent().lastPathComponent + "/" + $0.lastPathComponent },
                       ["apple_pie/11.jpg", "apple_pie/3.jpg", "ramen/7.jpg", "sushi/2.jpg", "sushi/1.jpg"])
        let test = try DatasetCatalog.load(.food101, folder: dir.url.appendingPathComponent("food-101"), split: .test)
        XCTAssertEqual(test.labels, [1, 0])
        // The fixed-size view and the stored size.
        let img = try train.image(at: 3)
        XCTAssertEqual(img.count, 16 * 16 * 3)
        XCTAssert(img.allSatisfy { abs(Int($0) - 70) <= 1 })
        let (w, h) = try train.withNativePixels(at: 3) { _, w, h in (w, h) }
        XCTAssertEqual([w, h], [49, 45])
    }

    func testFood101Errors() {
        let dir = TempFolder()
        assertThrowsMessage(try Food101.load(folder: dir.url, split: .train), contains: ["food-101/meta/classes.txt", "food-101.tar.gz"])
        makeFood(dir, trainLines: ["apple_pie/11", "pizza/4"])
        assertThrowsMessage(try Food101.load(folder: dir.url, split: .train), contains: ["meta/train.txt", "line 2", "pizza"])
        makeFood(dir, trainLines: ["apple_pie/11", "apple_pie/404"])
        assertThrowsMessage(try Food101.load(folder: dir.url, split: .train), contains: ["apple_pie/404.jpg", "line 2"])
        makeFood(dir, trainLines: ["apple_pie 11"])
        assertThrowsMessage(try Food101.load(folder: dir.url, split: .train), contains: ["line 1", "class/id"])
    }

    func makeImageNet(_ dir: TempFolder) {
        for (k, wnid) in ["n02", "n01", "n03"].enumerated() {
            for j in 0..<(k + 1) {
                dir.write("imagenet/train/\(wnid)/\(wnid)_\(9 - j).JPEG", flat(UInt8(30 * k + j), width: 24 + j, height: 20))
            }
            if wnid != "n03" { dir.write("imagenet/val/\(wnid)/ILSVRC2012_val_\(k).JPEG", flat(200, width: 30, height: 22)) }
        }
        dir.write("imagenet/train/n01/notes.txt", Array("not an image".utf8))
    }

    func testImageNetFollowsImageFolder() throws {
        let dir = TempFolder()
        makeImageNet(dir)
        let train = try ImageNet.load(folder: dir.url, split: .train, size: 8)
        XCTAssertEqual([train.count, train.classes], [6, 3])
        XCTAssertEqual(train.labels, [0, 0, 1, 2, 2, 2])   // n01 has 2 files, n02 1, n03 3
        XCTAssertEqual(train.files.map(\.lastPathComponent),
                       ["n01_8.JPEG", "n01_9.JPEG", "n02_9.JPEG", "n03_7.JPEG", "n03_8.JPEG", "n03_9.JPEG"])
        let val = try DatasetCatalog.load(.imagenet, folder: dir.url, split: .test)
        XCTAssertEqual(val.labels, [0, 1])
        XCTAssertEqual(val.classes, 3)
        let report = DatasetCheck.run(name: "imagenet", folder: dir.url, decode: true)
        XCTAssert(report.ok, report.description)
        XCTAssert(report.description.contains("warning: train has 6 images; the official split has 1281167"), report.description)
        XCTAssert(report.description.contains("warning: train has 3 classes; the official dataset has 1000"), report.description)
        XCTAssertEqual(report.splits.map(\.decoded), [6, 2])
    }

    func testImageNetErrors() throws {
        let dir = TempFolder()
        assertThrowsMessage(try ImageNet.load(folder: dir.url, split: .train), contains: ["imagenet/train/", "imagenet/val/", "ILSVRC2012"])
        makeImageNet(dir)
        dir.write("imagenet/val/n99/x.JPEG", flat(1, width: 8, height: 8))
        assertThrowsMessage(try ImageNet.load(folder: dir.url, split: .test), contains: ["val/n99", "no folder in"])
        let flatVal = TempFolder()
        flatVal.write("imagenet/train/n01/a.JPEG", flat(1, width: 8, height: 8))
        flatVal.write("imagenet/val/ILSVRC2012_val_00000001.JPEG", flat(1, width: 8, height: 8))
        assertThrowsMessage(try ImageNet.load(folder: flatVal.url, split: .test), contains: ["val", "valprep.sh"])
        // A truncated photo fails the batch that reads it at its stored size, naming the file.
        let bad = dir.write("imagenet/train/n02/n02_9.JPEG", Array(flat(5, width: 24, height: 20).prefix(200)))
        let train = try ImageNet.load(folder: dir.url, split: .train, size: 8)
        let loader = try BatchLoader(dataset: train, batchSize: 6, seed: 0, epoch: 0, shuffle: false, dropLast: false,
                                     augment: Augment(hflip: true, randomResizedCrop: 8, mean: ImageNet.mean, std: ImageNet.std))
        assertThrowsMessage(try loader.next(), contains: [bad.path, "broken JPEG"])
    }
}
