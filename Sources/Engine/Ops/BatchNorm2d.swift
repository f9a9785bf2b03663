// Batch normalisation over NHWC activations (N,H,W,C) or features (N,C), PyTorch semantics.
// Letters: R = rows = N·H·W (or N), C = channels. Per-channel reductions run over fixed-size
// row chunks (the chunk depends only on C), each chunk sums in Double, and the partials are
// combined in chunk order: the same bytes for any thread count.

import CKernels

/// `torch.nn.BatchNorm2d` (and `BatchNorm1d` on (N, C)).
///
/// Train mode normalises with the batch mean and biased variance, then updates
/// `running = (1 − momentum)·running + momentum·batch` with the UNBIASED variance
/// (`var · R/(R−1)`) and counts `num_batches_tracked`. Eval mode uses the running statistics.
/// Backward (after a train forward) is the full batch-statistics gradient.
public final class BatchNorm2d: Layer {
    public let channels: Int
    public let momentum: Float
    public let eps: Float
    /// γ (C), `<name>.weight`, ones.
    public var weight: Parameter
    /// β (C), `<name>.bias`, zeros.
    public var bias: Parameter
    /// (C) `<name>.running_mean`, zeros.
    public var runningMean: Parameter
    /// (C) `<name>.running_var`, ones.
    public var runningVar: Parameter
    /// `<name>.num_batches_tracked`.
    public var numBatchesTracked: Counter

    // Train-mode cache for backward.
    private var input: Tensor?                        // x (R, C) in any NHWC/NC shape
    private let mean: UnsafeMutablePointer<Double>    // (C) batch mean
    private let invStd: UnsafeMutablePointer<Double>  // (C) 1/sqrt(biased var + eps)
    private var partials: UnsafeMutablePointer<Double>?  // (chunks, 2, C) reduction scratch
    private var partialCapacity = 0
    /// The MAC counter of the store's engine context.
    private let macs: MACCounter
    /// The batch shards of the store's engine context: statistics are full-batch, summed per
    /// shard and folded over all shards of all ranks (synchronised BatchNorm).
    private let sharding: BatchSharding

    /// Declares the layer's tensors under `name` in `store`.
    /// - Parameters:
    ///   - store: the model's parameter store (build phase).
    ///   - name: state-dict prefix, e.g. `layer1.0.bn1`.
    ///   - channels: C.
    ///   - momentum: running-statistics momentum (PyTorch's 0.1).
    ///   - eps: added to the variance.
    public init(store: ParameterStore, name: String, channels: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        precondition(channels > 0, "BatchNorm2d(\(name)): channels must be positive, got \(channels)")
        self.channels = channels; self.momentum = momentum; self.eps = eps
        macs = store.context.macs
        sharding = store.context.sharding
        (weight, bias, runningMean, runningVar, numBatchesTracked) = store.scoped(name) {
            (store.weight("weight", shape: [channels], initializer: .ones),
             store.weight("bias", shape: [channels], initializer: .zeros),
             store.buffer("running_mean", shape: [channels], initializer: .zeros),
             store.buffer("running_var", shape: [channels], initializer: .ones),
             store.counter("num_batches_tracked"))
        }
        weight.foldsOverShards = true; bias.foldsOverShards = true
        mean = .allocate(capacity: channels)
        invStd = .allocate(capacity: channels)
    }

    deinit { mean.deallocate(); invStd.deallocate(); partials?.deallocate() }

    /// Rows per reduction chunk: depends only on C, ≥ 32 so partials stay small next to the data.
    private var chunkRows: Int { max(32, 16_384 / channels) }

    private func scratch(_ chunks: Int) -> UnsafeMutablePointer<Double> {
        let need = chunks * 2 * channels
        if need > partialCapacity {
            partials?.deallocate()
            partials = .allocate(capacity: need)
            partialCapacity = need
        }
        return partials!
    }

