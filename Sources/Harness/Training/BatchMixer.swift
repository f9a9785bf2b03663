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

    /// What one batch's draws decided: the CutMix box (rows y1..<y2, columns x1..<x2), the MixUp
    /// λ, and the partners.
    enum Draw { case none, cutmix(y1: Int, y2: Int, x1: Int, x2: Int, perm: [Int]), mixup(lam: Double, perm: [Int]) }

    /// The draws of batch `batchIndex` (n images of h×w), in the stream's fixed order.
    func draw(batchIndex: Int, n: Int, h: Int, w: Int) -> Draw {
        var draws = RandomDraws(Philox(seed: seed, purpose: .mix, index: UInt64(epoch) << 32 | UInt64(batchIndex)))
        let u = draws.uniform()
        let pc = cutmix?.p ?? 0, pm = mixup?.p ?? 0
        if let cm = cutmix, u < pc {
            let l = draws.beta(cm.alpha)
            let ratio = (1 - l).squareRoot()
            let ch = Int(Double(h) * ratio), cw = Int(Double(w) * ratio)
            let cy = draws.below(h), cx = draws.below(w)
            return .cutmix(y1: max(cy - ch / 2, 0), y2: min(cy + ch / 2, h), x1: max(cx - cw / 2, 0), x2: min(cx + cw / 2, w),
                           perm: draws.permutation(n))
        } else if let mu = mixup, u < pc + pm {
            let lam = draws.beta(mu.alpha)
            return .mixup(lam: lam, perm: draws.permutation(n))
        }
        return .none
    }

    /// The images batch `batchIndex` needs to mix `wanted` (those and their partners), for a
    /// data-parallel rank that builds only its shards.
    func needed(batchIndex: Int, n: Int, h: Int, w: Int, wanted: Range<Int>) -> [Bool] {
        var need = [Bool](repeating: false, count: n)
        for i in wanted { need[i] = true }
        switch draw(batchIndex: batchIndex, n: n, h: h, w: w) {
        case .none: break
        case let .cutmix(_, _, _, _, perm), let .mixup(_, perm): for i in wanted { need[perm[i]] = true }
        }
        return need
    }

    func mix(_ x: Tensor, labels: [Int], batchIndex: Int) -> TrainBatch {
        let n = x.shape[0], h = x.shape[1], w = x.shape[2], c = x.shape[3]
        let out = x.copy()
        let lam: Double
        var perm: [Int] = []
        switch draw(batchIndex: batchIndex, n: n, h: h, w: w) {
        case let .cutmix(y1, y2, x1, x2, p):
            perm = p
            for i in 0..<n {
                let j = perm[i]
                for yy in y1..<max(y1, y2) {
                    let dst = out.data + ((i * h + yy) * w + x1) * c, src = x.data + ((j * h + yy) * w + x1) * c
                    dst.update(from: src, count: max(x2 - x1, 0) * c)
                }
            }
            lam = 1 - Double((y2 - y1) * (x2 - x1)) / Double(h * w)
        case let .mixup(l, p):
            (lam, perm) = (l, p)
            let per = h * w * c, a = Float(lam), b = Float(1 - lam)
            for i in 0..<n {
                let j = perm[i]
                let dst = out.data + i * per, s1 = x.data + i * per, s2 = x.data + j * per
                for k in 0..<per { dst[k] = a * s1[k] + b * s2[k] }
            }
        case .none:
            return TrainBatch(images: x, labels: labels, targets: .labels(labels))
        }
        let t = Tensor(zeros: [n, classes])
        for i in 0..<n {
            t.data[i * classes + labels[i]] += Float(lam)
            t.data[i * classes + labels[perm[i]]] += Float(1 - lam)
        }
        return TrainBatch(images: out, labels: labels, targets: .soft(t))
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

    /// Gamma(α, 1) by Marsaglia–Tsang (α < 1 via Gamma(α+1)·U^(1/α)).
    mutating func gamma(_ alpha: Double) -> Double {
        if alpha < 1 { return gamma(alpha + 1) * pow(max(uniform(), 1e-300), 1 / alpha) }
        let d = alpha - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let z = normal()
            let v0 = 1 + c * z
            if v0 <= 0 { continue }
            let v = v0 * v0 * v0
            let u = uniform()
            if log(max(u, 1e-300)) < 0.5 * z * z + d - d * v + d * log(v) { return d * v }
        }
    }

    /// Beta(α, α).
    mutating func beta(_ alpha: Double) -> Double {
        let a = gamma(alpha), b = gamma(alpha)
        return a / (a + b)
    }
}
