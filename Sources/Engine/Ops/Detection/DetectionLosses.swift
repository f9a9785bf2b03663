import Foundation

// The two losses of the R-CNN heads. Sums run in Double, in index order (one fixed order,
// whatever the thread count); the gradients are elementwise, in Float, as PyTorch computes them.

/// `Σ_i smooth_l1(pred_i − target_i) / divisor` with PyTorch's `smooth_l1_loss(beta)`:
/// 0.5·d²/β where |d| < β, |d| − 0.5·β otherwise (torchvision: β = 1/9, reduction "sum", then
/// divided by the sampled count).
/// - Parameters:
///   - pred: (n).
///   - target: (n).
/// - Returns: the loss.
public func smoothL1LossForward(_ pred: UnsafePointer<Float>, _ target: UnsafePointer<Float>, count n: Int,
                                beta: Float, divisor: Float) -> Float {
    var sum = 0.0
    for i in 0..<n {
        let z = abs(pred[i] - target[i])
        sum += Double(z < beta ? 0.5 * z * z / beta : z - 0.5 * beta)
    }
    return Float(sum / Double(divisor))
}

/// Gradient of `smoothL1LossForward` (PyTorch's `smooth_l1_loss_backward`): with d = pred − target,
/// g = dloss/divisor: −g where d < −β, g where d > β, d·g/β between.
/// - Parameters:
///   - dpred: (n), accumulated.
///   - dloss: upstream gradient of the loss.
public func smoothL1LossBackward(_ dpred: UnsafeMutablePointer<Float>, _ pred: UnsafePointer<Float>,
                                 _ target: UnsafePointer<Float>, count n: Int, beta: Float, divisor: Float, dloss: Float) {
    let g = dloss / divisor
    for i in 0..<n {
        let d = pred[i] - target[i]
        dpred[i] += d < -beta ? -g : d > beta ? g : d * g / beta
    }
}

/// PyTorch's `binary_cross_entropy_with_logits`, mean reduction:
/// mean_i (1 − y_i)·x_i − log σ(x_i), with log σ(x) = min(x, 0) − log1p(exp(−|x|)).
/// - Parameters:
///   - logits: (n).
///   - targets: (n) in [0, 1].
/// - Returns: the mean loss (0 for n = 0, where PyTorch gives NaN: the caller decides).
public func bceWithLogitsForward(_ logits: UnsafePointer<Float>, _ targets: UnsafePointer<Float>, count n: Int) -> Float {
    if n == 0 { return 0 }
    var sum = 0.0
    for i in 0..<n {
        let x = logits[i], y = targets[i]
        let logSigmoid = min(x, 0) - log1p(exp(-abs(x)))
        sum += Double((1 - y) * x - logSigmoid)
    }
    return Float(sum / Double(n))
}

/// Gradient of `bceWithLogitsForward`: (σ(x_i) − y_i)·dloss/n.
/// - Parameters:
///   - dlogits: (n), accumulated.
public func bceWithLogitsBackward(_ dlogits: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>,
                                  _ targets: UnsafePointer<Float>, count n: Int, dloss: Float) {
    if n == 0 { return }
    let g = dloss / Float(n)
    for i in 0..<n {
        let s = 1 / (1 + exp(-logits[i]))
        dlogits[i] += (s - targets[i]) * g
    }
}
