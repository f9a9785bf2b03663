import Engine

/// torchvision's `Matcher`: each prediction (anchor or proposal) is matched to the ground-truth
/// box it overlaps most (the first of equal maxima); below `low` it is background (−1), between
/// `low` and `high` it is ignored (−2). With `allowLowQualityMatches` (the RPN), every prediction
/// that is some box's best match (ties included) keeps that match even below the thresholds.
/// The RPN uses (0.7, 0.3, true), the box head (0.5, 0.5, false). Comparisons in Float.
public struct Matcher: Equatable, Sendable {
    public static let belowLowThreshold = -1
    public static let betweenThresholds = -2
    public let high, low: Float
    public let allowLowQualityMatches: Bool

    public init(high: Float, low: Float, allowLowQualityMatches: Bool) {
        precondition(low <= high, "Matcher: low \(low) > high \(high)")
        self.high = high; self.low = low; self.allowLowQualityMatches = allowLowQualityMatches
    }

    /// - Parameters:
    ///   - quality: (M, N) IoU of M ground-truth boxes (rows) with N predictions (columns), M, N ≥ 1.
    /// - Returns: (N) the matched row, or `belowLowThreshold` / `betweenThresholds`.
    public func match(_ quality: UnsafePointer<Float>, gts m: Int, predictions n: Int) -> [Int] {
        precondition(m > 0 && n > 0, "Matcher: \(m) ground-truth boxes, \(n) predictions")
        var matches = [Int](repeating: 0, count: n), best = [Float](repeating: -.infinity, count: n)
        for j in 0..<n {
            var (v, at) = (quality[j], 0)
            for i in 1..<max(m, 1) where quality[i * n + j] > v { v = quality[i * n + j]; at = i }
            best[j] = v; matches[j] = at
        }
        let all = matches
        for j in 0..<n {
            if best[j] < low { matches[j] = Matcher.belowLowThreshold }
            else if best[j] < high { matches[j] = Matcher.betweenThresholds }
        }
        if allowLowQualityMatches {
            for i in 0..<m {
                var top = -Float.infinity
                for j in 0..<n { top = max(top, quality[i * n + j]) }
                for j in 0..<n where quality[i * n + j] == top { matches[j] = all[j] }
            }
        }
        return matches
    }
}

/// torchvision's `BalancedPositiveNegativeSampler` for one image: up to `batchSize·fraction`
/// positives (label ≥ 1) and the rest of `batchSize` negatives (label 0), each drawn uniformly
/// without replacement. torchvision draws with `torch.randperm`; here the draws come from a Philox
/// stream, so the same seed gives the same samples on any machine and thread count (and a run can
/// be held to another implementation's draw by passing its indices instead).
/// - Parameters:
///   - labels: per prediction, 1 (or a class ≥ 1) foreground, 0 background, −1 ignored.
///   - rng: the stream of this image in this step.
/// - Returns: the sampled positive and negative indices, each ascending (torchvision's order
///   after `torch.where` on the sampled masks).
public func sampleBalanced(_ labels: [Int], batchSize: Int, positiveFraction: Double, rng: Philox) -> (positive: [Int], negative: [Int]) {
    let positive = labels.indices.filter { labels[$0] >= 1 }, negative = labels.indices.filter { labels[$0] == 0 }
    let numPos = min(Int(Double(batchSize) * positiveFraction), positive.count)
    let numNeg = min(batchSize - numPos, negative.count)
    // Two disjoint parts of the stream: positives from block 0 on, negatives from block 2^40 on.
    let p = partialPermutation(positive.count, numPos, rng, offset: 0).map { positive[$0] }
    let q = partialPermutation(negative.count, numNeg, rng, offset: 1 << 40).map { negative[$0] }
    return (p.sorted(), q.sorted())
}

/// The first `k` entries of a uniform random permutation of 0..<n (Fisher–Yates from the front,
/// draw t picks among the n − t remaining): O(k) draws, O(n) memory.
func partialPermutation(_ n: Int, _ k: Int, _ rng: Philox, offset: UInt64) -> [Int] {
    var a = Array(0..<n)
    for t in 0..<k {
        let j = t + rng.below(n - t, offset + UInt64(t))
        a.swapAt(t, j)
    }
    return Array(a.prefix(k))
}
