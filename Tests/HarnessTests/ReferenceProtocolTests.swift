import Foundation
import XCTest
import Engine
import Datasets
import Zoo
import RunStore
@testable import Harness

/// The training protocol details that follow the reference notebook (22e50367:training.ipynb
/// and tests/test_utils.py): the mix partner, the last partial batch, and reading reference state dicts.
final class ReferenceProtocolTests: XCTestCase {
    /// A batch whose sample i holds the value i everywhere and has label i (one class per sample).
    private func numbered(_ n: Int, h: Int = 6, w: Int = 6) -> (Tensor, [Int]) {
        let x = Tensor(zeros: [n, h, w, 1])
        for i in 0..<n { for k in 0..<(h * w) { x.data[i * h * w + k] = Float(i) } }
        return (x, Array(0..<n))
    }

    /// tests/test_utils.py mixes sample i with sample index[i] of `torch.randperm(batch_size)`: the
    /// partners over a batch are a permutation, and over batches not always the roll by one.
    func testMixPartnerIsARandomPermutation() throws {
        let n = 16
        var rolled = 0, batches = 0
        for (cut, mix) in [((1.0, 1.0), (0.0, 0.2)), ((0.0, 1.0), (1.0, 0.2))] {
            let mixer = BatchMixer(cutmix: cut, mixup: mix, classes: n, seed: 5, epoch: 2)
            for b in 0..<8 {
                let (x, labels) = numbered(n)
                let batch = mixer.mix(x, labels: labels, batchIndex: b)
                guard case let .soft(t) = batch.targets else { return XCTFail("batch \(b) was not mixed") }
                var partner: [Int] = []
                for i in 0..<n {
                    let row = (0..<n).map { t.data[i * n + $0] }
                    XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5, "targets of sample \(i) sum to 1")
                    // λ on the own label, 1 − λ on the partner's (λ may be 1 for an empty CutMix box).
                    let others = (0..<n).filter { $0 != i && row[$0] > 0 }
                    XCTAssertLessThanOrEqual(others.count, 1)
                    partner.append(others.first ?? -1)
                }
                if partner.contains(-1) { continue }
                batches += 1
                XCTAssertEqual(Set(partner).count, n, "partners of batch \(b) form a permutation")
                // The images agree with the targets: MixUp pixels are λ·i + (1−λ)·partner.
                if mix.0 == 1 {
                    for i in 0..<n {
                        let lam = t.data[i * n + i], expected = lam * Float(i) + (1 - lam) * Float(partner[i])
                        XCTAssertEqual(batch.images.data[i * 36], expected, accuracy: 1e-4, "pixel of sample \(i)")
                    }
                }
                if partner == (0..<n).map({ ($0 + n - 1) % n }) { rolled += 1 }
            }
        }
        XCTAssertGreaterThan(batches, 8)
        XCTAssertEqual(rolled, 0, "never the roll by one of the old implementation")
    }

    func testPermutationIsUniformAndKeyedByTheDraws() {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 4), count: 4)
        for b in 0..<4000 {
            var d = RandomDraws(Philox(seed: 1, purpose: .mix, index: UInt64(b)))
            for (i, j) in d.permutation(4).enumerated() { counts[i][j] += 1 }
        }
        for row in counts { for c in row { XCTAssertEqual(Double(c), 1000, accuracy: 4 * (1000 * 0.75).squareRoot(), "\(counts)") } }
        var a = RandomDraws(Philox(seed: 9, purpose: .mix, index: 3)), b = RandomDraws(Philox(seed: 9, purpose: .mix, index: 3))
        XCTAssertEqual(a.permutation(50), b.permutation(50))
    }

    /// The notebook's DataLoader has no drop_last: 10 images in batches of 4 give 3 batches, the last of 2.
    func testLastPartialTrainingBatchIsKept() throws {
        let ds = try InMemoryDataset(name: "t", classes: 2, channels: 1, height: 4, width: 4,
                                     pixels: [UInt8](repeating: 7, count: 10 * 16), labels: (0..<10).map { Int32($0 % 2) })
        let data = TrainingData(dataset: .fashionMNIST, train: ds, test: ds, trainIndices: Array(0..<10), testIndices: Array(0..<10),
                                imageSize: 4, workers: 0)
        XCTAssertEqual(data.trainBatchesPerEpoch(batchSize: 4), 3)
        let stream = try data.trainLoader(epoch: 0, seed: 0, batchSize: 4, augment: .none)
        defer { stream.close() }
        var sizes: [Int] = []
        while let b = try stream.next() { sizes.append(b.labels.count) }
        XCTAssertEqual(sizes, [4, 4, 2])
    }

    // MARK: - state dicts of the reference

    private func tempFile(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rkan-fidelity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.appendingPathComponent(name)
    }

    /// A reference state dict: old KAN names are accepted, keys of modules the forward never uses
    /// are listed, and a missing used key is an error naming it.
    func testForwardWeightsAcceptLegacyNamesAndListUnusedKeys() throws {
        let spec = "resnet18(stem=small,width=0.125)+rkan"
        let model = try Model(spec, classes: 10, inChannels: 1)
        model.initialize(seed: 4)
        var entries = model.store.weightEntries().map { e -> WeightEntry in
            var e = e
            e.key = e.key.replacingOccurrences(of: ".polynomial_weight", with: ".chebyshev_weight")
                .replacingOccurrences(of: ".scaler", with: ".chebyshev_scaler")
            return e
        }
        // Modules the reference class builds for every stage but this configuration never calls.
        entries.append(WeightEntry(key: "kan_conv1.0.convs.0.conv.chebyshev_weight", shape: [1, 9, 4], floats: [Float](repeating: 0, count: 36)))
        entries.append(WeightEntry(key: "gate_convs.3.bias", shape: [64], floats: [Float](repeating: 0, count: 64)))
        let url = try tempFile("reference.h5")
        try InitFile.write(InitFile.Header(model: spec, classes: 10, inChannels: 1, seed: 4), weights: entries, to: url)

        let fresh = try Model(spec, classes: 10, inChannels: 1)
        let unused = try ForwardPass.load(weights: url, into: fresh)
        XCTAssertEqual(unused, ["gate_convs.3.bias", "kan_conv1.0.convs.0.conv.chebyshev_weight"])
        XCTAssertEqual(fresh.store.weightEntries(), model.store.weightEntries(), "every used tensor loaded, under its new name")

        let missing = entries.filter { $0.key != "kan_conv2.3.convs.0.conv.chebyshev_scaler" && $0.key != "resnet.layer4.1.bn2.num_batches_tracked" }
        let bad = try tempFile("missing.h5")
        try InitFile.write(InitFile.Header(model: spec, classes: 10, inChannels: 1, seed: 4), weights: missing, to: bad)
        XCTAssertThrowsError(try ForwardPass.load(weights: bad, into: try Model(spec, classes: 10, inChannels: 1))) { e in
            XCTAssertTrue("\(e)".contains("missing kan_conv2.3.convs.0.conv.scaler, resnet.layer4.1.bn2.num_batches_tracked"), "\(e)")
        }
    }

    /// An old kan_conv2 of degree 3 does not fit the new default: the message says which option reads it.
    func testOldDegree3KANConv2NamesTheOption() throws {
        let old = try Model("resnet18(stem=small,width=0.125)+rkan(degree=3)", classes: 10, inChannels: 1)
        old.initialize(seed: 1)
        let url = try tempFile("old.h5")
        try InitFile.write(InitFile.Header(model: "x", classes: 10, inChannels: 1, seed: 1), weights: old.store.weightEntries(), to: url)
        XCTAssertThrowsError(try ForwardPass.load(weights: url, into: try Model("resnet18(stem=small,width=0.125)+rkan", classes: 10, inChannels: 1))) { e in
            XCTAssertTrue("\(e)".contains("degree=3"), "\(e)")
        }
        XCTAssertNoThrow(try ForwardPass.load(weights: url, into: try Model("resnet18(stem=small,width=0.125)+rkan(degree=3)", classes: 10, inChannels: 1)))
    }

    func testLegacyRenamingKeepsKeysThatAlreadyHaveTheNewName() {
        let e = [WeightEntry(key: "a.chebyshev_scaler", shape: [1], floats: [1]), WeightEntry(key: "a.scaler", shape: [1], floats: [2]),
                 WeightEntry(key: "b.chebyshev_weight", shape: [1], floats: [3]), WeightEntry(key: "c.weight", shape: [1], floats: [4])]
        XCTAssertEqual(e.renamingLegacyKANKeys().map(\.key), ["a.chebyshev_scaler", "a.scaler", "b.polynomial_weight", "c.weight"])
    }
}
