import Engine
import Foundation
import RunStore
import XCTest

final class ParameterStoreWeightsTests: XCTestCase {
    /// A conv + BN store like a torchvision stem.
    private func makeStore(seed: UInt64) -> ParameterStore {
        let store = ParameterStore()
        _ = store.weight("conv1.weight", shape: [3, 2, 2, 2], layout: .convOHWI, initializer: .normal(std: 1))
        store.scoped("bn1") {
            _ = store.weight("weight", shape: [3], initializer: .uniform(bound: 1))
            _ = store.weight("bias", shape: [3], initializer: .uniform(bound: 1))
            _ = store.buffer("running_mean", shape: [3], initializer: .normal(std: 1))
            _ = store.buffer("running_var", shape: [3], initializer: .ones)
            _ = store.counter("num_batches_tracked")
        }
        _ = store.weight("fc.weight", shape: [4, 3], initializer: .uniform(bound: 0.5))
        store.finalize()
        store.initialize(seed: seed)
        return store
    }

    func testEntriesFollowStateDictOrderAndTorchLayout() {
        let store = makeStore(seed: 1)
        store.counters[0].value = 7
        let entries = store.weightEntries()
        XCTAssertEqual(entries.map(\.key), ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                           "bn1.running_var", "bn1.num_batches_tracked", "fc.weight"])
        XCTAssertEqual(entries[0].shape, [3, 2, 2, 2])
        XCTAssertEqual(entries[0].values.floats, store.parameters[0].torchValues())
        XCTAssertEqual(entries[5].values, .int64([7]))
    }

    func testLoadThroughARunFileRestoresEveryValue() throws {
        let source = makeStore(seed: 1)
        source.counters[0].value = 11
        let url = Samples.folder().appendingPathComponent("w.h5")
        var record = Samples.record()
        record.weights = source.weightEntries()
        try RunFile.write(record, to: url)
        let target = makeStore(seed: 2)
        XCTAssertNotEqual(target.weightEntries(), source.weightEntries())
        try target.load(try RunFile.read(url).weights, from: url.path)
        XCTAssertEqual(target.weightEntries(), source.weightEntries())
        // Engine-order storage matches too (the OIHW → OHWI conversion ran).
        XCTAssertEqual(Array(UnsafeBufferPointer(start: target.values, count: target.parameterCount)),
                       Array(UnsafeBufferPointer(start: source.values, count: source.parameterCount)))
        XCTAssertEqual(target.counters[0].value, 11)
    }

    func testLoadRejectsAnotherModel() {
        let store = makeStore(seed: 1)
        var entries = store.weightEntries()
        entries.removeLast()
        entries[0] = WeightEntry(key: "conv1.weight", shape: [3, 2, 4], floats: [Float](repeating: 0, count: 24))
        entries.append(WeightEntry(key: "extra.bias", shape: [1], floats: [0]))
        let before = store.weightEntries()
        let error = assertRunStoreError(try store.load(entries, from: "w.h5"), "wrong model")
        let text = error?.description ?? ""
        for part in ["w.h5", "missing fc.weight", "unexpected extra.bias", "conv1.weight", "another model spec"] {
            XCTAssertTrue(text.contains(part), text)
        }
        XCTAssertEqual(store.weightEntries(), before)
    }

    /// `.ignore` (forward on a reference state dict): keys the model does not use are left out
    /// and returned under the file's own names; a missing key is still an error; the order of
    /// the entries does not matter.
    func testLoadIgnoringUnusedKeysReturnsThem() throws {
        let source = makeStore(seed: 1)
        let entries = source.weightEntries().reversed()
            + [WeightEntry(key: "z.chebyshev_weight", shape: [1], floats: [0]), WeightEntry(key: "a.bias", shape: [1], floats: [0])]
        let target = makeStore(seed: 2)
        XCTAssertEqual(target.mismatch(with: Array(entries)).unexpected, ["z.polynomial_weight", "a.bias"])
        XCTAssertTrue(target.mismatch(with: Array(entries), unexpected: .ignore).isEmpty)
        XCTAssertEqual(try target.load(Array(entries), from: "ref.h5", unexpected: .ignore), ["a.bias", "z.chebyshev_weight"])
        XCTAssertEqual(target.weightEntries(), source.weightEntries())
        let short = Array(entries.dropFirst())   // without fc.weight
        let m = target.mismatch(with: short, unexpected: .ignore)
        XCTAssertEqual(m.missing, ["fc.weight"])
        _ = assertRunStoreError(try target.load(short, from: "ref.h5", unexpected: .ignore), "missing key")
    }
}
