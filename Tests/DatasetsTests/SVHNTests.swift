import Foundation
import XCTest
import TestSupport
@testable import Datasets

final class SVHNTests: XCTestCase {
    /// Pixel (r, c, ch) of image n in the test files: (2r + 5c + 40ch + 100n) mod 256.
    func expectedPixel(_ n: Int, _ r: Int, _ c: Int, _ ch: Int) -> UInt8 { UInt8((2 * r + 5 * c + 40 * ch + 100 * n) % 256) }

    /// X (32, 32, 3, n) column-major bytes with that pattern.
    func xBytes(_ n: Int) -> [UInt8] {
        var x = [UInt8](repeating: 0, count: 3072 * n)
        for k in 0..<n { for ch in 0..<3 { for c in 0..<32 { for r in 0..<32 {
            x[k * 3072 + ch * 1024 + c * 32 + r] = expectedPixel(k, r, c, ch)
        } } } }
        return x
    }

    func svhnFile(labels: [UInt8], compressed: Bool, yType: Int = 2) -> [UInt8] {
        let y: [UInt8] = yType == 2 ? labels : labels.flatMap { withUnsafeBytes(of: Double($0).bitPattern.littleEndian, Array.init) }
        return MATFile.encode([
            .init(name: "X", dims: [32, 32, 3, labels.count], classID: 9, dataType: 2, data: xBytes(labels.count)),
            .init(name: "y", dims: [labels.count, 1], classID: yType == 2 ? 9 : 6, dataType: yType, data: y),
        ], compressed: compressed)
    }

    func checkImages(_ ds: InMemoryDataset, count: Int) throws {
        XCTAssertEqual([ds.count, ds.classes, ds.height, ds.width, ds.channels], [count, 10, 32, 32, 3])
        for n in 0..<count {
            let img = try ds.image(at: n)
            for (r, c, ch) in [(0, 0, 0), (31, 0, 1), (0, 31, 2), (5, 17, 1), (30, 2, 0)] {
                XCTAssertEqual(img[(r * 32 + c) * 3 + ch], expectedPixel(n, r, c, ch), "image \(n) (\(r), \(c), \(ch))")
            }
        }
    }

    func testOwnFilesCompressedAndUncompressed() throws {
        for compressed in [true, false] {
            for yType in [2, 9] {   // labels stored as uint8 and as double
                let dir = TempFolder()
                dir.write("svhn/train_32x32.mat", svhnFile(labels: [10, 1, 9], compressed: compressed, yType: yType))
                dir.write("svhn/test_32x32.mat", svhnFile(labels: [4, 10], compressed: compressed, yType: yType))
                let train = try SVHN.load(folder: dir.url, split: .train)
                try checkImages(train, count: 3)
                XCTAssertEqual(train.labels, [0, 1, 9], "label 10 is the digit 0")
                XCTAssertEqual(try SVHN.load(folder: dir.url.appendingPathComponent("svhn"), split: .test).labels, [4, 0])
            }
        }
    }

    /// Files written by scipy.io.savemat (an independent writer): compressed with uint8 y, and
    /// uncompressed with a double y (names in small data elements).
    func testScipyWrittenFiles() throws {
        let dir = TempFolder()
        dir.write("train_32x32.mat", [UInt8](Data(base64Encoded: scipyCompressed)!))
        dir.write("test_32x32.mat", [UInt8](Data(base64Encoded: scipyUncompressed)!))
        let train = try SVHN.load(folder: dir.url, split: .train)
        try checkImages(train, count: 2)
        XCTAssertEqual(train.labels, [0, 3])
        let test = try SVHN.load(folder: dir.url, split: .test)
        try checkImages(test, count: 1)
        XCTAssertEqual(test.labels, [7])
        let vars = try MATFile.read(dir.url.appendingPathComponent("test_32x32.mat"))
        XCTAssertEqual(vars["y"]?.classID, 6)
        XCTAssertEqual(vars["X"]?.dims, [32, 32, 3, 1])
    }

