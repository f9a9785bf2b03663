import XCTest
@testable import Engine
import TestSupport

/// The layers' batch reductions over virtual shards: a small network trained on 1 process and on
/// 2 and 4 in-process ranks (threads, `InProcessRanks`) gives the same bytes everywhere:
/// BatchNorm statistics (synchronised, full batch), outputs, loss, input and weight gradients.
final class ShardedTrainingTests: XCTestCase {
    static let (batch, side, channels, classes) = (12, 5, 3, 4)

    /// conv 3×3 → BN → ReLU → Chebyshev KAN 3×3 → conv 1×1 (bias) → BN → global pool → linear.
    final class Net {
        let store: ParameterStore
        let conv1, conv2: Conv2d
        let bn1, bn2: BatchNorm2d
        let kan: ChebyshevKANConv2d
        let fc: Linear
        let body: Sequential

        init(_ context: EngineContext) {
            store = ParameterStore(context: context)
            conv1 = Conv2d(store: store, name: "conv1", inChannels: channels, outChannels: 16, kernel: 3, padding: 1)
            bn1 = BatchNorm2d(store: store, name: "bn1", channels: 16)
            kan = ChebyshevKANConv2d(store: store, name: "kan", kernel: 3, stride: 1, padding: 1, degree: 3)
            conv2 = Conv2d(store: store, name: "conv2", inChannels: 16, outChannels: 8, kernel: 1, bias: true)
            bn2 = BatchNorm2d(store: store, name: "bn2", channels: 8)
            fc = Linear(store: store, name: "fc", inFeatures: 8, outFeatures: classes)
            body = Sequential([conv1, bn1, ReLU(), kan, conv2, bn2, GlobalAvgPool(), fc])
            store.finalize()
            store.initialize(seed: 3)
        }
    }

    struct Outcome: Equatable {
        var logits: [UInt32], loss: UInt64, dx: [UInt32], grads: [UInt32], buffers: [UInt32]
    }

    static let input: [Float] = testValues(batch * side * side * channels, seed: 11).map { Float($0) * 2 + 0.5 }
    static let labels: [Int] = (0..<batch).map { ($0 * 7) % classes }

    /// One forward + backward on this rank's images of the batch; everything as bit patterns,
    /// logits and dx only for this rank's rows.
    static func step(_ comm: Communicator, batch: Int = batch) throws -> Outcome {
        let sharding = BatchSharding(communicator: comm)
        let net = Net(EngineContext(threads: 2, sharding: sharding))
        sharding.shardsPerBatch = 8   // a run's count for batch ≥ 128: 12 images leave shards of 1–2
        let plan = sharding.plan(globalBatch: batch), mine = plan.images(ofRank: comm.rank, ranks: comm.size)
        sharding.scope = comm.size == 1 ? .whole : .distributed(globalBatch: batch)
        let per = side * side * channels
        let x = Tensor(zeros: [mine.count, side, side, channels])   // N = 0 on a rank without images
        for (i, v) in input[(mine.lowerBound * per)..<(mine.upperBound * per)].enumerated() { x.data[i] = v }
        let logits = try net.body.forward(x, mode: .train)
        let (loss, d) = try softmaxCrossEntropy(logits: logits, targets: .labels(Array(labels[mine])), sharding: sharding)
        net.store.zeroGrad()
        let dx = net.body.backward(d)
        let grads = UnsafeBufferPointer(start: net.store.grads, count: net.store.parameterCount).map(\.bitPattern)
        let buffers = net.store.buffers.flatMap { b in UnsafeBufferPointer(start: b.value, count: b.count).map(\.bitPattern) }
        return Outcome(logits: logits.array.map(\.bitPattern), loss: loss.bitPattern, dx: dx.array.map(\.bitPattern),
                       grads: grads, buffers: buffers)
    }

