import Foundation
@testable import RunStore
import XCTest

final class HDF5FileTests: XCTestCase {
    func testDatasetsOfEveryTypeRoundTrip() throws {
        let path = Samples.folder().appendingPathComponent("d.h5").path
        let f = try HDF5File.create(path)
        try f.write([Float](arrayLiteral: 1.5, -2, .infinity, .leastNonzeroMagnitude, 0, 7), shape: [2, 3], to: "/a/f32")
        try f.write([Double.pi, -1e300], shape: [2], to: "/a/f64")
        try f.write([Int64.min, 0, Int64.max], shape: [3, 1], to: "/b/i64")
        try f.write([UInt8](0...255), shape: [16, 4, 4], to: "/c/deep/u8")
        try f.write([Float](), shape: [0, 5], to: "/empty")
        try f.writeScalar(Int64(-9), to: "/s/i")
        try f.writeScalar(UInt64.max, to: "/s/u")
        try f.writeScalar(2.5 as Float, to: "/s/f")
        try f.close()

        let r = try HDF5File.openReadOnly(path)
        XCTAssertEqual(try r.read(Float.self, at: "/a/f32"),
                       ShapedArray(shape: [2, 3], values: [1.5, -2, .infinity, .leastNonzeroMagnitude, 0, 7]))
        XCTAssertEqual(try r.read(Double.self, at: "/a/f64").values, [Double.pi, -1e300])
        XCTAssertEqual(try r.read(Int64.self, at: "/b/i64"), ShapedArray(shape: [3, 1], values: [Int64.min, 0, Int64.max]))
        XCTAssertEqual(try r.read(UInt8.self, at: "/c/deep/u8"), ShapedArray(shape: [16, 4, 4], values: [UInt8](0...255)))
        XCTAssertEqual(try r.read(Float.self, at: "/empty").shape, [0, 5])
        XCTAssertEqual(try r.datasetInfo("/s/i").shape, [])
        XCTAssertEqual(try r.readScalar(Int64.self, at: "/s/i"), -9)
        XCTAssertEqual(try r.readScalar(UInt64.self, at: "/s/u"), UInt64.max)
        XCTAssertEqual(try r.readScalar(Float.self, at: "/s/f"), 2.5)
        // Size conversion within a class is allowed (float32 → float64).
        XCTAssertEqual(try r.read(Double.self, at: "/a/f32").values[0], 1.5)
        XCTAssertEqual(try r.datasetInfo("/b/i64").storageClass, .integer)
    }

    func testGroupsListInCreationOrder() throws {
        let path = Samples.folder().appendingPathComponent("g.h5").path
        let f = try HDF5File.create(path)
        try f.createGroup("/weights/nested/deeper")
        let keys = ["zeta.weight", "alpha.bias", "layer1.0.bn1.running_var", "b"]
        for (i, k) in keys.enumerated() { try f.write([Float(i)], shape: [1], to: "/weights/\(k)") }
        XCTAssertEqual(try f.members(of: "/"), ["weights"])
        XCTAssertEqual(try f.members(of: "/weights"), ["nested"] + keys)
        XCTAssertTrue(try f.isGroup("/weights/nested"))
        XCTAssertFalse(try f.isGroup("/weights/b"))
        XCTAssertTrue(try f.exists("/weights/layer1.0.bn1.running_var"))
        XCTAssertFalse(try f.exists("/weights/missing/x"))
        try f.createGroup("/weights/nested")  // existing: kept, no error
        try f.close()
        XCTAssertEqual(try HDF5File.openReadOnly(path).members(of: "/weights"), ["nested"] + keys)
    }

