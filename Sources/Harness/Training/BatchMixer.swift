import Foundation
import Engine

/// CutMix and MixUp on a whole batch, as in the reference notebook (22e50367:training.ipynb `train`:
/// u = np.random.rand() per batch, CutMix when u < 0.5, else MixUp when u < 0.8): CutMix when
/// u < p_cutmix, else MixUp when u < p_cutmix + p_mixup, else nothing. The partner of sample i is
/// sample perm[i] of a uniformly random permutation (tests/test_utils.py `cutmix_data` / `mixup_data`:
/// `index = torch.randperm(batch_size)`); λ ~ Beta(α, α); CutMix's box is `rand_bbox`'s (cut ratio
/// √(1−λ), centre uniform, clipped) and λ is corrected to the pasted area. Targets become
/// λ·onehot(y_i) + (1−λ)·onehot(y_perm[i]). Every draw comes from Philox(seed, .mix, epoch << 32 |
/// batch), so mixing depends only on (seed, epoch, batch index).
final class BatchMixer {
    let cutmix: (p: Double, alpha: Double)?
    let mixup: (p: Double, alpha: Double)?
    let classes: Int
    let seed: UInt64
    let epoch: Int

    init(cutmix: (Double, Double)?, mixup: (Double, Double)?, classes: Int, seed: UInt64, epoch: Int) {
        self.cutmix = cutmix.map { (p: $0.0, alpha: $0.1) }
        self.mixup = mixup.map { (p: $0.0, alpha: $0.1) }
        self.classes = classes; self.seed = seed; self.epoch = epoch
    }

    var isActive: Bool { (cutmix?.p ?? 0) > 0 || (mixup?.p ?? 0) > 0 }

    /// What one batch's draws decided: nothing, CutMix with its box and partners, or MixUp with
    /// its λ and partners.
    enum Draw: Equatable { case none, cutmix(box: CutBox, partners: [Int]), mixup(lambda: Double, partners: [Int]) }

    /// The draws of batch `batchIndex` (n images of h×w), in the stream's fixed order: u, then λ,
    /// the box centre (y, x) and the permutation for CutMix, or λ and the permutation for MixUp.
    func draw(batchIndex: Int, n: Int, h: Int, w: Int) -> Draw {
        var draws = RandomDraws(Philox(seed: seed, purpose: .mix, index: UInt64(epoch) << 32 | UInt64(batchIndex)))
        let u = draws.uniform()
        let pc = cutmix?.p ?? 0, pm = mixup?.p ?? 0
        if let cm = cutmix, u < pc {
            let lambda = draws.beta(cm.alpha)
            let cy = draws.below(h), cx = draws.below(w)
            let box = CutBox(lambda: lambda, height: h, width: w, centerY: cy, centerX: cx)
            return .cutmix(box: box, partners: draws.permutation(n))
        } else if let mu = mixup, u < pc + pm {
            let lambda = draws.beta(mu.alpha)
            return .mixup(lambda: lambda, partners: draws.permutation(n))
        }
        return .none
    }

    /// The images batch `batchIndex` needs to mix the images `wanted` (those and their partners),
    /// for a data-parallel rank that decodes only its shards.
    func needed(batchIndex: Int, n: Int, h: Int, w: Int, wanted: Range<Int>) -> [Bool] {
        var need = [Bool](repeating: false, count: n)
        for i in wanted { need[i] = true }
        switch draw(batchIndex: batchIndex, n: n, h: h, w: w) {
        case .none: break
        case let .cutmix(_, partners), let .mixup(_, partners): for i in wanted { need[partners[i]] = true }
        }
        return need
    }

    /// Mixes batch `batchIndex` of the epoch (NHWC `x`), or returns it unchanged when neither
    /// CutMix nor MixUp is drawn (`draw`).
    func mix(_ x: Tensor, labels: [Int], batchIndex: Int) -> TrainBatch {
        switch draw(batchIndex: batchIndex, n: x.shape[0], h: x.shape[1], w: x.shape[2]) {
        case let .cutmix(box, partners): return Self.cutMix(x, labels: labels, partners: partners, box: box, classes: classes)
        case let .mixup(lambda, partners): return Self.mixUp(x, labels: labels, partners: partners, lambda: lambda, classes: classes)
        case .none: return TrainBatch(images: x, labels: labels, targets: .labels(labels))
        }
    }

    /// The region CutMix pastes: `rand_bbox`'s box, cut ratio √(1−λ), centred at (centerY,
    /// centerX), half-sizes rounded down, clipped to the image; rows y1..<y2, columns x1..<x2.
    struct CutBox: Equatable {
        var y1: Int, y2: Int, x1: Int, x2: Int

        init(y1: Int, y2: Int, x1: Int, x2: Int) { self.y1 = y1; self.y2 = y2; self.x1 = x1; self.x2 = x2 }

        init(lambda: Double, height h: Int, width w: Int, centerY cy: Int, centerX cx: Int) {
            let ratio = (1 - lambda).squareRoot()
            let ch = Int(Double(h) * ratio), cw = Int(Double(w) * ratio)
            self.init(y1: max(cy - ch / 2, 0), y2: min(cy + ch / 2, h), x1: max(cx - cw / 2, 0), x2: min(cx + cw / 2, w))
        }

