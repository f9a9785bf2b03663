import Foundation
@testable import RunStore
import XCTest

final class RunFileTests: XCTestCase {
    func testRoundTripOfEveryField() throws {
        let url = Samples.folder().appendingPathComponent("runs/cifar100/smoke/rkanet18/seed-3.h5")
        var record = Samples.record()
        let digest = try RunFile.write(record, to: url)  // creates the parent folders
        record.attributes.weightsSHA256 = digest
        let back = try RunFile.read(url)
        XCTAssertEqual(back.attributes, record.attributes)
        // Stored (and read back) in key order, whatever order the record listed them in.
        XCTAssertNotEqual(record.weights.map(\.key), record.weights.map(\.key).sorted(), "the sample is not in key order")
        XCTAssertEqual(back.weights.map(\.key), record.weights.map(\.key).sorted())
        record.weights = WeightsDigest.inKeyOrder(record.weights)
        XCTAssertEqual(back.weights, record.weights)  // same keys, shapes, bytes, types
        XCTAssertEqual(back.optimizer, record.optimizer)
        XCTAssertEqual(back.state, record.state)
        XCTAssertEqual(back.metrics, record.metrics)
        XCTAssertEqual(back.bench, record.bench)
        XCTAssertEqual(back, record)
        XCTAssertEqual(back.weights.first { $0.key == "resnet.bn1.num_batches_tracked" }?.values, .int64([42]))
        XCTAssertEqual(try RunFile.readAttributes(url), record.attributes)
        XCTAssertEqual(try RunFile.readWeights(url), record.weights)
    }

    /// `winograd_gemm` round-trips, and a file written before it existed reads as `openblas` (the
    /// GEMM those files ran), so a resume or a check compares it correctly.
    func testWinogradGEMMRoundTripsAndDefaultsToOpenBLASWhenAbsent() throws {
        let url = Samples.folder().appendingPathComponent("gemm.h5")
        var record = Samples.record()
        record.attributes.winogradGEMM = "own"
        record.attributes.weightsSHA256 = try RunFile.write(record, to: url)
        XCTAssertEqual(try RunFile.readAttributes(url).winogradGEMM, "own")
        let list = RunLayout.attributeList(record.attributes) + [("weights_sha256", .string(record.attributes.weightsSHA256))]
        XCTAssertTrue(list.contains { $0.0 == "winograd_gemm" })
        let old = try RunLayout.decodeAttributes(list.filter { $0.0 != "winograd_gemm" }, path: "old.h5")
        XCTAssertEqual(old.winogradGEMM, "openblas")
        XCTAssertEqual(try RunLayout.decodeAttributes(list, path: "new.h5").winogradGEMM, "own")
        let foreign = list.map { $0.0 == "winograd_gemm" ? ($0.0, HDF5AttributeValue.string("mkl")) : $0 }
        XCTAssertThrowsError(try RunLayout.decodeAttributes(foreign, path: "foreign.h5")) { e in
            XCTAssertTrue("\(e)".contains("winograd_gemm") && "\(e)".contains("foreign.h5"), "\(e)")
        }
    }

    func testEmptyRecordRoundTrips() throws {
        let url = Samples.folder().appendingPathComponent("empty.h5")
        var record = RunRecord(attributes: Samples.record().attributes)
        record.attributes.weightsSHA256 = try RunFile.write(record, to: url)
        XCTAssertEqual(try RunFile.read(url), record)
    }