    func testAttributesOfEveryKind() throws {
        let path = Samples.folder().appendingPathComponent("a.h5").path
        let f = try HDF5File.create(path)
        try f.write([Float(1)], shape: [1], to: "/x")
        let values: [String: HDF5AttributeValue] = [
            "s": .string("héllo ✓"), "empty": .string(""), "i": .int64(-3), "d": .double(0.1),
            "ss": .strings(["a", "", "ccc"]), "is": .int64s([1, 2, 3]), "ds": .doubles([0.5, -0.25]),
        ]
        for (k, v) in values {
            try f.setAttribute(k, v)
            try f.setAttribute(k, v, on: "/x")
        }
        try f.setAttribute("fixed", .string("fixed ✓"), strings: .fixed)
        try f.setAttribute("fixeds", .strings(["ab", "c"]), strings: .fixed)
        try f.setAttribute("i", .int64(5))  // replaces
        try f.close()

        let r = try HDF5File.openReadOnly(path)
        for (k, v) in values {
            XCTAssertEqual(try r.attribute(k, of: "/x"), v, k)
            XCTAssertEqual(try r.attribute(k), k == "i" ? .int64(5) : v, k)
        }
        XCTAssertEqual(try r.attribute("fixed"), .string("fixed ✓"))
        XCTAssertEqual(try r.attribute("fixeds"), .strings(["ab", "c"]))
        XCTAssertNil(try r.attribute("nope"))
        XCTAssertEqual(try r.attributeNames(of: "/x"), values.keys.sorted())
    }

    func testErrorsNameTheFileAndObject() throws {
        let path = Samples.folder().appendingPathComponent("e.h5").path
        let f = try HDF5File.create(path)
        try f.write([Int64(1), 2], shape: [2], to: "/ints")
        let mismatch = assertRunStoreError(try f.write([Float(1)], shape: [2], to: "/bad"), "count mismatch")
        XCTAssertTrue(mismatch?.description.contains("/bad") ?? false)
        assertRunStoreError(try f.write([Float(1)], shape: [1], to: "/ints"), "existing dataset")
        try f.close()
        assertRunStoreError(try f.members(of: "/"), "closed file")

        let r = try HDF5File.openReadOnly(path)
        let wrong = assertRunStoreError(try r.read(Float.self, at: "/ints"), "int read as float")
        XCTAssertEqual(wrong, .wrongType(path: path, object: "/ints", expected: "a float32 dataset", found: "a integer dataset"))
        XCTAssertEqual(assertRunStoreError(try r.read(Float.self, at: "/nothing"), "missing"),
                       .missingObject(path: path, object: "/nothing"))
        assertRunStoreError(try r.write([Float(1)], shape: [1], to: "/new"), "read-only")
        assertRunStoreError(try r.read(Float.self, at: "/"), "group read as dataset")
        XCTAssertEqual(assertRunStoreError(try HDF5File.openReadOnly(path + ".absent"), "missing file"),
                       .missingFile(path: path + ".absent"))
    }

    func testNotAnHDF5File() throws {
        let url = Samples.folder().appendingPathComponent("text.h5")
        try Data("just some text, not HDF5\n".utf8).write(to: url)
        let error = assertRunStoreError(try HDF5File.openReadOnly(url.path), "text file")
        guard case .unreadable(let path, _)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(path, url.path)
        XCTAssertTrue(error!.description.contains("truncated or not an HDF5 file"), error!.description)
        XCTAssertTrue(error!.description.contains("move it aside and retrain the run"))
    }

    func testConcurrentUseIsSerialised() throws {
        // Eight threads write and read their own files at once; the global lock keeps HDF5
        // (not thread-safe in this build) consistent.
        let folder = Samples.folder()
        let failures = NSLock()
        var messages: [String] = []
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            do {
                let path = folder.appendingPathComponent("t\(t).h5").path
                let values = (0..<1000).map { Float($0 * (t + 1)) }
                let f = try HDF5File.create(path)
                for k in 0..<10 { try f.write(values, shape: [10, 100], to: "/g/d\(k)") }
                try f.close()
                let r = try HDF5File.openReadOnly(path)
                for k in 0..<10 where try r.read(Float.self, at: "/g/d\(k)").values != values {
                    failures.lock(); messages.append("thread \(t) dataset \(k) differs"); failures.unlock()
                }
            } catch {
                failures.lock(); messages.append("thread \(t): \(error)"); failures.unlock()
            }
        }
        XCTAssertEqual(messages, [])
    }
}
