import Foundation
import XCTest
import Engine
import Datasets
import RunStore
@testable import Harness

/// What a checkpoint stores of the training position, and the loader resuming inside an epoch.
final class TrainingPositionTests: XCTestCase {
    private func record(_ state: RunState) -> RunRecord {
        RunRecord(attributes: RunAttributes(suite: "s", experiment: "e", model: "m", seed: 0, profile: "p", config: "{}",
                                            gitCommit: "", blasCore: "", threads: 1, host: "", status: .running),
                  state: state)
    }

    /// An epoch-end checkpoint stores exactly what run files always held (so their bytes do not
    /// change); a mid-epoch one adds the batch and the epoch's sums, bit for bit.
    func testStateAtEpochEndAndInsideAnEpoch() throws {
        var p = TrainingPosition()
        p.epoch = 1; p.step = 9; p.extraJSON = #"{"init_weights_sha256":"x"}"#
        XCTAssertEqual(p.state(optimizerSteps: 9), RunState(epoch: 1, step: 9, values: ["optimizer_steps": 9], extraJSON: p.extraJSON))
        XCTAssertEqual(p.state(optimizerSteps: 9, divergedAtStep: 9).values, ["optimizer_steps": 9, "diverged_at_step": 9])

        p.batch = 4; p.step = 13
        p.sums = .init(lossSum: 0.1 + 0.2, correct: 17, seen: 256, seconds: 1.25)
        let state = p.state(optimizerSteps: 13)
        XCTAssertEqual(state.values["epoch_batches_done"], 4)
        XCTAssertEqual(state.values["epoch_correct"], 17)
        XCTAssertEqual(state.values["epoch_seen"], 256)
        XCTAssertEqual(state.values["epoch_microseconds"], 1_250_000)
        let back = try TrainingPosition(record: record(state), batchesPerEpoch: 6, path: "f.h5")
        XCTAssertEqual(back.sums.lossSum.bitPattern, (0.1 + 0.2).bitPattern, "the loss sum is kept bit for bit")
        XCTAssertEqual(back, p)
        XCTAssertTrue(back.isMidEpoch)
        XCTAssertEqual(state.values["diverged_at_step"], nil)
        XCTAssertEqual(p.state(optimizerSteps: 13, divergedAtStep: 13).values.count, 2, "a diverged file keeps no mid-epoch values")
    }

    func testPartialOrOutOfRangeMidEpochValuesAreRefused() {
        var p = TrainingPosition()
        p.batch = 7
        let state = p.state(optimizerSteps: 7)
        XCTAssertThrowsError(try TrainingPosition(record: record(state), batchesPerEpoch: 6, path: "f.h5")) { e in
            XCTAssertTrue("\(e)".contains("batch 7") && "\(e)".contains("6 batches"), "\(e)")
        }
        var partial = state
        partial.values["epoch_seen"] = nil
        XCTAssertThrowsError(try TrainingPosition(record: record(partial), batchesPerEpoch: 8, path: "f.h5")) { e in
            XCTAssertTrue("\(e)".contains("only some"), "\(e)")
        }
    }

    /// A loader started at batch k gives the batches k... of the uninterrupted epoch, CutMix and
    /// augmentation included (every draw is keyed by seed, epoch and index).
    func testTrainLoaderResumesInsideAnEpochWithTheSameBatches() throws {
        let pixels = (0..<(20 * 36)).map { UInt8(($0 * 37) % 251) }
        let ds = try InMemoryDataset(name: "t", classes: 4, channels: 1, height: 6, width: 6, pixels: pixels,
                                     labels: (0..<20).map { Int32($0 % 4) })
        let data = TrainingData(dataset: .fashionMNIST, train: ds, test: ds, trainIndices: Array(0..<20), testIndices: Array(0..<20),
                                imageSize: 6, workers: 1)
        let augment = AugmentConfig(hflip: true, padCrop: 1, cutmix: .init(p: 0.5, alpha: 1), mixup: .init(p: 0.5, alpha: 0.2))
        func batches(from start: Int) throws -> [([Float], [Int])] {
            let s = try data.trainLoader(epoch: 1, seed: 3, batchSize: 6, augment: augment, startBatch: start)
            defer { s.close() }
            var out: [([Float], [Int])] = []
            while let b = try s.next() { out.append((b.images.array, b.labels)) }
            return out
        }
        let all = try batches(from: 0)
        XCTAssertEqual(all.count, 4)
        let tail = try batches(from: 2)
        XCTAssertEqual(tail.count, 2)
        for (a, b) in zip(all.suffix(2), tail) {
            XCTAssertEqual(a.0, b.0)
            XCTAssertEqual(a.1, b.1)
        }
        XCTAssertEqual(try batches(from: 4).count, 0, "a checkpoint after the last batch resumes into evaluation")
    }
}