    func testCorruptFilesNameTheFileAndTheProblem() throws {
        let dir = TempFolder()
        let good = svhnFile(labels: [1, 2], compressed: true), plain = svhnFile(labels: [1, 2], compressed: false)
        // A compressed element whose zlib stream stops halfway (its tag says so: no padding check helps).
        let zlen = Int(good[132]) | Int(good[133]) << 8
        var cut = Array(good.prefix(136 + zlen / 2))
        cut[132] = UInt8((zlen / 2) & 0xFF); cut[133] = UInt8((zlen / 2) >> 8)
        let garbage = Array(good.prefix(128)) + [15, 0, 0, 0, 200, 0, 0, 0] + [UInt8](repeating: 0x55, count: 200)
        let cases: [([UInt8], [String])] = [
            (Array(good.prefix(400)), ["truncated", "top-level element at byte 128 declares"]),
            (cut, ["truncated: the compressed element at byte 128 ends after"]),
            (Array(plain.prefix(3000)), ["truncated", "declares"]),
            (Array(good.prefix(100)), ["128-byte header"]),
            (garbage, ["damaged compressed element at byte 128"]),
            ([UInt8]("MATLAB 7.3 MAT-file".utf8) + [UInt8](repeating: 0, count: 200), ["MATLAB 7.3"]),
            (svhnFile(labels: [1, 11], compressed: false), ["y[1] = 11.0", "1…10"]),
            (MATFile.encode([.init(name: "X", dims: [32, 32, 3, 1], classID: 9, dataType: 2, data: xBytes(1))], compressed: true),
             ["expected numeric arrays X and y", "[\"X\"]"]),
            (MATFile.encode([.init(name: "X", dims: [32, 32, 1, 3], classID: 9, dataType: 2, data: xBytes(1)),
                             .init(name: "y", dims: [3, 1], classID: 9, dataType: 2, data: [1, 2, 3])], compressed: false),
             ["X has shape [32, 32, 1, 3]"]),
        ]
        for (k, (bytes, words)) in cases.enumerated() {
            let file = dir.write("case\(k)/train_32x32.mat", bytes)
            assertThrowsMessage(try SVHN.load(folder: file.deletingLastPathComponent(), split: .train),
                                contains: [file.path] + words)
        }
        assertThrowsMessage(try SVHN.load(folder: dir.url, split: .test), contains: ["svhn/test_32x32.mat", "housenumbers"])
    }

    func testCatalogAndCheck() throws {
        let dir = TempFolder()
        dir.write("svhn/train_32x32.mat", svhnFile(labels: [10, 1, 9], compressed: true))
        dir.write("svhn/test_32x32.mat", svhnFile(labels: [4, 10], compressed: false))
        XCTAssertEqual(try DatasetCatalog.load(.svhn, folder: dir.url, split: .train).count, 3)
        XCTAssertEqual(DatasetName.svhn.mean, [0.4377, 0.4438, 0.4728])
        let report = DatasetCheck.run(name: "svhn", folder: dir.url)
        XCTAssert(report.ok, report.description)
        XCTAssert(report.description.contains("warning: train has 3 images; the official split has 73257"), report.description)
        XCTAssert(report.description.contains("warning: test has 2 images; the official split has 26032"), report.description)
    }

