/// Stochastic gradient descent with PyTorch's exact update (torch.optim.SGD, dampening 0):
///
///     g = grad + wd·p
///     buf = g                      (first step)
///     buf = μ·buf + g              (later steps)
///     g = g + μ·buf   (Nesterov)   or   g = buf
///     p = p − lr·g
public final class SGD: Optimizer {
    public let store: ParameterStore
    public let momentum: Float
    public let nesterov: Bool
    public let weightDecay: Float
    public var stepCount: Int64 = 0
    private var buf: UnsafeMutablePointer<Float>?   // (parameterCount) momentum buffer

    /// - Throws: `EngineError.invalidArgument` for a negative momentum or weight decay, or
    ///   Nesterov without momentum (PyTorch's checks).
    public init(store: ParameterStore, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) throws {
        guard momentum >= 0 else { throw EngineError.invalidArgument(op: "SGD", detail: "invalid momentum \(momentum)") }
        guard weightDecay >= 0 else { throw EngineError.invalidArgument(op: "SGD", detail: "invalid weight_decay \(weightDecay)") }
        guard !nesterov || momentum > 0 else { throw EngineError.invalidArgument(op: "SGD", detail: "Nesterov momentum requires a momentum > 0") }
        self.store = store; self.momentum = momentum; self.nesterov = nesterov; self.weightDecay = weightDecay
    }

    deinit { buf?.deallocate() }

    public var stateBuffers: [(name: String, values: UnsafeMutablePointer<Float>)] {
        buf.map { [("momentum_buffer", $0)] } ?? []
    }

    public func allocateState() {
        if buf == nil && momentum != 0 {
            buf = .allocate(capacity: max(store.parameterCount, 1))
            buf!.update(repeating: 0, count: store.parameterCount)
        }
    }

    public func step(lr: Float) {
        let n = store.parameterCount
        guard let p = store.values, let g = store.grads else { return }
        let first = buf == nil
        allocateState()
        let (mu, wd, nest) = (momentum, weightDecay, nesterov)
        let b = buf
        store.context.run {
            Parallel.forEachChunk(count: n, chunk: Parallel.elementChunk(n)) { r in
                for i in r {
                    var d = g[i]
                    if wd != 0 { d += wd * p[i] }
                    if let b {
                        let v = first ? d : mu * b[i] + d
                        b[i] = v
                        d = nest ? d + mu * v : v
                    }
                    p[i] -= lr * d
                }
            }
        }
        stepCount += 1
    }
}
