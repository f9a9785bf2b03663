/// All of a model's named tensors in flat buffers with named views (llm.c style): zero-grad is
/// one fill, the optimizer is one flat loop, and the state dict is a walk over `entries`.
///
/// Build phase: layers call `weight`/`buffer`/`counter` under `scoped(_:)` name prefixes.
/// Then `finalize()` allocates and binds the views, and `initialize(seed:)` draws the values.
public final class ParameterStore {
    public private(set) var parameters: [Parameter] = []
    public private(set) var buffers: [Parameter] = []
    public private(set) var counters: [Counter] = []
    /// Flat trainable values and gradients (`parameterCount` floats each).
    public private(set) var values: UnsafeMutablePointer<Float>?
    public private(set) var grads: UnsafeMutablePointer<Float>?
    public private(set) var parameterCount = 0
    private var bufferStorage: UnsafeMutablePointer<Float>?
    public private(set) var bufferCount = 0
    private var prefix: [String] = []
    private var names = Set<String>()
    public private(set) var isFinalized = false
    /// The engine settings of the model built in this store; every layer keeps it at init.
    public let context: EngineContext

    public init(context: EngineContext = EngineContext()) { self.context = context }

    deinit {
        values?.deallocate(); grads?.deallocate(); bufferStorage?.deallocate()
    }

    /// Runs `body` with `name` appended to the key prefix (`layer1` → `layer1.0` → ...).
    public func scoped<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        prefix.append(name)
        defer { prefix.removeLast() }
        return try body()
    }

    private func key(_ local: String) -> String {
        let k = (prefix + [local]).joined(separator: ".")
        precondition(!names.contains(k), "duplicate state-dict key \(k)")
        precondition(!isFinalized, "ParameterStore: \(k) added after finalize()")
        names.insert(k)
        return k
    }

    /// Declares a trainable tensor under the current prefix.
    public func weight(_ local: String, shape: [Int], layout: ParameterLayout = .plain, initializer: Initializer) -> Parameter {
        let p = Parameter(name: key(local), shape: shape, layout: layout, role: .trainable,
                          initializer: initializer, index: parameters.count + buffers.count)
        p.offset = parameterCount
        parameterCount += p.count
        parameters.append(p)
        return p
    }

    /// Declares a non-trained float tensor (running statistics).
    public func buffer(_ local: String, shape: [Int], initializer: Initializer) -> Parameter {
        let p = Parameter(name: key(local), shape: shape, layout: .plain, role: .buffer,
                          initializer: initializer, index: parameters.count + buffers.count)
        p.offset = bufferCount
        bufferCount += p.count
        buffers.append(p)
        return p
    }

    /// Declares an int64 counter.
    public func counter(_ local: String) -> Counter {
        let c = Counter(name: key(local))
        counters.append(c)
        return c
    }

    /// Allocates the flat buffers and binds every view. Call once, after building.
    public func finalize() {
        precondition(!isFinalized, "ParameterStore.finalize() called twice")
        isFinalized = true
        values = .allocate(capacity: max(parameterCount, 1))
        grads = .allocate(capacity: max(parameterCount, 1))
        values!.update(repeating: 0, count: parameterCount)
        grads!.update(repeating: 0, count: parameterCount)
        bufferStorage = .allocate(capacity: max(bufferCount, 1))
        bufferStorage!.update(repeating: 0, count: bufferCount)
        for p in parameters { p.value = values! + p.offset; p.grad = grads! + p.offset }
        for b in buffers { b.value = bufferStorage! + b.offset }
    }

    /// Draws every tensor from its initializer; element `j` of tensor `index` uses draw `j` of
    /// stream (seed, .initialisation, index), so values do not depend on build or thread order.
    public func initialize(seed: UInt64) {
        precondition(isFinalized, "ParameterStore.initialize before finalize")
        for p in parameters + buffers {
            let rng = Philox(seed: seed, purpose: .initialisation, index: UInt64(p.index))
            let v = p.value!
            switch p.initializer {
            case .zeros: v.update(repeating: 0, count: p.count)
            case .ones: v.update(repeating: 1, count: p.count)
            case let .constant(c): v.update(repeating: c, count: p.count)
            case let .kaimingNormalFanOut(fanOut):
                let std = (2.0 / Double(fanOut)).squareRoot()
                for j in 0..<p.count { v[j] = Float(rng.normal(UInt64(j)) * std) }
            case let .uniform(bound):
                for j in 0..<p.count { v[j] = Float((rng.uniform(UInt64(j)) * 2 - 1) * Double(bound)) }
            case let .normal(std):
                for j in 0..<p.count { v[j] = Float(rng.normal(UInt64(j)) * Double(std)) }
            case let .truncatedNormal(std, low, high):
                let s = Double(std), (l, u) = (InverseErf.normalCDF(Double(low) / s), InverseErf.normalCDF(Double(high) / s))
                for j in 0..<p.count {
                    let t = (2 * l - 1) + rng.uniform(UInt64(j)) * (2 * u - 2 * l)
                    v[j] = Float(min(Double(high), max(Double(low), InverseErf.value(t) * s * 2.0.squareRoot())))
                }
            }
        }
        for c in counters { c.value = 0 }
    }

    /// Sets every gradient to zero (one fill).
    public func zeroGrad() { grads?.update(repeating: 0, count: parameterCount) }

    /// Every float tensor of the state dict (trainable and buffers), in creation order.
    public var floatEntries: [Parameter] { (parameters + buffers).sorted { $0.index < $1.index } }

    /// Looks up a tensor by state-dict key.
    public func entry(_ name: String) -> Parameter? { floatEntries.first { $0.name == name } }

    /// Number of trainable scalars.
    public var trainableCount: Int { parameterCount }
}