    func testTwoAndFourRanksGiveTheSingleProcessBytes() throws {
        let single = try Self.step(SingleProcess())
        for ranks in [2, 4] {
            let outs = try InProcessRanks.run(ranks: ranks) { try Self.step($0) }
            for (r, o) in outs.enumerated() {
                XCTAssertEqual(o.buffers, single.buffers, "\(ranks) ranks, rank \(r): BN running statistics differ")
                XCTAssertEqual(o.grads, single.grads, "\(ranks) ranks, rank \(r): weight gradients differ")
                XCTAssertEqual(o.loss, single.loss, "\(ranks) ranks, rank \(r): loss differs")
            }
            XCTAssertEqual(outs.flatMap(\.logits), single.logits, "\(ranks) ranks: logits differ")
            XCTAssertEqual(outs.flatMap(\.dx), single.dx, "\(ranks) ranks: input gradients differ")
        }
    }

    /// A batch of 3 on 4 or 8 ranks leaves some ranks without an image: they still run the
    /// passes on an empty tensor and join every fold, and the bytes stay the single process's.
    func testRanksWithoutImagesJoinTheFold() throws {
        let single = try Self.step(SingleProcess(), batch: 3)
        for ranks in [4, 8] {
            let outs = try InProcessRanks.run(ranks: ranks) { try Self.step($0, batch: 3) }
            XCTAssertTrue(outs.contains { $0.logits.isEmpty }, "the fixture must leave a rank empty")
            for (r, o) in outs.enumerated() {
                XCTAssertEqual(o.grads, single.grads, "\(ranks) ranks, rank \(r): weight gradients differ")
                XCTAssertEqual(o.buffers, single.buffers, "\(ranks) ranks, rank \(r): BN running statistics differ")
                XCTAssertEqual(o.loss, single.loss, "\(ranks) ranks, rank \(r): loss differs")
            }
            XCTAssertEqual(outs.flatMap(\.logits), single.logits)
        }
    }

    /// The synchronised BN statistics are the full batch's: after one step from running mean 0
    /// and var 1, running_mean = 0.1·mean and running_var = 0.9 + 0.1·unbiased var of the
    /// batch, checked against a Double reference on the fixture (all 12 images, 5×5 pixels).
    func testBatchNormStatisticsAreTheFullBatchOnEveryRank() throws {
        let c = 16
        let outs = try InProcessRanks.run(ranks: 4) { comm -> ([Float], [Float], [Float]) in
            let sharding = BatchSharding(communicator: comm)
            let net = Net(EngineContext(threads: 1, sharding: sharding))
            sharding.shardsPerBatch = 8
            let plan = sharding.plan(globalBatch: Self.batch), mine = plan.images(ofRank: comm.rank, ranks: comm.size)
            sharding.scope = .distributed(globalBatch: Self.batch)
            let per = Self.side * Self.side * Self.channels
            let x = Tensor(shape: [mine.count, Self.side, Self.side, Self.channels],
                           values: Array(Self.input[(mine.lowerBound * per)..<(mine.upperBound * per)]))
            let h = try net.conv1.forward(x, mode: .train)
            _ = try net.bn1.forward(h, mode: .train)
            return (h.array, Array(UnsafeBufferPointer(start: net.bn1.runningMean.value, count: c)),
                    Array(UnsafeBufferPointer(start: net.bn1.runningVar.value, count: c)))
        }
        let h = outs.flatMap(\.0).map(Double.init), n = Double(h.count / c)
        for j in 0..<c {
            let xs = stride(from: j, to: h.count, by: c).map { h[$0] }
            let mean = xs.reduce(0, +) / n
            let unbiased = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)
            for (r, o) in outs.enumerated() {
                XCTAssertEqual(Double(o.1[j]), 0.1 * mean, accuracy: 1e-6 * max(1, abs(mean)), "rank \(r) channel \(j) running_mean")
                XCTAssertEqual(Double(o.2[j]), 0.9 + 0.1 * unbiased, accuracy: 1e-6 * max(1, unbiased), "rank \(r) channel \(j) running_var")
                XCTAssertEqual(o.1[j].bitPattern, outs[0].1[j].bitPattern, "rank \(r) channel \(j): ranks disagree")
            }
        }
    }
}
