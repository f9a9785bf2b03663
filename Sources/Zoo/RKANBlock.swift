import Engine

/// The RKAN block on one stage (docs/design.md; fe63108:residual_networks/RKAN_ResNet.py `forward`):
///
///     r = SiLU(conv_reduce.i(x))           C_in → M  (M = C_in/reduce, or C_in·inv for RKAN-L)
///     r = kan_bn.i(kan_conv1.i(r))         per-channel KAN conv 3×3 of degree `degree`, stride of the stage
///     r = SiLU(conv_expand.i(r))           M → C_out
///     r = kan_conv2.i(r)                   only on stage 4 (`if i == len(self.mechanisms) - 1`), degree `degree2`
///     r = kan_expand_bn.i(r)
///     out = stage(x) + r                   mech=addition
///     out = stage(x)·g + r·(1−g)           mech=gating, g = σ(gate_convs.i(r))
///     out = stage(x) + r·s                 mech=se, s = σ(conv(ReLU(conv(GAP(r)))))  (`se_blocks.i.1/.3`)
///
/// The convolutions use PyTorch's default init, kaiming_uniform(a=√5) = U(±1/√fan_in) (the reference
/// creates them in its own `__init__`, outside torchvision's init loop); the BNs start at (1, 0).
/// `kan=rbf` / `kan=b_spline` swap the KAN convolutions (RBFKANConv2d, BSplineKANConv2d), with the
/// reference's grid sizes (`BackboneFamily.kanGridSizes`: 3 and 2, or 3 and 3 for SE-ResNet and
/// ResNet-D).
final class RKANBlock {
    let convReduce: Conv2d, silu1 = SiLU()
    let kan1: Layer, kanBN: BatchNorm2d
    let convExpand: Conv2d, silu2 = SiLU()
    let kan2: Layer?
    let expandBN: BatchNorm2d
    let mech: RKANOptions.Mechanism
    // gating: gate = σ(gate_convs.i(r)); out = h·gate + r·(1−gate)
    let gateConv: Conv2d?
    // se: s = σ(conv(ReLU(conv(GAP(r))))); out = h + r·s
    let seReduce: Conv2d?, seExpand: Conv2d?
    let sePool: GlobalAvgPool, seReLU = ReLU(), seSigmoid = Sigmoid()

    /// Constant buffers (the rbf / b_spline KAN grids) and their values, set by `Model.initialize`.
    let constants: [(Parameter, [Float])]
    /// The b_spline KAN convolutions, whose spline rows `Model.initialize` fits after the draws.
    let splineFits: [BSplineKANConv2d]

    // Caches for backward.
    private var h: Tensor?, r: Tensor?, gate: Tensor?, seScale: Tensor?

    init(_ s: ParameterStore, index i: Int, inChannels cin: Int, outChannels cout: Int, stride: Int,
         options o: RKANOptions, withKANConv2: Bool, seBias: Bool, grids: (Int, Int), spec: ModelSpec) throws {
        sePool = GlobalAvgPool(macs: s.context.macs)
        let m = o.inv.map { cin * $0 } ?? cin / o.reduce
        guard m >= 1, o.inv != nil || cin % o.reduce == 0 else {
            throw SpecError(spec: spec.description, problem: "reduce=\(o.reduce) does not divide the \(cin) input channels of stage \(i + 1)")
        }
        var constants: [(Parameter, [Float])] = []
        var splineFits: [BSplineKANConv2d] = []
        func kanConv(_ name: String, stride: Int, degree: Int, grid: Int) -> Layer {
            switch o.kan {
            case .chebyshev:
                return ChebyshevKANConv2d(store: s, name: name, kernel: 3, stride: stride, padding: 1, degree: degree)
            case .rbf:
                let k = RBFKANConv2d(s, name: name, stride: stride, grids: grid)
                constants.append((k.grid, k.gridValues))
                return k
            case .b_spline:
                let k = BSplineKANConv2d(s, name: name, stride: stride, gridSize: grid, order: degree)
                constants.append((k.grid, k.gridValues))
                splineFits.append(k)
                return k
            }
        }
        convReduce = Conv2d(store: s, name: "conv_reduce.\(i)", inChannels: cin, outChannels: m, kernel: 1, weightInit: pytorchDefaultInit(cin))
        kan1 = kanConv("kan_conv1.\(i).convs.0.conv", stride: stride, degree: o.degree, grid: grids.0)
        kanBN = BatchNorm2d(store: s, name: "kan_bn.\(i)", channels: m)
        convExpand = Conv2d(store: s, name: "conv_expand.\(i)", inChannels: m, outChannels: cout, kernel: 1, weightInit: pytorchDefaultInit(m))
        kan2 = withKANConv2 ? kanConv("kan_conv2.\(i).convs.0.conv", stride: 1, degree: o.degree2, grid: grids.1) : nil
        expandBN = BatchNorm2d(store: s, name: "kan_expand_bn.\(i)", channels: cout)
        mech = o.mech
        self.constants = constants
        self.splineFits = splineFits
        gateConv = o.mech == .gating
            ? Conv2d(store: s, name: "gate_convs.\(i)", inChannels: cout, outChannels: cout, kernel: 1, bias: true, weightInit: pytorchDefaultInit(cout))
            : nil
        if o.mech == .se {
            let hidden = max(cout / 16, 1)
            seReduce = Conv2d(store: s, name: "se_blocks.\(i).1", inChannels: cout, outChannels: hidden, kernel: 1, bias: seBias, weightInit: pytorchDefaultInit(cout))
            seExpand = Conv2d(store: s, name: "se_blocks.\(i).3", inChannels: hidden, outChannels: cout, kernel: 1, bias: seBias, weightInit: pytorchDefaultInit(hidden))
        } else {
            seReduce = nil; seExpand = nil
        }
    }

