/// An optimizer updates the store's flat parameter buffer from its flat gradient buffer.
/// Its state is a set of flat buffers shaped like the parameters, saved per parameter key.
public protocol Optimizer: AnyObject {
    /// Applies one update with learning rate `lr` (PyTorch's rule for this optimizer).
    func step(lr: Float)
    /// Steps taken so far.
    var stepCount: Int64 { get set }
    /// Named state buffers (e.g. `momentum_buffer`), each `store.parameterCount` floats, or
    /// empty before the first step.
    var stateBuffers: [(name: String, values: UnsafeMutablePointer<Float>)] { get }
    /// Allocates state buffers (zeros) so they can be filled from a checkpoint.
    func allocateState()
}

extension Optimizer {
    /// State buffers split per parameter: key `<param>.<buffer>`, values in PyTorch order.
    public func perParameterState(_ store: ParameterStore) -> [(key: String, shape: [Int], values: [Float])] {
        var out: [(String, [Int], [Float])] = []
        for (bufName, buf) in stateBuffers {
            for p in store.parameters {
                let v = Array(UnsafeBufferPointer(start: buf + p.offset, count: p.count))
                let torch = p.layout == .convOHWI ? Parameter.ohwiToOihw(v, p.shape) : v
                out.append(("\(p.name).\(bufName)", p.shape, torch))
            }
        }
        return out
    }

    /// Restores state saved by `perParameterState`.
    /// - Throws: `EngineError.invalidArgument` when a key is missing or its size differs.
    public func restoreState(_ store: ParameterStore, _ entries: [String: [Float]]) throws {
        allocateState()
        for (bufName, buf) in stateBuffers {
            for p in store.parameters {
                let key = "\(p.name).\(bufName)"
                guard let v = entries[key], v.count == p.count else {
                    throw EngineError.invalidArgument(op: "Optimizer.restoreState", detail: "missing or mis-sized state \(key)")
                }
                let engine = p.layout == .convOHWI ? Parameter.oihwToOhwi(v, p.shape) : v
                engine.withUnsafeBufferPointer { (buf + p.offset).update(from: $0.baseAddress!, count: p.count) }
            }
        }
    }
}
