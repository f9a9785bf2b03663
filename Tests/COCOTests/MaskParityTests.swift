import XCTest
@testable import COCO

/// Masks byte-identical to pycocotools: `Fixtures/masks.json` holds its answers
/// (`Tools/coco/make_mask_fixtures.py`) for thousands of polygons of every awkward kind, random
/// uncompressed RLEs, hand-made RLEs for the box rule, and IoU of masks and boxes with crowd.
final class MaskParityTests: XCTestCase {
    static let regenerate = "python3 -m Tools.coco.make_mask_fixtures"

    /// Row-major mask → (pixels set, Σ index, Σ index²), the checksum the script stores.
    func checksum(_ m: [UInt8]) -> [Int] {
        var n = 0, s = 0, s2 = 0
        for (i, v) in m.enumerated() where v != 0 { n += 1; s += i; s2 += i * i }
        return [n, s, s2]
    }

    func testPolygonsMergeAreaBoxAndDecode() throws {
        let f = try FixtureFile.object("masks.json", regenerate: Self.regenerate)
        let cases = f.objects("polygons")
        XCTAssertGreaterThanOrEqual(cases.count, 2000, "the fixture should hold thousands of polygon cases")
        var failures = 0
        var kinds = Set<String>()
        for (i, c) in cases.enumerated() {
            let h = c.int("h"), w = c.int("w")
            kinds.insert(c.string("k"))
            let polys: [[Double]]
            if let s = c["s"] as? NSNumber {
                let d = s.doubleValue
                polys = (c["p"] as! [[NSNumber]]).map { $0.map { Double($0.intValue) / d } }
            } else {
                polys = (c["hx"] as! [[String]]).map { $0.map(hexDouble) }
            }
            let expected = c.strings("r")
            let rles = polys.map { RLE(polygon: $0, height: h, width: w) }
            let got = rles.map(\.compressedCounts)
            let merged = RLE.merge(rles)
            let ok = got == expected && merged.compressedCounts == c.string("m")
                && Int(merged.area) == c.int("a") && merged.boundingBox == c.doubles("b")
                && checksum(merged.decodeRowMajor()) == c.ints("d")
                && RLE(polygons: polys, height: h, width: w) == merged
            if !ok {
                failures += 1
                if failures <= 5 {
                    XCTFail("""
                    polygon case \(i) (\(c.string("k")), \(h)×\(w)): \(polys)
                      rle    \(got) vs pycocotools \(expected)
                      merged \(merged.compressedCounts) vs \(c.string("m")); area \(merged.area) vs \(c.int("a")); \
                    box \(merged.boundingBox) vs \(c.doubles("b"))
                    """)
                }
            }
            // The compressed string parses back to the same counts.
            for r in rles {
                XCTAssertEqual(try RLE(compressed: Array(r.compressedCounts.utf8), height: h, width: w, what: "case \(i)"), r)
            }
        }
        XCTAssertEqual(failures, 0, "\(failures) of \(cases.count) polygon cases differ from pycocotools")
        XCTAssertEqual(kinds.count, 14, "every kind of polygon is covered: \(kinds.sorted())")
    }

    func testUncompressedRLEs() throws {
        let f = try FixtureFile.object("masks.json", regenerate: Self.regenerate)
        let cases = f.objects("uncompressed")
        XCTAssertGreaterThan(cases.count, 100)
        for (i, c) in cases.enumerated() {
            let h = c.int("h"), w = c.int("w")
            let r = RLE(height: h, width: w, counts: c.ints("c").map(UInt32.init))
            XCTAssertNoThrow(try r.validate("case \(i)"))
            XCTAssertEqual(r.compressedCounts, c.string("z"), "case \(i)")
            XCTAssertEqual(Int(r.area), c.int("a"), "case \(i)")
            XCTAssertEqual(r.boundingBox, c.doubles("b"), "case \(i)")
            let m = r.decodeRowMajor()
            XCTAssertEqual(checksum(m), c.ints("d"), "case \(i)")
            XCTAssertEqual(RLE(rowMajor: m, height: h, width: w), r, "encode(decode(r)) == r, case \(i)")
            XCTAssertEqual(try RLE(compressed: Array(c.string("z").utf8), height: h, width: w, what: "case \(i)"), r)
        }
    }

    func testHandMadeRLEsBoxRuleAndLargeCounts() throws {
        let f = try FixtureFile.object("masks.json", regenerate: Self.regenerate)
        for c in f.objects("special") {
            let r = RLE(height: c.int("h"), width: c.int("w"), counts: c.ints("c").map(UInt32.init))
            XCTAssertEqual(r.compressedCounts, c.string("z"), "\(c)")
            XCTAssertEqual(Int(r.area), c.int("a"), "\(c)")
            XCTAssertEqual(r.boundingBox, c.doubles("b"), "box of \(c.ints("c")) in \(c.int("h"))×\(c.int("w"))")
            XCTAssertEqual(try RLE(compressed: Array(c.string("z").utf8), height: r.height, width: r.width, what: "special"), r)
        }
    }

    func testIoUOfMasksAndBoxesWithCrowd() throws {
        let f = try FixtureFile.object("masks.json", regenerate: Self.regenerate)
        let cases = f.objects("iou")
        XCTAssertGreaterThan(cases.count, 100)
        var crowdSeen = false
        for (i, c) in cases.enumerated() {
            let h = c.int("h"), w = c.int("w")
            let dt = try c.strings("dt").map { try RLE(compressed: Array($0.utf8), height: h, width: w, what: "dt") }
            let gt = try c.strings("gt").map { try RLE(compressed: Array($0.utf8), height: h, width: w, what: "gt") }
            let crowd = c.ints("crowd").map { $0 != 0 }
            crowdSeen = crowdSeen || crowd.contains(true)
            // pycocotools returns (dt, gt) in Fortran order; the script wrote it C-order (row = dt).
            XCTAssertEqual(IoU.masks(dt, gt, crowd: crowd), c.strings("mask").map(hexDouble), "mask IoU, case \(i)")
            let db = (c["dbox"] as! [[String]]).map { $0.map(hexDouble) }
            let gb = (c["gbox"] as! [[String]]).map { $0.map(hexDouble) }
            XCTAssertEqual(IoU.boxes(db, gb, crowd: crowd), c.strings("box").map(hexDouble), "box IoU, case \(i)")
        }
        XCTAssertTrue(crowdSeen)
    }

    /// The string coder rejects what pycocotools would read past or misread.
    func testCompressedStringRejectsBadInput() {
        for bad in ["0p", "0 1", "\u{7f}", "P", "oooooooooooooo1", "1P"] {
            XCTAssertThrowsError(try RLE(compressed: Array(bad.utf8), height: 2, width: 2, what: "annotation id 7"), bad) { e in
                XCTAssertTrue("\(e)".contains("annotation id 7"), "\(e)")
            }
        }
        XCTAssertThrowsError(try RLE(height: 2, width: 2, counts: [1, 2]).validate("annotation id 9")) { e in
            XCTAssertTrue("\(e)".contains("cover 3 pixels"), "\(e)")
        }
    }
}