    /// The residual branch r(x).
    private func branch(_ x: Tensor, mode: Mode) throws -> Tensor {
        var r = try silu1.forward(convReduce.forward(x, mode: mode), mode: mode)
        r = try kanBN.forward(kan1.forward(r, mode: mode), mode: mode)
        r = try silu2.forward(convExpand.forward(r, mode: mode), mode: mode)
        if let kan2 { r = try kan2.forward(r, mode: mode) }
        return try expandBN.forward(r, mode: mode)
    }

    private func branchBackward(_ dr: Tensor) -> Tensor {
        var d = expandBN.backward(dr)
        if let kan2 { d = kan2.backward(d) }
        d = convExpand.backward(silu2.backward(d))
        d = kan1.backward(kanBN.backward(d))
        return convReduce.backward(silu1.backward(d))
    }

    /// Combines the stage's output `h` with the residual branch on the stage's input `x`.
    func combine(stageOutput h: Tensor, stageInput x: Tensor, mode: Mode) throws -> Tensor {
        let r = try branch(x, mode: mode)
        guard r.shape == h.shape else {
            throw EngineError.shapeMismatch(op: "RKANBlock", detail: "residual \(shapeString(r.shape)) vs stage output \(shapeString(h.shape))")
        }
        let out = Tensor(uninitialized: h.shape)
        let n = h.count
        switch mech {
        case .addition:
            return try addForward(h, r)
        case .gating:
            let g = try Sigmoid().forward(gateConv!.forward(r, mode: mode), mode: .eval)
            let (hp, rp, gp, op) = (h.data, r.data, g.data, out.data)
            Parallel.forEachChunk(count: n, chunk: Parallel.elementChunk(n)) { rg in
                for j in rg { op[j] = hp[j] * gp[j] + rp[j] * (1 - gp[j]) }
            }
            if mode == .train { self.h = h; self.r = r; gate = g }
            return out
        case .se:
            let pooled = try sePool.forward(r, mode: mode)
            let c = pooled.shape[1]
            let z = try seExpand!.forward(seReLU.forward(seReduce!.forward(pooled.reshaped([pooled.shape[0], 1, 1, c]), mode: mode), mode: mode), mode: mode)
            let sc = try seSigmoid.forward(z, mode: mode).reshaped([pooled.shape[0], c])
            let rs = try channelMulForward(r, sc)
            if mode == .train { self.r = r; seScale = sc }
            return try addForward(h, rs)
        }
    }

    /// Backward of `combine`: returns (d stage output, d stage input from the residual branch).
    func backward(_ d: Tensor) -> (Tensor, Tensor) {
        switch mech {
        case .addition:
            return (d, branchBackward(d))
        case .gating:
            let (h, r, g) = (self.h!, self.r!, gate!)
            self.h = nil; self.r = nil; gate = nil
            let dh = Tensor(uninitialized: d.shape), dr = Tensor(uninitialized: d.shape), dz = Tensor(uninitialized: d.shape)
            let n = d.count
            let (dp, hp, rp, gp, dhp, drp, dzp) = (d.data, h.data, r.data, g.data, dh.data, dr.data, dz.data)
            Parallel.forEachChunk(count: n, chunk: Parallel.elementChunk(n)) { rg in
                for j in rg {
                    dhp[j] = dp[j] * gp[j]
                    drp[j] = dp[j] * (1 - gp[j])
                    dzp[j] = dp[j] * (hp[j] - rp[j]) * gp[j] * (1 - gp[j])
                }
            }
            accumulate(into: dr, gateConv!.backward(dz))
            return (dh, branchBackward(dr))
        case .se:
            let (r, sc) = (self.r!, seScale!)
            self.r = nil; seScale = nil
            let (dr, ds) = channelMulBackward(dy: d, x: r, s: sc)      // through r·s
            let n = sc.shape[0], c = sc.shape[1]
            var g = seSigmoid.backward(ds.reshaped([n, 1, 1, c]))
            g = seReduce!.backward(seReLU.backward(seExpand!.backward(g)))
            accumulate(into: dr, sePool.backward(g.reshaped([n, c])))  // s depends on r through GAP
            return (d, branchBackward(dr))
        }
    }
}

extension RKANBlock {
    /// One RKAN block per stage of `spec.rkan.stages` (nil elsewhere), declared at the store's
    /// top level (`conv_reduce.i`, ...), with `kan_conv2` on stage 4 only: the reference applies it
    /// `if i == len(self.mechanisms) - 1` (fe63108:residual_networks/RKAN_ResNet.py and every other
    /// RKAN class), so `stages=3` alone has no kan_conv2.
    /// - Throws: `SpecError` when `reduce` does not divide a stage's input channels, or for
    ///   `mech=gating` on a backbone whose reference class has no `gate_convs`.
    static func blocks(_ s: ParameterStore, spec: ModelSpec, family: BackboneFamily, stages: [BackboneStage]) throws -> [RKANBlock?] {
        var blocks: [RKANBlock?] = Array(repeating: nil, count: stages.count)
        guard let r = spec.rkan else { return blocks }
        if r.mech == .gating && !family.hasGating {
            throw SpecError(spec: spec.description, problem: "mech=gating is not available for \(spec.backbone.rawValue): its reference class has no gate_convs (use mech=addition or mech=se)")
        }
        for st in r.stages {
            let i = st - 1, stage = stages[i]
            blocks[i] = try RKANBlock(s, index: i, inChannels: stage.inChannels, outChannels: stage.outChannels,
                                      stride: stage.stride, options: r, withKANConv2: st == stages.count, seBias: family.seBlockBias,
                                      grids: family.kanGridSizes, spec: spec)
        }
        return blocks
    }
}