    func testIdenticalRecordsGiveIdenticalBytes() throws {
        // Written a second apart: object timestamps would differ if they were on.
        let folder = Samples.folder()
        let a = folder.appendingPathComponent("a.h5"), b = folder.appendingPathComponent("sub/b.h5")
        try RunFile.write(Samples.record(), to: a)
        Thread.sleep(forTimeInterval: 1.1)
        try RunFile.write(Samples.record(), to: b)
        let bytesA = Samples.bytes(a), bytesB = Samples.bytes(b)
        XCTAssertGreaterThan(bytesA.count, 1000)
        XCTAssertEqual(bytesA.count, bytesB.count)
        XCTAssertTrue(bytesA == bytesB, "files differ at byte \((0..<min(bytesA.count, bytesB.count)).first { bytesA[$0] != bytesB[$0] } ?? -1)")
        // A different weight gives different bytes and a different digest.
        var changed = Samples.record()
        changed.weights[1] = WeightEntry(key: "resnet.bn1.weight", shape: [4], floats: [1, 2, 3, 4])
        let c = folder.appendingPathComponent("c.h5")
        try RunFile.write(changed, to: c)
        XCTAssertNotEqual(Samples.bytes(c), bytesA)
        XCTAssertNotEqual(try RunFile.readAttributes(c).weightsSHA256, try RunFile.readAttributes(a).weightsSHA256)
    }