        /// Pixels in the box.
        var area: Int { (y2 - y1) * (x2 - x1) }

        /// λ corrected to the pasted area: the share of each image that stays its own,
        /// 1 − area / (h·w) (the reference recomputes λ after clipping the box).
        func lambda(height h: Int, width w: Int) -> Double { 1 - Double(area) / Double(h * w) }
    }

    /// CutMix: the box of sample i is replaced by that of sample `partners[i]`; targets weigh
    /// the labels by the corrected λ (`CutBox.lambda`).
    static func cutMix(_ x: Tensor, labels: [Int], partners: [Int], box: CutBox, classes: Int) -> TrainBatch {
        let n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
        let out = x.copy()
        for i in 0..<n {
            let j = partners[i]
            for yy in box.y1..<max(box.y1, box.y2) {
                let dst = out.data + ((i * h + yy) * w + box.x1) * c, src = x.data + ((j * h + yy) * w + box.x1) * c
                dst.update(from: src, count: max(box.x2 - box.x1, 0) * c)
            }
        }
        let lambda = box.lambda(height: h, width: w)
        return TrainBatch(images: out, labels: labels, targets: .soft(softTargets(labels, partners: partners, lambda: lambda, classes: classes)))
    }

    /// MixUp: sample i becomes λ·x_i + (1−λ)·x_partners[i]; targets likewise.
    static func mixUp(_ x: Tensor, labels: [Int], partners: [Int], lambda: Double, classes: Int) -> TrainBatch {
        let n = x.shape[0], per = x.shape[1] * x.shape[2] * x.shape[3]
        let out = x.copy()
        let a = Float(lambda), b = Float(1 - lambda)
        for i in 0..<n {
            let dst = out.data + i * per, s1 = x.data + i * per, s2 = x.data + partners[i] * per
            for k in 0..<per { dst[k] = a * s1[k] + b * s2[k] }
        }
        return TrainBatch(images: out, labels: labels, targets: .soft(softTargets(labels, partners: partners, lambda: lambda, classes: classes)))
    }

    /// λ·onehot(labels[i]) + (1−λ)·onehot(labels[partners[i]]), [n, classes].
    static func softTargets(_ labels: [Int], partners: [Int], lambda: Double, classes: Int) -> Tensor {
        let n = labels.count
        let t = Tensor(zeros: [n, classes])
        for i in 0..<n {
            t.data[i * classes + labels[i]] += Float(lambda)
            t.data[i * classes + labels[partners[i]]] += Float(1 - lambda)
        }
        return t
    }
}

/// Sequential draws from one Philox stream (a counter that only moves forward).
struct RandomDraws {
    let rng: Philox
    var i: UInt64 = 0
    init(_ rng: Philox) { self.rng = rng }

    mutating func uniform() -> Double { defer { i += 1 }; return rng.uniform(i) }
    mutating func normal() -> Double { defer { i += 1 }; return rng.normal(i) }
    mutating func below(_ n: Int) -> Int { defer { i += 1 }; return rng.below(n, i) }

    /// A uniformly random permutation of 0..<n (Fisher–Yates, n − 1 draws).
    mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for k in stride(from: n - 1, to: 0, by: -1) { p.swapAt(k, below(k + 1)) } }
        return p
    }

    /// Gamma(α, 1) by Marsaglia–Tsang (α < 1 via Gamma(α+1)·U^(1/α)), with its logarithm: for a
    /// small α the value underflows to 0 while its logarithm stays finite.
    mutating func gammaAndLog(_ alpha: Double) -> (value: Double, log: Double) {
        if alpha < 1 {
            let g = gammaAndLog(alpha + 1)
            let u = max(uniform(), 1e-300)
            return (g.value * pow(u, 1 / alpha), g.log + log(u) / alpha)
        }
        let d = alpha - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let z = normal()
            let v0 = 1 + c * z
            if v0 <= 0 { continue }
            let v = v0 * v0 * v0
            let u = uniform()
            if log(max(u, 1e-300)) < 0.5 * z * z + d - d * v + d * log(v) { return (d * v, log(d * v)) }
        }
    }

    /// Gamma(α, 1).
    mutating func gamma(_ alpha: Double) -> Double { gammaAndLog(alpha).value }

    /// Beta(α, α) = a / (a + b) for a, b ~ Gamma(α, 1). When both draws underflow (α of about
    /// 0.01 and below) the ratio is taken from their logarithms, 1 / (1 + e^(log b − log a)),
    /// which is the same number without the 0 / 0.
    mutating func beta(_ alpha: Double) -> Double {
        let a = gammaAndLog(alpha), b = gammaAndLog(alpha)
        let sum = a.value + b.value
        if sum >= Double.leastNormalMagnitude && sum.isFinite { return a.value / sum }
        let lambda = 1 / (1 + exp(b.log - a.log))
        return lambda.isNaN ? 0.5 : lambda
    }
}
