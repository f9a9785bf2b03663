import XCTest
import TestSupport
@testable import Engine

final class OptimizerTests: XCTestCase {
    private func singleParamStore(_ values: [Float]) -> (ParameterStore, Parameter) {
        let s = ParameterStore()
        let p = s.weight("w", shape: [3, 5], initializer: .zeros)
        s.finalize()
        p.setTorchValues(values)
        return (s, p)
    }

    /// Five steps of each optimizer against torch.optim on the same gradients and learning rates.
    func testMatchesPyTorch() throws {
        let cases = try loadFixtureCases("optim")
        for c in cases where c.name != "onecycle" && !c.name.hasPrefix("warmup_cosine_") {
            let (s, p) = singleParamStore(c.tensor("p0").data)
            let opt: Optimizer
            switch c.name {
            case "sgd_nesterov_wd": opt = try SGD(store: s, momentum: 0.9, nesterov: true, weightDecay: 5e-4)
            case "sgd_momentum": opt = try SGD(store: s, momentum: 0.8, weightDecay: 1e-3)
            case "sgd_plain": opt = try SGD(store: s)
            case "adamw": opt = try AdamW(store: s, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05)
            default: XCTFail("unknown case \(c.name)"); continue
            }
            let grads = c.tensor("grads").data, after = c.tensor("after").data, lrs = c.tensor("lrs").data
            for step in 0..<5 {
                s.zeroGrad()
                for j in 0..<15 { p.grad[j] = grads[step * 15 + j] }
                opt.step(lr: lrs[step])
                assertClose(p.torchValues(), Array(after[(step * 15)..<(step * 15 + 15)]), rtol: 1e-5, atol: 1e-7, "\(c.name) step \(step)")
            }
            XCTAssertEqual(opt.stepCount, 5)
        }
    }

    /// Saving and restoring the optimizer state mid-run gives the same trajectory.
    func testStateRoundTrip() throws {
        let cases = try loadFixtureCases("optim")
        let c = try XCTUnwrap(cases.first { $0.name == "adamw" })
        let grads = c.tensor("grads").data, lrs = c.tensor("lrs").data
        let (s1, p1) = singleParamStore(c.tensor("p0").data)
        let o1 = try AdamW(store: s1, weightDecay: 0.05)
        for step in 0..<2 { for j in 0..<15 { p1.grad[j] = grads[step * 15 + j] }; o1.step(lr: lrs[step]) }
        let saved = Dictionary(uniqueKeysWithValues: o1.perParameterState(s1).map { ($0.key, $0.values) })
        let (s2, p2) = singleParamStore(p1.torchValues())
        let o2 = try AdamW(store: s2, weightDecay: 0.05)
        try o2.restoreState(s2, saved)
        o2.stepCount = o1.stepCount
        for step in 2..<5 {
            for j in 0..<15 { p1.grad[j] = grads[step * 15 + j]; p2.grad[j] = grads[step * 15 + j] }
            o1.step(lr: lrs[step]); o2.step(lr: lrs[step])
        }
        XCTAssertEqual(p1.torchValues(), p2.torchValues())
    }

    func testInvalidSettingsAreRejected() {
        let s = ParameterStore(); s.finalize()
        XCTAssertThrowsError(try SGD(store: s, momentum: -1)) { XCTAssert("\($0)".contains("SGD")) }
        XCTAssertThrowsError(try SGD(store: s, nesterov: true))
        XCTAssertThrowsError(try AdamW(store: s, beta1: 1.5))
    }

    func testOneCycleMatchesPyTorch() throws {
        let c = try XCTUnwrap(try loadFixtureCases("optim").first { $0.name == "onecycle" })
        let sched = LRSchedule.oneCycle(maxLR: 0.1, totalSteps: 50, pctStart: 0.2, divFactor: 10, finalDivFactor: 200)
        assertClose((0..<50).map { sched.lr(at: $0) }, c.tensor("lrs").data.map(Double.init), rtol: 1e-6, atol: 1e-9, "OneCycleLR")
    }

    /// The notebook steps warm-up and cosine once per epoch (22e50367:training.ipynb): every step of
    /// an epoch has that epoch's rate, and the per-epoch rates equal PyTorch's LambdaLR +
    /// CosineAnnealingLR chained as the notebook chains them (Tools/fixtures/optim.py).
    func testWarmupCosineIsSteppedPerEpochLikeTheNotebook() throws {
        let cases = try loadFixtureCases("optim").filter { $0.name.hasPrefix("warmup_cosine_") }
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let epochs = Int(c.config["epochs"]!), warmup = Int(c.config["warmup"]!), perEpoch = 7
            let s = LRSchedule.warmupCosine(lr: 0.05, warmupEpochs: warmup, epochs: epochs, minLR: 1e-5, stepsPerEpoch: perEpoch)
            let expected = c.tensor("lrs").data.map(Double.init)
            for e in 0..<epochs {
                for k in [0, 3, perEpoch - 1] {
                    XCTAssertEqual(s.lr(at: e * perEpoch + k), expected[e], accuracy: 1e-6 * expected[e], "\(c.name) epoch \(e) step \(k)")
                }
            }
        }
        let s = LRSchedule.warmupCosine(lr: 0.05, warmupEpochs: 10, epochs: 110, minLR: 1e-5, stepsPerEpoch: 5)
        XCTAssertEqual(s.lr(at: 0), 0.005, accuracy: 1e-12)
        XCTAssertEqual(s.lr(at: 4), 0.005, accuracy: 1e-12)   // still epoch 0: not per step
        XCTAssertEqual(s.lr(at: 5), 0.01, accuracy: 1e-12)
        XCTAssertEqual(s.lr(at: 50), 0.05, accuracy: 1e-12)
        XCTAssertEqual(s.lr(at: 60 * 5), (0.05 + 1e-5) / 2, accuracy: 1e-12)
    }

    func testMultiStep() {
        let m = LRSchedule.multiStep(lr: 0.01, milestones: [8, 11], gamma: 0.1, stepsPerEpoch: 10)
        XCTAssertEqual(m.lr(at: 79), 0.01, accuracy: 1e-15)
        XCTAssertEqual(m.lr(at: 80), 0.001, accuracy: 1e-15)
        XCTAssertEqual(m.lr(at: 110), 0.0001, accuracy: 1e-15)
    }
}
