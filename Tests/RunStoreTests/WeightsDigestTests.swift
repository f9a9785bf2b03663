import RunStore
import XCTest

final class WeightsDigestTests: XCTestCase {
    /// The digest equals SHA-256 of the byte stream the rule describes, built by hand here.
    func testDigestFollowsTheByteRule() {
        let entries = [
            WeightEntry(key: "fc.weight", shape: [2, 1], floats: [1.0, -2.5]),
            WeightEntry(key: "bn.num_batches_tracked", shape: [], int64s: [258]),
        ]
        var stream: [UInt8] = Array("bn.num_batches_tracked".utf8)
        stream += [0x02, 0x01, 0, 0, 0, 0, 0, 0]                          // 258 as <i8
        stream += Array("fc.weight".utf8)
        stream += [2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]         // shape (2, 1)
        stream += [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]         // 1.0, -2.5 as <f4
        XCTAssertEqual(WeightsDigest.sha256(of: entries), SHA256.hex(stream))
    }

    func testOrderIndependentButContentSensitive() {
        let record = Samples.record()
        let digest = WeightsDigest.sha256(of: record.weights)
        XCTAssertEqual(digest.count, 64)
        XCTAssertEqual(WeightsDigest.sha256(of: record.weights.reversed()), digest)
        var changedShape = record.weights
        changedShape[5] = WeightEntry(key: "resnet.fc.weight", shape: [4, 10], values: changedShape[5].values)
        XCTAssertNotEqual(WeightsDigest.sha256(of: changedShape), digest)
        var changedKey = record.weights
        changedKey[6].key = "resnet.fc.bias2"
        XCTAssertNotEqual(WeightsDigest.sha256(of: changedKey), digest)
        var changedType = record.weights
        changedType[3] = WeightEntry(key: "resnet.bn1.num_batches_tracked", shape: [], floats: [42])
        XCTAssertNotEqual(WeightsDigest.sha256(of: changedType), digest)
    }
}
