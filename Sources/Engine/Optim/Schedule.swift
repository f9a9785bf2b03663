import Foundation

/// Learning-rate schedules, evaluated per optimizer step (`step` counts from 0); the epoch-stepped
/// ones (warm-up + cosine, multi-step) hold the rate constant within an epoch.
public enum LRSchedule: Sendable, Equatable {
    /// Constant `lr`.
    case constant(lr: Double)
    /// The reference notebook's schedule, stepped once per EPOCH (22e50367:training.ipynb:
    /// `LambdaLR(warmup_scheduler)` for the first `warmupEpochs`, then
    /// `CosineAnnealingLR(T_max = epochs − warmupEpochs, eta_min = minLR)`, both `.step()`ed after each
    /// epoch's validation). Epoch e = step / stepsPerEpoch trains at
    ///     lr·(e+1)/W                                            e < W   (test_utils.warmup_scheduler)
    ///     minLR + (lr − minLR)·(1 + cos(π·(e−W)/(E−W)))/2       e ≥ W
    case warmupCosine(lr: Double, warmupEpochs: Int, epochs: Int, minLR: Double, stepsPerEpoch: Int)
    /// torch.optim.lr_scheduler.OneCycleLR (cosine, two phases).
    case oneCycle(maxLR: Double, totalSteps: Int, pctStart: Double, divFactor: Double, finalDivFactor: Double)
    /// lr·γ^(number of milestones ≤ epoch), milestones in epochs.
    case multiStep(lr: Double, milestones: [Int], gamma: Double, stepsPerEpoch: Int)

    /// Learning rate for optimizer step `step` (0-based).
    public func lr(at step: Int) -> Double {
        switch self {
        case let .constant(lr):
            return lr
        case let .warmupCosine(lr, warmup, epochs, minLR, stepsPerEpoch):
            let e = step / max(stepsPerEpoch, 1)
            if e < warmup { return lr * Double(e + 1) / Double(warmup) }
            let t = min(Double(e - warmup) / Double(max(epochs - warmup, 1)), 1)
            return minLR + (lr - minLR) * (1 + cos(Double.pi * t)) / 2
        case let .oneCycle(maxLR, total, pct, div, finalDiv):
            let initial = maxLR / div
            let minLR = initial / finalDiv
            let end1 = pct * Double(total) - 1
            let end2 = Double(total) - 1
            let s = Double(step)
            func anneal(_ a: Double, _ b: Double, _ f: Double) -> Double { b + (a - b) / 2 * (cos(Double.pi * f) + 1) }
            if s <= end1 { return anneal(initial, maxLR, end1 > 0 ? s / end1 : 1) }
            return anneal(maxLR, minLR, min((s - end1) / max(end2 - end1, 1e-12), 1))
        case let .multiStep(lr, milestones, gamma, stepsPerEpoch):
            let epoch = step / max(stepsPerEpoch, 1)
            let k = milestones.filter { $0 <= epoch }.count
            return lr * pow(gamma, Double(k))
        }
    }
}
