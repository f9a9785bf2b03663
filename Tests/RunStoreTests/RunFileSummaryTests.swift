import Foundation
@testable import RunStore
import XCTest

/// `RunFile.readSummary`: the attributes, state, metrics and bench of a run file, each verified
/// against its digest, without reading the weights or the optimizer state.
final class RunFileSummaryTests: XCTestCase {
    private func write() throws -> URL {
        let url = Samples.folder().appendingPathComponent("seed-3.h5")
        try RunFile.write(Samples.record(), to: url)
        return url
    }

    /// Flips one bit of a dataset's stored values.
    private func flip(_ url: URL, _ object: String) throws {
        let f = try HDF5File.openReadOnly(url.path)
        let at = try XCTUnwrap(try f.dataOffset(object), object)
        try f.close()
        var bytes = Samples.bytes(url)
        bytes[at] ^= 0x01
        try Data(bytes).write(to: url)
    }

    func testSummaryEqualsTheWholeRecordLessTheTensors() throws {
        let url = try write()
        let whole = try RunFile.read(url)
        let summary = try RunFile.readSummary(url)
        XCTAssertEqual(summary, RunFileSummary(attributes: whole.attributes, state: whole.state, metrics: whole.metrics, bench: whole.bench))
        XCTAssertFalse(summary.attributes.weightsSHA256.isEmpty)
    }

    /// A file whose stored weights do not hash to its `weights_sha256` (written that way, so
    /// the byte seal is intact) fails `read`, which hashes the weights; `readSummary` never
    /// reads them and returns the rest.
    func testWeightsAreNotRead() throws {
        let url = Samples.folder().appendingPathComponent("seed-3.h5")
        let record = Samples.record()
        let list = RunLayout.attributeList(record.attributes)
        let digests = ContentDigest.digests(attributes: list, record: record)
        var other = record.weights
        other[0] = WeightEntry(key: other[0].key, shape: other[0].shape, floats: [Float](repeating: 0.5, count: 108))
        try AtomicFile.write(to: url) { file in
            try RunLayout.writeAttributes(list, digests: digests, to: file)
            try RunLayout.writeEntries(other, group: RunLayout.weights, to: file)
            try RunLayout.writeEntries(record.optimizer, group: RunLayout.optimizer, to: file)
            try RunLayout.writeState(record.state, to: file)
            try RunLayout.writeMetrics(record.metrics, to: file)
            try RunLayout.writeBench(record.bench, to: file)
        }
        XCTAssertThrowsError(try RunFile.read(url)) { error in
            guard case let RunStoreError.corrupt(_, parts, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(parts, ["weights (/weights)"])
        }
        let summary = try RunFile.readSummary(url)
        XCTAssertEqual(summary.state, record.state)
        XCTAssertEqual(summary.metrics, record.metrics)
    }

    func testWhatItReadsIsVerified() throws {
        for object in ["/metrics/val_top1", "/bench/infer_img_s", "/state/epoch"] {
            let url = try write()
            try flip(url, object)
            XCTAssertThrowsError(try RunFile.readSummary(url), object) { error in
                guard case RunStoreError.corrupt = error else { return XCTFail("\(object): \(error)") }
            }
        }
        let url = try write()
        XCTAssertThrowsError(try RunFile.readSummary(url, slot: RunSlot(suite: "cifar100", profile: "smoke", experiment: "rkanet18", seed: 4))) {
            guard case RunStoreError.wrongSlot = $0 else { return XCTFail("\($0)") }
        }
    }
}