    /// Per-channel `(Σ a, Σ a·b)` over all rows, where `a = p[r,c] − shiftA[c]`, `b = q[r,c] − shiftB[c]`,
    /// in Double, chunked and combined in chunk order. With `mask`, `p[r,c]` counts only where
    /// `mask[r,c] > 0` (ReLU's backward rule, applied on the fly). Each chunk is `rkan_bn_sums`
    /// (CKernels: AVX2 where the CPU has it; rows added in order, the bytes of a plain loop).
    /// - Returns: written into `s1` (C) and `s2` (C).
    private func channelSums(_ p: UnsafePointer<Float>, _ shiftA: UnsafePointer<Double>,
                             _ q: UnsafePointer<Float>, _ shiftB: UnsafePointer<Double>, rows: Int,
                             mask: UnsafePointer<Float>?,
                             _ s1: UnsafeMutablePointer<Double>, _ s2: UnsafeMutablePointer<Double>) {
        let c = channels, cr = chunkRows
        let chunks = (rows + cr - 1) / cr
        let part = scratch(chunks)
        Parallel.forEachChunk(count: chunks, chunk: 1) { r in
            for k in r {
                let a1 = part + k * 2 * c, a2 = a1 + c
                let (r0, r1) = (k * cr, min(rows, (k + 1) * cr))
                rkan_bn_sums(a1, a2, p + r0 * c, shiftA, q + r0 * c, shiftB, mask.map { $0 + r0 * c }, r1 - r0, c)
            }
        }
        s1.update(repeating: 0, count: c); s2.update(repeating: 0, count: c)
        for k in 0..<chunks {
            let a1 = part + k * 2 * c, a2 = a1 + c
            for j in 0..<c { s1[j] += a1[j]; s2[j] += a2[j] }
        }
    }

    /// `(Σ a, Σ a·b)` of `channelSums` over the whole batch: per shard (rows of its images), then
    /// folded over every shard of every rank (`BatchSharding.sum`).
    /// - Parameters:
    ///   - images: N of the tensor this process sees (0 on a rank whose shards are all empty).
    ///   - perImage: rows per image (H·W, or 1 for (N, C)).
    /// - Returns: written into `s1` (C) and `s2` (C).
    private func batchSums(_ p: UnsafePointer<Float>, _ shiftA: UnsafePointer<Double>,
                           _ q: UnsafePointer<Float>, _ shiftB: UnsafePointer<Double>, images: Int, perImage: Int,
                           mask: UnsafePointer<Float>? = nil,
                           _ s1: UnsafeMutablePointer<Double>, _ s2: UnsafeMutablePointer<Double>) {
        let c = channels
        let total: ShardTotal<Double> = sharding.perShard(batch: images, count: 2 * c, .inOrder) { _, r, row in   // shares `partials`
            if r.isEmpty { return }
            let o = r.lowerBound * perImage * c
            channelSums(p + o, shiftA, q + o, shiftB, rows: r.count * perImage, mask: mask.map { $0 + o }, row, row + c)
        }
        defer { total.release() }
        s1.update(from: total.values, count: c)
        s2.update(from: total.values + c, count: c)
    }

    /// `y = (x − m)·a + b` per channel, then `+ residual` (same shape) and `max(·, 0)` when asked,
    /// rows in parallel (`rkan_bn_apply`): one pass with the arithmetic of the separate ops
    /// (`addForward`, `reluForward`), so the same bytes.
    private func affine(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int,
                        m: UnsafePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                        residual: UnsafePointer<Float>?, relu: Bool) {
        let c = channels
        Parallel.forEachChunk(count: rows, chunk: chunkRows) { r in
            let o = r.lowerBound * c
            rkan_bn_apply(y + o, x + o, r.count, c, m, a, b, residual.map { $0 + o }, relu ? 1 : 0)
        }
    }

    /// Eval mode's per-channel `m` (running mean), `a = γ / √(running var + ε)` and `b = β`.
    private func evalCoefficients(_ m: UnsafeMutablePointer<Float>, _ a: UnsafeMutablePointer<Float>,
                                  _ b: UnsafeMutablePointer<Float>) {
        let w = weight.value!, bi = bias.value!, rm = runningMean.value!, rv = runningVar.value!
        for j in 0..<channels {
            m[j] = rm[j]
            a[j] = Float(Double(w[j]) / (Double(rv[j]) + Double(eps)).squareRoot())
            b[j] = bi[j]
        }
    }

