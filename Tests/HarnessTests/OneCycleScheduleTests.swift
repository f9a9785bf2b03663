import Foundation
import XCTest
import Engine
@testable import Harness

/// `schedule: {name: onecycle}` as `RunConfig.lrSchedule` builds it: PyTorch's OneCycleLR
/// (cosine annealing, pct_start 0.3, div_factor 25, final_div_factor 1e4 or down to min_lr),
/// stepped per batch. The expected values are worked out by hand from the formula
///     anneal(a, b, f) = b + (a − b)/2 · (cos(π f) + 1)
///     s ≤ e1: anneal(lr/25, lr, s/e1);  s > e1: anneal(lr, lr_min, (s − e1)/(e2 − e1))
/// with e1 = 0.3·T − 1, e2 = T − 1 for T = epochs × batches steps.
final class OneCycleScheduleTests: XCTestCase {
    private func config(minLR: Double) throws -> RunConfig {
        let json = """
        {"suite": "t", "experiment": "e", "model": "resnet18", "seed": 0, "profile": "p", "dataset": "fashion-mnist",
         "image_size": 28, "eval_batch_size": 8, "bench": {"batch": 1, "warmup": 1, "iterations": 1, "repeats": 1},
         "training": {"epochs": 2, "batch_size": 8, "label_smoothing": 0, "augment": {"hflip": false},
                      "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true, "weight_decay": 0},
                      "schedule": {"name": "onecycle", "warmup_epochs": 0, "min_lr": \(minLR)}}}
        """
        return try JSONDecoder().decode(RunConfig.self, from: Data(json.utf8))
    }

    /// lr 0.1, 2 epochs × 10 batches: T = 20, e1 = 0.3·20 − 1 = 5, e2 = 19, start 0.1/25 = 0.004,
    /// end 0.004/1e4 = 4e-7 (min_lr 0).
    func testOneCycleFollowsTheFormulaPerBatch() throws {
        let s = try config(minLR: 0).lrSchedule(stepsPerEpoch: 10)
        let expected: [(step: Int, lr: Double)] = [
            (0, 0.004),                  // f = 0: the start, lr/25
            (1, 0.013_167_184_27),       // f = 1/5: 0.1 − 0.048·(cos 36° + 1) = 0.1 − 0.048·1.809017
            (5, 0.1),                    // f = 1: the peak
            (12, 0.050_000_2),           // f = (12 − 5)/14 = 1/2: (0.1 + 4e-7)/2
            (19, 4e-7),                  // f = 1: the end, lr/25/1e4
        ]
        for (step, lr) in expected {
            XCTAssertEqual(s.lr(at: step), lr, accuracy: 1e-11, "step \(step)")
        }
        XCTAssertNotEqual(s.lr(at: 1), s.lr(at: 2), "stepped per batch, not per epoch")
    }

    /// A min_lr sets final_div_factor so that the last step reaches it: 0.1/25/1e-3 = 4, 0.004/4 = 1e-3.
    func testOneCycleEndsAtMinLR() throws {
        let s = try config(minLR: 1e-3).lrSchedule(stepsPerEpoch: 10)
        XCTAssertEqual(s.lr(at: 19), 1e-3, accuracy: 1e-12)
        XCTAssertEqual(s.lr(at: 12), (0.1 + 1e-3) / 2, accuracy: 1e-12)
    }
}