    func testAtomicRewriteAndLeftoverTemporaryFile() throws {
        let url = Samples.folder().appendingPathComponent("seed-0.h5")
        var v1 = Samples.record(scale: 1)
        v1.attributes.status = .running
        try RunFile.write(v1, to: url)
        var v2 = Samples.record(scale: 2)
        v2.attributes.status = .finished
        v2.state.epoch = 3
        // Crashes left half-written temporary files next to the target: one of a process that
        // no longer runs (pid 999999 is above this machine's pids), one of a live one (pid 1).
        let leftover = URL(fileURLWithPath: url.path + ".tmp-999999")
        try Data(Samples.bytes(url).prefix(300)).write(to: leftover)
        try Data(Samples.bytes(url).prefix(300)).write(to: URL(fileURLWithPath: url.path + ".tmp-1"))
        XCTAssertEqual(try RunFile.read(url).attributes.status, .running)
        try RunFile.write(v2, to: url)
        let back = try RunFile.read(url)
        XCTAssertEqual(back.attributes.status, .finished)
        XCTAssertEqual(back.state.epoch, 3)
        XCTAssertEqual(back.weights, WeightsDigest.inKeyOrder(v2.weights))
        // Our own temporary file is gone after the rename, so is the dead process's; the live
        // process's one is left alone.
        let names = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path).sorted()
        XCTAssertEqual(names, ["seed-0.h5", "seed-0.h5.tmp-1"])
    }

    func testFailedWriteKeepsThePreviousFile() throws {
        let url = Samples.folder().appendingPathComponent("seed-0.h5")
        try RunFile.write(Samples.record(), to: url)
        let before = Samples.bytes(url)
        var bad = Samples.record(scale: 3)
        bad.weights.append(WeightEntry(key: "a/b", shape: [1], floats: [1]))  // not a valid key
        let error = assertRunStoreError(try RunFile.write(bad, to: url), "bad key")
        XCTAssertTrue(error?.description.contains("a/b") ?? false)
        XCTAssertEqual(Samples.bytes(url), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path), ["seed-0.h5"])
        var duplicate = Samples.record()
        duplicate.weights.append(duplicate.weights[0])
        assertRunStoreError(try RunFile.write(duplicate, to: url), "duplicate key")
        XCTAssertEqual(Samples.bytes(url), before)
    }

    func testWrongSchema() throws {
        let url = Samples.folder().appendingPathComponent("old.h5")
        var record = Samples.record()
        record.attributes.schema = "rkan-repro/0"
        try RunFile.write(record, to: url)
        let error = assertRunStoreError(try RunFile.read(url), "old schema")
        XCTAssertEqual(error, .wrongSchema(path: url.path, found: "rkan-repro/0", expected: "rkan-repro/2"))
        let text = error?.description ?? ""
        for part in [url.path, "rkan-repro/0", "rkan-repro/2", "retrain"] { XCTAssertTrue(text.contains(part), text) }
        XCTAssertEqual(assertRunStoreError(try RunFile.readAttributes(url), "old schema, attributes"), error)
    }

    func testTruncatedFile() throws {
        let url = Samples.folder().appendingPathComponent("cut.h5")
        try RunFile.write(Samples.record(), to: url)
        let bytes = Samples.bytes(url)
        try Data(bytes.prefix(bytes.count / 2)).write(to: url)
        let error = assertRunStoreError(try RunFile.read(url), "truncated")
        guard case .unreadable(let path, let detail)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(path, url.path)
        XCTAssertTrue(detail.contains("truncated"), detail)  // HDF5's own words
        XCTAssertTrue(error!.description.contains("move it aside and retrain the run"))
        assertRunStoreError(try RunFile.readAttributes(url), "truncated, attributes")
    }

    func testCorruptWeightsFailTheDigest() throws {
        let url = Samples.folder().appendingPathComponent("flip.h5")
        let record = Samples.record()
        try RunFile.write(record, to: url)
        // Flip one byte inside the stored values of resnet.fc.bias (found by its bytes).
        var bytes = Samples.bytes(url)
        let needle = record.weights.first { $0.key == "resnet.fc.bias" }!.values.floats!.withUnsafeBytes { [UInt8]($0) }
        let at = (0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
        XCTAssertNotNil(at)
        bytes[at! + 5] ^= 0x40
        try Data(bytes).write(to: url)
        // The seal sees the changed bytes before HDF5 parses the file...
        let sealed = assertRunStoreError(try RunFile.read(url), "flipped byte")
        XCTAssertEqual(sealed, .corrupt(path: url.path, parts: ["weights (/weights)"], detail: "its bytes differ from the checksums written with it"))
        // ...and with the seal recomputed over the changed bytes (a file edited and re-sealed),
        // the content digests still name the part.
        try Data(FileSealTests.resealed(bytes)).write(to: url)
        let error = assertRunStoreError(try RunFile.read(url), "flipped byte, re-sealed")
        XCTAssertEqual(error, .corrupt(path: url.path, parts: ["weights (/weights)"], detail: "recomputed digests differ from the stored ones"))
    }

    func testUnwritableFolder() throws {
        // Root ignores permission bits, so use a path below a regular file.
        let file = Samples.folder().appendingPathComponent("x.txt")
        try Data("not a folder".utf8).write(to: file)
        let url = file.appendingPathComponent("sub/run.h5")
        let error = assertRunStoreError(try RunFile.write(Samples.record(), to: url), "folder under a file")
        guard case .cannotWrite(let path, let detail)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(path, url.path)
        XCTAssertTrue(detail.contains("\(file.path) is a file, not a folder"), detail)
        XCTAssertTrue(error!.description.contains("writable"), error!.description)
    }

    func testGivenDigestMustMatchTheWeights() throws {
        let url = Samples.folder().appendingPathComponent("d.h5")
        var record = Samples.record()
        record.attributes.weightsSHA256 = String(repeating: "0", count: 64)
        assertRunStoreError(try RunFile.write(record, to: url), "stale digest")
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        record.attributes.weightsSHA256 = WeightsDigest.sha256(of: record.weights)
        XCTAssertEqual(try RunFile.write(record, to: url), record.attributes.weightsSHA256)
    }

    func testHDF5FileThatIsNotARunFile() throws {
        let url = Samples.folder().appendingPathComponent("input.h5")
        let f = try HDF5File.create(url.path)
        try f.write([Float](repeating: 0, count: 4), shape: [1, 1, 2, 2], to: "/input")
        try f.close()
        let error = assertRunStoreError(try RunFile.read(url), "no schema")
        guard case .wrongSchema(let path, let found, _)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(path, url.path)
        XCTAssertTrue(found.contains("no schema attribute"), found)
        XCTAssertEqual(assertRunStoreError(try RunFile.readWeights(url), "no /weights"),
                       .missingObject(path: url.path, object: "/weights"))
    }

    func testMissingFile() {
        let url = Samples.folder().appendingPathComponent("none.h5")
        XCTAssertEqual(assertRunStoreError(try RunFile.read(url), "missing"), .missingFile(path: url.path))
    }
}