    /// This layer in eval mode, then `+ residual` and ReLU when asked, as the epilogue of the conv
    /// that feeds it (`Conv2d.forward(_:mode:then:)`): the bytes of `forward(_:mode: .eval)` and the
    /// ops after it. Made per call: it holds the current running statistics.
    public func epilogue(adding residual: Tensor? = nil, relu: Bool) -> ConvEpilogue {
        input = nil
        let e = ConvEpilogue(channels: channels, residual: residual, relu: relu, macs: macs, macsPerElement: 4)
        evalCoefficients(e.coefficients, e.coefficients + channels, e.coefficients + 2 * channels)
        return e
    }

    /// `relu(bn(conv(x)) + residual)` (residual and ReLU optional) in the fewest passes each mode
    /// allows: in eval mode the BN, add and ReLU are the conv's epilogue; in train mode BN needs the
    /// whole output's statistics first, so the conv runs, then one fused pass
    /// (`forward(_:mode:adding:then:)`). The bytes of the layers run one by one either way; undo a
    /// train-mode call with `conv.backward(backward(_:through:))` (or `backward(_:)` without ReLU).
    public func forward(after conv: Conv2d, _ x: Tensor, mode: Mode, adding residual: Tensor? = nil,
                        then relu: ReLU?) throws -> Tensor {
        guard mode == .eval else {
            return try forward(conv.forward(x, mode: mode), mode: mode, adding: residual, then: relu)
        }
        let y = try conv.forward(x, mode: .eval, then: epilogue(adding: residual, relu: relu != nil))
        relu?.keep(output: y, mode: .eval)
        return y
    }

