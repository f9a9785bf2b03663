import Foundation
import RunStore
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

    /// Damaged weights are found by `read`, not by `readSummary`, which never reads them.
    func testWeightsAreNotRead() throws {
        let url = try write()
        try flip(url, "/weights/resnet.fc.weight")
        XCTAssertThrowsError(try RunFile.read(url))
        XCTAssertEqual(try RunFile.readSummary(url).state.step, 17)
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
