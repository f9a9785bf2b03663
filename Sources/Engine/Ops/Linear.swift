/// `y = x · Wᵀ + b` on a batch of feature rows.
/// - Parameters:
///   - out: (N, O), overwritten.
///   - inp: (N, I).
///   - weight: (O, I).
///   - bias: (O) or nil.
public func linearForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                          _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                          batch: Int, inFeatures: Int, outFeatures: Int) {
    BLAS.sgemm(.none, .transposed, m: batch, n: outFeatures, k: inFeatures, a: inp, lda: inFeatures,
               b: weight, ldb: inFeatures, beta: 0, c: out, ldc: outFeatures)
    if let bias { addBiasRows(out, bias, rows: batch, cols: outFeatures) }
}

/// Gradients of `linearForward`: dW += dYᵀ·X, db += Σ_rows dY, dX = dY·W.
/// - Parameters:
///   - dinp: (N, I), overwritten; nil skips it.
///   - dweight: (O, I), accumulated; nil skips it.
///   - dbias: (O), accumulated; nil skips it.
///   - dout: (N, O) upstream gradient.
///   - inp: (N, I) the forward input.
///   - weight: (O, I).
public func linearBackward(_ dinp: UnsafeMutablePointer<Float>?, _ dweight: UnsafeMutablePointer<Float>?,
                           _ dbias: UnsafeMutablePointer<Float>?, _ dout: UnsafePointer<Float>,
                           _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                           batch: Int, inFeatures: Int, outFeatures: Int) {
    if let dweight {
        BLAS.sgemm(.transposed, .none, m: outFeatures, n: inFeatures, k: batch, a: dout, lda: outFeatures,
                   b: inp, ldb: inFeatures, beta: 1, c: dweight, ldc: inFeatures)
    }
    if let dbias { addColumnSums(dbias, dout, rows: batch, cols: outFeatures) }
    if let dinp {
        BLAS.sgemm(.none, .none, m: batch, n: inFeatures, k: outFeatures, a: dout, lda: outFeatures,
                   b: weight, ldb: inFeatures, beta: 0, c: dinp, ldc: inFeatures)
    }
}

/// Fully connected layer (PyTorch `nn.Linear`): (N, in) → (N, out).
public final class Linear: Layer {
    public let inFeatures, outFeatures: Int
    /// (out, in), PyTorch order.
    public let weight: Parameter
    /// (out), when the layer has a bias.
    public let bias: Parameter?
    private var cachedInput: Tensor?
    /// The MAC counter of the store's engine context.
    private let macs: MACCounter
    /// The batch shards of the store's engine context.
    private let sharding: BatchSharding

    /// Declares `<name>.weight` and `<name>.bias`, both U(−1/√in, 1/√in) as PyTorch's default.
    public init(store: ParameterStore, name: String, inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear \(name): sizes must be positive (\(inFeatures) → \(outFeatures))")
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        macs = store.context.macs
        sharding = store.context.sharding
        let bound = 1 / Float(inFeatures).squareRoot()
        (weight, self.bias) = store.scoped(name) {
            let w = store.weight("weight", shape: [outFeatures, inFeatures], initializer: .uniform(bound: bound))
            let b = bias ? store.weight("bias", shape: [outFeatures], initializer: .uniform(bound: bound)) : nil
            return (w, b)
        }
        for p in [weight] + (self.bias.map { [$0] } ?? []) { p.foldsOverShards = true }
    }

    /// - Parameter x: (N, inFeatures).
    /// - Returns: (N, outFeatures).
    /// - Throws: `EngineError.shapeMismatch` for another rank or feature count.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == inFeatures else {
            throw EngineError.shapeMismatch(op: "Linear", detail: "expected input (N, \(inFeatures)), got \(shapeString(x.shape)); weight \(shapeString(weight.shape))")
        }
        let y = Tensor(uninitialized: [x.shape[0], outFeatures])
        // Once per batch shard (see `Conv2d.forward`).
        sharding.forEachShard(batch: x.shape[0], .concurrent) { r in
            linearForward(y.data + r.lowerBound * outFeatures, x.data + r.lowerBound * inFeatures, weight.value, bias?.value,
                          batch: r.count, inFeatures: inFeatures, outFeatures: outFeatures)
        }
        macs.add(x.shape[0] * inFeatures * outFeatures)
        cachedInput = mode == .train ? x : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = cachedInput else { preconditionFailure("Linear.backward without a .train forward") }
        precondition(dy.shape == [x.shape[0], outFeatures], "Linear.backward: dy \(shapeString(dy.shape)), expected \(shapeString([x.shape[0], outFeatures]))")
        cachedInput = nil
        let dx = Tensor(uninitialized: x.shape)
        // dW and db per shard, folded over all shards (and ranks) in tree order.
        let (wCount, bCount) = (weight.count, bias?.count ?? 0)
        let total: ShardTotal<Float> = sharding.perShard(batch: x.shape[0], count: wCount + bCount, .concurrent) { _, r, row in
            if r.isEmpty { return }
            linearBackward(dx.data + r.lowerBound * inFeatures, row, bias == nil ? nil : row + wCount,
                           dy.data + r.lowerBound * outFeatures, x.data + r.lowerBound * inFeatures, weight.value,
                           batch: r.count, inFeatures: inFeatures, outFeatures: outFeatures)
        }
        defer { total.release() }
        addInPlace(weight.grad, total.values, wCount)
        if let b = bias { addInPlace(b.grad, total.values + wCount, bCount) }
        return dx
    }
}