    /// - Parameter x: (N, H, W, C) or (N, C).
    /// - Returns: same shape.
    /// - Throws: `EngineError.shapeMismatch` when the last dimension is not C or the rank is not 2 or 4;
    ///   `.invalidArgument` in train mode with a single value per channel.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try forward(x, mode: mode, adding: nil, then: nil)
    }

    /// `relu(bn(x) + residual)` in one pass over the activations (the epilogue of the conv that
    /// made `x`): the bytes of `relu.forward(addForward(bn.forward(x), residual))`, without the two
    /// intermediate tensors and their passes. `relu` keeps the output for its backward, as its own
    /// forward would; undo the pair in backward with `backward(_:through:)`.
    /// - Parameters:
    ///   - residual: same shape as `x`, added after the normalisation; nil: none.
    ///   - relu: the ReLU layer applied last; nil: none.
    /// - Throws: as `forward(_:mode:)`, and `.shapeMismatch` (op "add") when `residual` differs in shape.
    public func forward(_ x: Tensor, mode: Mode, adding residual: Tensor?, then relu: ReLU?) throws -> Tensor {
        let c = channels
        guard (x.rank == 4 || x.rank == 2) && x.shape.last == c else {
            throw EngineError.shapeMismatch(op: "BatchNorm2d", detail: "expected (N, H, W, \(c)) or (N, \(c)), got \(shapeString(x.shape))")
        }
        if let residual, residual.shape != x.shape {
            throw EngineError.shapeMismatch(op: "add", detail: "a \(shapeString(x.shape)) vs b \(shapeString(residual.shape))")
        }
        let rows = x.count / c
        let y = Tensor(uninitialized: x.shape)
        macs.add(4 * x.count)
        // Per-channel Float coefficients (C each): m, a = γ·invstd, b = β.
        let coef = UnsafeMutablePointer<Float>.allocate(capacity: 3 * c)
        defer { coef.deallocate() }
        let (m, a, b) = (coef, coef + c, coef + 2 * c)
        let w = weight.value!, bi = bias.value!, rm = runningMean.value!, rv = runningVar.value!
        switch mode {
        case .eval:
            input = nil
            evalCoefficients(m, a, b)
        case .train:
            let images = x.shape[0], perImage = x.rank == 4 ? x.shape[1] * x.shape[2] : 1
            let globalRows = sharding.globalBatch(localBatch: images) * perImage
            guard globalRows > 1 else {
                throw EngineError.invalidArgument(op: "BatchNorm2d", detail: "expected more than 1 value per channel when training, got input \(shapeString(x.shape))")
            }
            // Shift by the running mean (the same on every rank) so the one-pass Double sums do
            // not cancel; per-shard sums folded over the whole batch.
            let shift = UnsafeMutablePointer<Double>.allocate(capacity: 3 * c)
            defer { shift.deallocate() }
            let (s1, s2) = (shift + c, shift + 2 * c)
            for j in 0..<c { shift[j] = Double(rm[j]) }
            batchSums(x.data, shift, x.data, shift, images: images, perImage: perImage, s1, s2)
            let n = Double(globalRows)
            for j in 0..<c {
                let d = s1[j] / n
                let variance = max(0, s2[j] / n - d * d)
                mean[j] = shift[j] + d
                invStd[j] = 1 / (variance + Double(eps)).squareRoot()
                m[j] = Float(mean[j])
                a[j] = Float(Double(w[j]) * invStd[j])
                b[j] = bi[j]
                let mom = Double(momentum)
                rm[j] = Float((1 - mom) * Double(rm[j]) + mom * mean[j])
                rv[j] = Float((1 - mom) * Double(rv[j]) + mom * variance * n / (n - 1))
            }
            numBatchesTracked.value += 1
            input = x
        }
        affine(y.data, x.data, rows: rows, m: m, a: a, b: b, residual: residual?.data, relu: relu != nil)
        relu?.keep(output: y, mode: mode)
        return y
    }

    /// Full batch-statistics backward (valid after a `.train` forward):
    /// `dβ += Σ dy`, `dγ += Σ dy·x̂`, `dx = γ·invstd·(dy − mean(dy) − x̂·mean(dy·x̂))`.
    /// - Parameter dy: same shape as the forward input.
    /// - Returns: dx, same shape.
    public func backward(_ dy: Tensor) -> Tensor {
        backward(dy, mask: nil)
    }

    /// Backward of `relu(bn(x))` (a forward with `then: relu`, any `adding:`) in one go: ReLU's
    /// rule `dy · [y > 0]` is applied while BatchNorm reads dy, so the masked gradient is never
    /// written out; the bytes of `backward(relu.backward(dy))`.
    /// - Parameters:
    ///   - dy: gradient of the ReLU's output.
    ///   - relu: the layer passed to the forward; its cached output is used and released.
    public func backward(_ dy: Tensor, through relu: ReLU) -> Tensor {
        let y = relu.takeOutput(matching: dy)
        return backward(dy, mask: y)
    }

    private func backward(_ dy: Tensor, mask: Tensor?) -> Tensor {
        guard let x = input else { preconditionFailure("BatchNorm2d.backward called without a .train forward") }
        precondition(dy.shape == x.shape, "BatchNorm2d.backward: dy \(shapeString(dy.shape)) vs x \(shapeString(x.shape))")
        input = nil
        let c = channels, rows = x.count / c, images = x.shape[0]
        let perImage = x.rank == 4 ? x.shape[1] * x.shape[2] : 1
        let n = Double(sharding.globalBatch(localBatch: images) * perImage)
        let zero = UnsafeMutablePointer<Double>.allocate(capacity: 3 * c)
        defer { zero.deallocate() }
        let (sdy, sdyx) = (zero + c, zero + 2 * c)
        zero.update(repeating: 0, count: c)
        // Σ dy and Σ dy·(x − mean), per channel, over the whole batch.
        batchSums(dy.data, zero, x.data, mean, images: images, perImage: perImage, mask: mask?.data, sdy, sdyx)
        let coef = UnsafeMutablePointer<Float>.allocate(capacity: 4 * c)
        defer { coef.deallocate() }
        let (k1, k2, k3, mf) = (coef, coef + c, coef + 2 * c, coef + 3 * c)
        let w = weight.value!, dw = weight.grad!, db = bias.grad!
        for j in 0..<c {
            let istd = invStd[j], g = Double(w[j])
            let sumDyXhat = sdyx[j] * istd
            db[j] += Float(sdy[j])
            dw[j] += Float(sumDyXhat)
            // dx = k1·dy + k2·(x − mean) + k3
            k1[j] = Float(g * istd)
            k2[j] = Float(-g * istd * istd * istd * sdyx[j] / n)
            k3[j] = Float(-g * istd * sdy[j] / n)
            mf[j] = Float(mean[j])
        }
        let dx = Tensor(uninitialized: x.shape)
        let (pdx, pdy, px, pm) = (dx.data, dy.data, x.data, mask?.data)
        Parallel.forEachChunk(count: rows, chunk: chunkRows) { r in
            let o = r.lowerBound * c
            rkan_bn_backward_dx(pdx + o, pdy + o, px + o, pm.map { $0 + o }, r.count, c, k1, k2, k3, mf)
        }
        return dx
    }
}