    let scipyCompressed = "TUFUTEFCIDUuMCBNQVQtZmlsZSBQbGF0Zm9ybTogcG9zaXgsIENyZWF0ZWQgb246IFN1biBOb3YgMjkgMTY6NDY6MjIgMjAyNgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABSU0PAAAARwIAAHic7dhnWE5hHMfxk4YyktmDUPbeI2UkEolEUiJR0ZBIJBIpicree++9ysyOjDIie+8te5/n1uvv21489znX/zrnzefd776u//0zVRTFWqMoRurXWB0T5f9jqI6ZOpZ5o69OAXX01Ncj71/RaH8MjIwLFTE1K1GqjKacRUXLylWr16xdt37Dxk2bW9u0amNY0KRw0WLFS5Y2L1u+QiWrKtVq1KpTr0GjJs1atLRt3bZde6B29h06dgLq4Ni5S1egTs7duvcA6uLas1dvoG7uHn36AvX06td/AFBvn4F+g4D6+g8ODAYaEDRk6DCgIaHDR4wEGhY+avQYoBGRY8eNBxoVPWFiHNCY2EmTpwCNT5iaNA1oYvL0mbOBzpg1Z94CoHPnL1y8FOiiJctWrAK6fOXqteuBrlm3YdMWoBs3b92+E+i2Hbv27AO6e2/K/oNAUw8cOnIU6OG0YydOAT1+8vSZDKDpZ89dyAR6/mLW5atAL13Jvn5D5l/mX5fzD/Razs3bd4HeunPvwSOg9x8+fvoc6JNnL169Afry9dv3H4G++5D7+SvQT1++/fgF9PvP33/1ZP5l/nU5/0D/aHdjoPra3RioWKuBirUaqFirgYq1GqhYq4GKtVqeP3n+5PnLv/MHVFxrgYprLVCx1gMVa73Mv8y/Luef2y87e26/HBy5/XJy5vbLxZXbLzd3br88vbj98vbh9svXX+Zf5l+X88/tV0AQt18hodx+hYVz+xURye1XVDS3XzGx3H7FJ3D7lZj8D7XevvgPAAAAKQAAAHic42NgYDAAYjYg5gBiTgYIYIXymYCYEYwZGSrBfCYGLmYGBgAYywDy"

