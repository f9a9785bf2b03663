import Engine

/// A network built from a `ModelSpec`: its parameter store (PyTorch state-dict keys) and its
/// root layer. Input NHWC `(N, H, W, inChannels)`, output logits `(N, classes)`.
public final class Model {
    public let spec: ModelSpec
    public let classes: Int
    public let inChannels: Int
    public let store: ParameterStore
    let net: StagedNetwork

    /// The engine settings every layer runs with (threads, conv tuning, MAC counter).
    public var context: EngineContext { store.context }

    /// Builds the network (parameters declared and allocated, not yet initialised).
    /// - Parameter context: the engine settings of its layers (default: 1 thread, `ConvAlgorithm.standard`).
    /// - Throws: `SpecError` for a backbone that is not implemented or options that do not fit it.
    public init(spec: ModelSpec, classes: Int, inChannels: Int = 3, context: EngineContext = EngineContext()) throws {
        guard classes >= 1, inChannels >= 1 else {
            throw SpecError(spec: spec.description, problem: "classes (\(classes)) and in_channels (\(inChannels)) must be ≥ 1")
        }
        if let d = spec.detector {
            throw SpecError(spec: spec.description, problem: "a \(d.rawValue) detector is not a classifier; give its backbone (\(spec.classifierSpec)) to a classification command, or use a detection suite (coco)")
        }
        self.spec = spec; self.classes = classes; self.inChannels = inChannels
        let s = ParameterStore(context: context)
        let family = BackboneFamily(spec.backbone)
        let prefix = spec.rkan == nil ? nil : family.rkanPrefix
        func inBackbone<T>(_ body: () throws -> T) rethrows -> T {
            if let prefix { return try s.scoped(prefix, body) }
            return try body()
        }
        let backbone = try inBackbone { try family.build(s, spec: spec, classes: classes, inChannels: inChannels) }
        net = StagedNetwork(backbone, rkan: try RKANBlock.blocks(s, spec: spec, family: family, stages: backbone.stages), context: context)
        s.finalize()
        store = s
    }

    /// Parses `text` and builds the model.
    public convenience init(_ text: String, classes: Int, inChannels: Int = 3, context: EngineContext = EngineContext()) throws {
        try self.init(spec: ModelSpec(parsing: text), classes: classes, inChannels: inChannels, context: context)
    }

    /// Initialises every tensor torchvision's way from the counter-based RNG, then writes the
    /// constant buffers (the rbf / b_spline KAN grids).
    public func initialize(seed: UInt64) {
        store.initialize(seed: seed)
        for (p, v) in net.constants { p.setTorchValues(v) }
        for k in net.splineFits { k.fitSplineNoise() }
    }

    /// Logits for a batch; `.train` caches what `backward` needs.
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        guard x.rank == 4, x.shape[3] == inChannels else {
            throw EngineError.shapeMismatch(op: "Model(\(spec))", detail: "input \(shapeString(x.shape)) is not NHWC with \(inChannels) channels")
        }
        return try context.run { try net.forward(x, mode: mode) }
    }

    /// Backpropagates dL/dlogits, adding every parameter's gradient into the store.
    public func backward(_ dlogits: Tensor) { context.run { _ = net.backward(dlogits) } }

    /// Trainable scalars (PyTorch's `sum(p.numel() for p in model.parameters())` over used modules).
    public var parameterCount: Int { store.parameterCount }
}
