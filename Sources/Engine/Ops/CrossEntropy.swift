import Foundation

// Softmax cross-entropy loss with label smoothing (PyTorch's `F.cross_entropy`, mean reduction)
// and top-k accuracy. Letters: N batch, K classes.

/// Training targets of a classification loss.
public enum Targets {
    /// One class index per sample, each in 0..<K.
    case labels([Int])
    /// (N, K) class distributions, rows summing to 1 (MixUp/CutMix).
    case soft(Tensor)
}

/// Mean softmax cross-entropy over the batch, with PyTorch's `label_smoothing` semantics:
/// the target distribution q becomes `(1 − ε)·q + ε/K` (hard labels: q = one-hot).
/// Per sample `loss = −Σ_k q_k·log softmax(z)_k = Σq·lse(z) − Σ q_k z_k`, computed in Double with
/// log-sum-exp; `dlogits = (softmax(z)·Σq − q) / N`, the gradient of the MEAN loss.
/// - Parameters:
///   - logits: (N, K).
///   - targets: N labels or an (N, K) distribution.
///   - labelSmoothing: ε in [0, 1].
///   - sharding: when given, the logits are this process's shards of a batch: the mean is over
///     the global batch (dlogits divide by it) and the loss is the per-shard sums folded over all
///     shards of all ranks (`BatchSharding.sum`), the same bytes for any rank count. Without it,
///     the plain mean over the N rows (the parity interface).
/// - Returns: the mean loss and dlogits (N, K).
/// - Throws: `EngineError.shapeMismatch` (op "softmaxCrossEntropy") for mismatched shapes,
///   `.invalidArgument` for a label outside 0..<K or ε outside [0, 1].
public func softmaxCrossEntropy(logits: Tensor, targets: Targets, labelSmoothing: Float = 0,
                                sharding: BatchSharding? = nil) throws -> (loss: Double, dlogits: Tensor) {
    let op = "softmaxCrossEntropy"
    // A data-parallel rank may hold no image of a small batch (all its shards empty).
    guard logits.rank == 2, logits.shape[0] > 0 || sharding != nil, logits.shape[1] > 0 else {
        throw EngineError.shapeMismatch(op: op, detail: "logits must be (N, K), got \(shapeString(logits.shape))")
    }
    guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
        throw EngineError.invalidArgument(op: op, detail: "label smoothing \(labelSmoothing) is outside [0, 1]")
    }
    let (n, k) = (logits.shape[0], logits.shape[1])
    let meanOver = sharding?.globalBatch(localBatch: n) ?? n
    var labelArray: [Int] = []
    var soft: Tensor?
    switch targets {
    case let .labels(l):
        guard l.count == n else {
            throw EngineError.shapeMismatch(op: op, detail: "\(l.count) labels for logits \(shapeString(logits.shape))")
        }
        if let bad = l.firstIndex(where: { $0 < 0 || $0 >= k }) {
            throw EngineError.invalidArgument(op: op, detail: "label \(l[bad]) of sample \(bad) is outside 0..<\(k) for logits \(shapeString(logits.shape))")
        }
        labelArray = l
    case let .soft(t):
        guard t.shape == logits.shape else {
            throw EngineError.shapeMismatch(op: op, detail: "soft targets \(shapeString(t.shape)) vs logits \(shapeString(logits.shape))")
        }
        soft = t
    }
    let eps = Double(labelSmoothing), uniform = eps / Double(k)
    let dlogits = Tensor(uninitialized: logits.shape)
    let losses = UnsafeMutablePointer<Double>.allocate(capacity: n)   // (N) per-sample loss
    defer { losses.deallocate() }
    let (z, dz, softData) = (logits.data, dlogits.data, soft?.data)
    labelArray.withUnsafeBufferPointer { labels in
        Parallel.forEachChunk(count: n, chunk: max(1, 16_384 / k)) { r in
            for row in r {
                let zr = z + row * k, dr = dz + row * k
                var m = -Double.infinity
                for j in 0..<k { m = max(m, Double(zr[j])) }
                var se = 0.0
                for j in 0..<k { se += Foundation.exp(Double(zr[j]) - m) }
                let lse = m + Foundation.log(se)
                // q_j = (1 − ε)·target_j + ε/K.
                var sumQ = 0.0, sumQZ = 0.0
                if let sd = softData {
                    let tr = sd + row * k
                    for j in 0..<k {
                        let q = (1 - eps) * Double(tr[j]) + uniform
                        sumQ += q; sumQZ += q * Double(zr[j])
                    }
                } else {
                    var sumZ = 0.0
                    for j in 0..<k { sumZ += Double(zr[j]) }
                    sumQ = 1
                    sumQZ = (1 - eps) * Double(zr[labels[row]]) + uniform * sumZ
                }
                losses[row] = sumQ * lse - sumQZ
                let invN = 1 / Double(meanOver)
                for j in 0..<k {
                    let p = Foundation.exp(Double(zr[j]) - lse)
                    let q: Double
                    if let sd = softData { q = (1 - eps) * Double(sd[row * k + j]) + uniform }
                    else { q = (j == labels[row] ? 1 - eps : 0) + uniform }
                    dr[j] = Float((p * sumQ - q) * invN)
                }
            }
        }
    }
    if let sharding {
        let total: ShardTotal<Double> = sharding.perShard(batch: n, count: 1) { _, r, sum in
            for i in r { sum[0] += losses[i] }
        }
        defer { total.release() }
        return (total.values[0] / Double(meanOver), dlogits)
    }
    var total = 0.0
    for i in 0..<n { total += losses[i] }
    return (total / Double(n), dlogits)
}

/// Number of samples whose label is among the top k logits.
///
/// Tie rule: a sample counts as correct when STRICTLY FEWER than k logits are greater than the
/// label's logit (logits equal to it do not push it out), so a row of equal logits is always
/// correct. A row holding a NaN is never correct.
/// - Parameters:
///   - logits: (N, K).
///   - labels: N class indices in 0..<K.
///   - k: ≥ 1.
/// - Returns: the count of correct samples (0...N).
public func topKCorrect(logits: Tensor, labels: [Int], k: Int) -> Int {
    precondition(logits.rank == 2 && labels.count == logits.shape[0] && k >= 1,
                 "topKCorrect: logits \(shapeString(logits.shape)), \(labels.count) labels, k \(k)")
    let classes = logits.shape[1]
    var correct = 0
    for (row, label) in labels.enumerated() {
        precondition(label >= 0 && label < classes, "topKCorrect: label \(label) outside 0..<\(classes)")
        let zr = logits.data + row * classes
        let target = zr[label]
        // A NaN anywhere in the row is never a correct prediction (every comparison with NaN
        // is false, so it would otherwise rank first).
        var greater = 0, nan = target.isNaN
        for j in 0..<classes {
            if zr[j] > target { greater += 1 } else if zr[j].isNaN { nan = true }
        }
        if greater < k && !nan { correct += 1 }
    }
    return correct
}
