import Engine

/// Deterministic, class-balanced subsets (the `train_subset` / `test_subset` of scaled profiles).
///
/// Every class gets the same quota `count / classes`; the remainder `count % classes` adds one
/// sample to each of the classes `0..<remainder`, so the result has exactly `count` indices.
/// Within class `k` the samples are the first of `Philox(seed, .subset, index: k).permutation`
/// of that class's members (in dataset order), so the choice for one class does not depend on
/// the others. The result is sorted ascending (dataset order), independent of `seed` in order.
///
/// - Parameters:
///   - labels: `(N)` label of each sample, in `0..<classes`.
///   - classes: number of classes.
///   - count: how many indices to return (`0...N`).
///   - seed: the experiment seed.
/// - Returns: `count` distinct sample indices, sorted.
/// - Throws: `DatasetError.invalidRequest` when a class has fewer samples than its quota.
public func classBalancedSubset(labels: [Int], classes: Int, count: Int, seed: UInt64) throws -> [Int] {
    precondition(classes > 0 && count >= 0, "classBalancedSubset: classes \(classes), count \(count)")
    var members = [[Int]](repeating: [], count: classes)
    for (i, l) in labels.enumerated() {
        precondition(l >= 0 && l < classes, "classBalancedSubset: label \(l) of sample \(i) outside 0..<\(classes)")
        members[l].append(i)
    }
    let quota = count / classes, extra = count % classes
    var chosen: [Int] = []
    chosen.reserveCapacity(count)
    for k in 0..<classes {
        let want = quota + (k < extra ? 1 : 0)
        guard members[k].count >= want else {
            throw DatasetError.invalidRequest("a class-balanced subset of \(count) needs \(want) samples of class \(k), the dataset has \(members[k].count); ask for at most \(classes * (members.map(\.count).min() ?? 0)) samples")
        }
        let perm = Philox(seed: seed, purpose: .subset, index: UInt64(k)).permutation(members[k].count)
        for j in 0..<want { chosen.append(members[k][perm[j]]) }
    }
    return chosen.sorted()
}
