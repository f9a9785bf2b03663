import Foundation

/// AdamW with PyTorch's exact update (torch.optim.AdamW, amsgrad off):
///
///     p = p·(1 − lr·wd)
///     m = β1·m + (1−β1)·g ;  v = β2·v + (1−β2)·g²
///     p = p − (lr / (1−β1^t)) · m / (sqrt(v)/sqrt(1−β2^t) + eps)
public final class AdamW: Optimizer {
    public let store: ParameterStore
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public var stepCount: Int64 = 0
    private var m: UnsafeMutablePointer<Float>?   // (parameterCount) first moment
    private var v: UnsafeMutablePointer<Float>?   // (parameterCount) second moment

    /// - Throws: `EngineError.invalidArgument` for betas outside [0, 1), eps < 0 or wd < 0.
    public init(store: ParameterStore, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01) throws {
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else {
            throw EngineError.invalidArgument(op: "AdamW", detail: "invalid betas (\(beta1), \(beta2))")
        }
        guard eps >= 0, weightDecay >= 0 else {
            throw EngineError.invalidArgument(op: "AdamW", detail: "invalid eps \(eps) or weight_decay \(weightDecay)")
        }
        self.store = store; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
    }

    deinit { m?.deallocate(); v?.deallocate() }

    public var stateBuffers: [(name: String, values: UnsafeMutablePointer<Float>)] {
        guard let m, let v else { return [] }
        return [("exp_avg", m), ("exp_avg_sq", v)]
    }

    public func allocateState() {
        guard m == nil else { return }
        let n = max(store.parameterCount, 1)
        m = .allocate(capacity: n); m!.update(repeating: 0, count: n)
        v = .allocate(capacity: n); v!.update(repeating: 0, count: n)
    }

    public func step(lr: Float) {
        let n = store.parameterCount
        guard let p = store.values, let g = store.grads else { return }
        allocateState()
        stepCount += 1
        let t = Float(stepCount)
        let bc1 = 1 - powf(beta1, t), bc2sqrt = sqrtf(1 - powf(beta2, t))
        let stepSize = lr / bc1
        let (b1, b2, e, decay) = (beta1, beta2, eps, 1 - lr * weightDecay)
        let m = m!, v = v!
        store.context.run {
            Parallel.forEachChunk(count: n, chunk: Parallel.elementChunk(n)) { r in
                for i in r {
                    p[i] *= decay
                    let gi = g[i]
                    m[i] = b1 * m[i] + (1 - b1) * gi
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi
                    let denom = sqrtf(v[i]) / bc2sqrt + e
                    p[i] -= stepSize * (m[i] / denom)
                }
            }
        }
    }
}