    let scipyUncompressed = "TUFUTEFCIDUuMCBNQVQtZmlsZSBQbGF0Zm9ybTogcG9zaXgsIENyZWF0ZWQgb246IFN1biBOb3YgMjkgMTY6NDY6MjIgMjAyNgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABSU0OAAAAOAwAAAYAAAAIAAAACQAAAAAAAAAFAAAAEAAAACAAAAAgAAAAAwAAAAEAAAABAAEAWAAAAAIAAAAADAAAAAIEBggKDA4QEhQWGBocHiAiJCYoKiwuMDI0Njg6PD4FBwkLDQ8RExUXGRsdHyEjJScpKy0vMTM1Nzk7PT9BQwoMDhASFBYYGhweICIkJigqLC4wMjQ2ODo8PkBCREZIDxETFRcZGx0fISMlJykrLS8xMzU3OTs9P0FDRUdJS00UFhgaHB4gIiQmKCosLjAyNDY4Ojw+QEJERkhKTE5QUhkbHR8hIyUnKSstLzEzNTc5Oz0/QUNFR0lLTU9RU1VXHiAiJCYoKiwuMDI0Njg6PD5AQkRGSEpMTlBSVFZYWlwjJScpKy0vMTM1Nzk7PT9BQ0VHSUtNT1FTVVdZW11fYSgqLC4wMjQ2ODo8PkBCREZISkxOUFJUVlhaXF5gYmRmLS8xMzU3OTs9P0FDRUdJS01PUVNVV1lbXV9hY2VnaWsyNDY4Ojw+QEJERkhKTE5QUlRWWFpcXmBiZGZoamxucDc5Oz0/QUNFR0lLTU9RU1VXWVtdX2FjZWdpa21vcXN1PD5AQkRGSEpMTlBSVFZYWlxeYGJkZmhqbG5wcnR2eHpBQ0VHSUtNT1FTVVdZW11fYWNlZ2lrbW9xc3V3eXt9f0ZISkxOUFJUVlhaXF5gYmRmaGpsbnBydHZ4enx+gIKES01PUVNVV1lbXV9hY2VnaWttb3FzdXd5e31/gYOFh4lQUlRWWFpcXmBiZGZoamxucHJ0dnh6fH6AgoSGiIqMjlVXWVtdX2FjZWdpa21vcXN1d3l7fX+Bg4WHiYuNj5GTWlxeYGJkZmhqbG5wcnR2eHp8foCChIaIioyOkJKUlphfYWNlZ2lrbW9xc3V3eXt9f4GDhYeJi42PkZOVl5mbnWRmaGpsbnBydHZ4enx+gIKEhoiKjI6QkpSWmJqcnqCiaWttb3FzdXd5e31/gYOFh4mLjY+Rk5WXmZudn6GjpaducHJ0dnh6fH6AgoSGiIqMjpCSlJaYmpyeoKKkpqiqrHN1d3l7fX+Bg4WHiYuNj5GTlZeZm52foaOlp6mrra+xeHp8foCChIaIioyOkJKUlpianJ6goqSmqKqsrrCytLZ9f4GDhYeJi42PkZOVl5mbnZ+ho6Wnqautr7Gztbe5u4KEhoiKjI6QkpSWmJqcnqCipKaoqqyusLK0tri6vL7Ah4mLjY+Rk5WXmZudn6Gjpaepq62vsbO1t7m7vb/Bw8WMjpCSlJaYmpyeoKKkpqiqrK6wsrS2uLq8vsDCxMbIypGTlZeZm52foaOlp6mrra+xs7W3ubu9v8HDxcfJy83PlpianJ6goqSmqKqsrrCytLa4ury+wMLExsjKzM7Q0tSbnZ+ho6Wnqautr7Gztbe5u72/wcPFx8nLzc/R09XX2SgqLC4wMjQ2ODo8PkBCREZISkxOUFJUVlhaXF5gYmRmLS8xMzU3OTs9P0FDRUdJS01PUVNVV1lbXV9hY2VnaWsyNDY4Ojw+QEJERkhKTE5QUlRWWFpcXmBiZGZoamxucDc5Oz0/QUNFR0lLTU9RU1VXWVtdX2FjZWdpa21vcXN1PD5AQkRGSEpMTlBSVFZYWlxeYGJkZmhqbG5wcnR2eHpBQ0VHSUtNT1FTVVdZW11fYWNlZ2lrbW9xc3V3eXt9f0ZISkxOUFJUVlhaXF5gYmRmaGpsbnBydHZ4enx+gIKES01PUVNVV1lbXV9hY2VnaWttb3FzdXd5e31/gYOFh4lQUlRWWFpcXmBiZGZoamxucHJ0dnh6fH6AgoSGiIqMjlVXWVtdX2FjZWdpa21vcXN1d3l7fX+Bg4WHiYuNj5GTWlxeYGJkZmhqbG5wcnR2eHp8foCChIaIioyOkJKUlphfYWNlZ2lrbW9xc3V3eXt9f4GDhYeJi42PkZOVl5mbnWRmaGpsbnBydHZ4enx+gIKEhoiKjI6QkpSWmJqcnqCiaWttb3FzdXd5e31/gYOFh4mLjY+Rk5WXmZudn6GjpaducHJ0dnh6fH6AgoSGiIqMjpCSlJaYmpyeoKKkpqiqrHN1d3l7fX+Bg4WHiYuNj5GTlZeZm52foaOlp6mrra+xeHp8foCChIaIioyOkJKUlpianJ6goqSmqKqsrrCytLZ9f4GDhYeJi42PkZOVl5mbnZ+ho6Wnqautr7Gztbe5u4KEhoiKjI6QkpSWmJqcnqCipKaoqqyusLK0tri6vL7Ah4mLjY+Rk5WXmZudn6Gjpaepq62vsbO1t7m7vb/Bw8WMjpCSlJaYmpyeoKKkpqiqrK6wsrS2uLq8vsDCxMbIypGTlZeZm52foaOlp6mrra+xs7W3ubu9v8HDxcfJy83PlpianJ6goqSmqKqsrrCytLa4ury+wMLExsjKzM7Q0tSbnZ+ho6Wnqautr7Gztbe5u72/wcPFx8nLzc/R09XX2aCipKaoqqyusLK0tri6vL7AwsTGyMrMztDS1NbY2tzepaepq62vsbO1t7m7vb/Bw8XHycvNz9HT1dfZ293f4eOqrK6wsrS2uLq8vsDCxMbIyszO0NLU1tja3N7g4uTm6K+xs7W3ubu9v8HDxcfJy83P0dPV19nb3d/h4+Xn6evttLa4ury+wMLExsjKzM7Q0tTW2Nrc3uDi5Obo6uzu8PK5u72/wcPFx8nLzc/R09XX2dvd3+Hj5efp6+3v8fP1977AwsTGyMrMztDS1NbY2tze4OLk5ujq7O7w8vT2+Pr8w8XHycvNz9HT1dfZ293f4ePl5+nr7e/x8/X3+fv9/wFQUlRWWFpcXmBiZGZoamxucHJ0dnh6fH6AgoSGiIqMjlVXWVtdX2FjZWdpa21vcXN1d3l7fX+Bg4WHiYuNj5GTWlxeYGJkZmhqbG5wcnR2eHp8foCChIaIioyOkJKUlphfYWNlZ2lrbW9xc3V3eXt9f4GDhYeJi42PkZOVl5mbnWRmaGpsbnBydHZ4enx+gIKEhoiKjI6QkpSWmJqcnqCiaWttb3FzdXd5e31/gYOFh4mLjY+Rk5WXmZudn6GjpaducHJ0dnh6fH6AgoSGiIqMjpCSlJaYmpyeoKKkpqiqrHN1d3l7fX+Bg4WHiYuNj5GTlZeZm52foaOlp6mrra+xeHp8foCChIaIioyOkJKUlpianJ6goqSmqKqsrrCytLZ9f4GDhYeJi42PkZOVl5mbnZ+ho6Wnqautr7Gztbe5u4KEhoiKjI6QkpSWmJqcnqCipKaoqqyusLK0tri6vL7Ah4mLjY+Rk5WXmZudn6Gjpaepq62vsbO1t7m7vb/Bw8WMjpCSlJaYmpyeoKKkpqiqrK6wsrS2uLq8vsDCxMbIypGTlZeZm52foaOlp6mrra+xs7W3ubu9v8HDxcfJy83PlpianJ6goqSmqKqsrrCytLa4ury+wMLExsjKzM7Q0tSbnZ+ho6Wnqautr7Gztbe5u72/wcPFx8nLzc/R09XX2aCipKaoqqyusLK0tri6vL7AwsTGyMrMztDS1NbY2tzepaepq62vsbO1t7m7vb/Bw8XHycvNz9HT1dfZ293f4eOqrK6wsrS2uLq8vsDCxMbIyszO0NLU1tja3N7g4uTm6K+xs7W3ubu9v8HDxcfJy83P0dPV19nb3d/h4+Xn6evttLa4ury+wMLExsjKzM7Q0tTW2Nrc3uDi5Obo6uzu8PK5u72/wcPFx8nLzc/R09XX2dvd3+Hj5efp6+3v8fP1977AwsTGyMrMztDS1NbY2tze4OLk5ujq7O7w8vT2+Pr8w8XHycvNz9HT1dfZ293f4ePl5+nr7e/x8/X3+fv9/wHIyszO0NLU1tja3N7g4uTm6Ors7vDy9Pb4+vz+AAIEBs3P0dPV19nb3d/h4+Xn6evt7/Hz9ff5+/3/AQMFBwkL0tTW2Nrc3uDi5Obo6uzu8PL09vj6/P4AAgQGCAoMDhDX2dvd3+Hj5efp6+3v8fP19/n7/f8BAwUHCQsNDxETFdze4OLk5ujq7O7w8vT2+Pr8/gACBAYICgwOEBIUFhga4ePl5+nr7e/x8/X3+fv9/wEDBQcJCw0PERMVFxkbHR/m6Ors7vDy9Pb4+vz+AAIEBggKDA4QEhQWGBocHiAiJOvt7/Hz9ff5+/3/AQMFBwkLDQ8RExUXGRsdHyEjJScpDgAAADgAAAAGAAAACAAAAAYAAAAAAAAABQAAAAgAAAABAAAAAQAAAAEAAQB5AAAACQAAAAgAAAAAAAAAAAAcQA=="
}
