import Foundation

/// Gaussian bumps on a grid: B_b(v) = exp(−((v − centre_b)/h)²), slope −2·(v − centre_b)/h² · B_b.
struct RBFBasis: PatchBasis {
    /// (G) centres.
    let centres: UnsafePointer<Float>
    let count: Int
    let denominator: Float
    var scratchCount: Int { 0 }

    @inline(__always)
    func evaluate(_ v: Float, tap: Int, _ value: UnsafeMutablePointer<Float>, _ slope: UnsafeMutablePointer<Float>?,
                  _ scratch: UnsafeMutablePointer<Float>) {
        for b in 0..<count {
            let d = (v - centres[b]) / denominator
            let e = Foundation.exp(-(d * d))
            value[b] = e
            slope?[b] = e * (-2 * d / denominator)
        }
    }
}

/// `kan=rbf`: the reference's FastKANLayer(k·k → 1) as KAN_Convolution builds it (grid [−1, 1] with
/// G = `grid_size` centres, 3 or 2 in an RKAN block (`BackboneFamily.kanGridSizes`), width h = 2/(G−1), `use_base_update`, `skip_activation`, no LayerNorm):
///
///     y = spline_linear(RBF(p)) + base_linear(p)      per k×k patch p of every channel
///
/// Keys under `name`: `rbf.grid` (G, a constant buffer: the reference's frozen parameter),
/// `spline_linear.weight` (1, K·G), `base_linear.weight` (1, K), `base_linear.bias` (1).
/// thop counts `base_linear` only (K + 1 parameters; K MACs per output element).
public final class RBFKANConv2d: Layer {
    public let kernel, stride, padding, grids: Int
    public let grid: Parameter, splineWeight: Parameter, baseWeight: Parameter, baseBias: Parameter
    public let denominator: Float
    private var cache: (x: Tensor, g: KANConvGeometry)?
    /// The MAC counter of the store's engine context.
    private let macs: MACCounter

    public init(_ s: ParameterStore, name: String, kernel: Int = 3, stride: Int, padding: Int = 1, grids: Int) {
        precondition(grids >= 2 && kernel > 0 && stride > 0, "RBFKANConv2d \(name): grids \(grids), kernel \(kernel), stride \(stride)")
        (self.kernel, self.stride, self.padding, self.grids) = (kernel, stride, padding, grids)
        macs = s.context.macs
        let k2 = kernel * kernel
        denominator = Float(2.0 / Double(grids - 1))
        let bound = 1 / Float(k2).squareRoot()
        (grid, splineWeight, baseWeight, baseBias) = s.scoped(name) {
            (s.scoped("rbf") { s.buffer("grid", shape: [grids], initializer: .zeros) },
             // SplineLinear.reset_parameters: trunc_normal_(std = spline_weight_init_scale = 1), bounds ±2.
             s.scoped("spline_linear") { s.weight("weight", shape: [1, k2 * grids], initializer: .truncatedNormal(std: 1, low: -2, high: 2)) },
             s.scoped("base_linear") { s.weight("weight", shape: [1, k2], initializer: .uniform(bound: bound)) },
             s.scoped("base_linear") { s.weight("bias", shape: [1], initializer: .uniform(bound: bound)) })
        }
    }

    /// torch.linspace(−1, 1, G).
    public var gridValues: [Float] { (0..<grids).map { Float(-1 + 2 * Double($0) / Double(grids - 1)) } }

    private var basis: RBFBasis { RBFBasis(centres: grid.value, count: grids, denominator: denominator) }

    /// - Parameter x: (N, H, W, C).
    /// - Returns: (N, Ho, Wo, C).
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let g = try KANConvGeometry(op: "RBFKANConv2d", shape: x.shape, kernel: kernel, stride: stride, padding: padding)
        let y = Tensor(uninitialized: g.outputShape)
        patchKANForward(y.data, x.data, baseWeight.value, bias: baseBias.value[0], splineWeight.value, basis, g)
        macs.add(y.count * g.taps)   // thop: base_linear, an nn.Linear(k·k → 1)
        cache = mode == .train ? (x, g) : nil
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let (x, g) = cache else { preconditionFailure("RBFKANConv2d.backward without a .train forward") }
        precondition(dy.shape == g.outputShape, "RBFKANConv2d.backward: dy \(shapeString(dy.shape)), expected \(shapeString(g.outputShape))")
        cache = nil
        let dx = Tensor(uninitialized: x.shape)
        patchKANBackward(dx.data, baseWeight.grad, baseBias.grad, splineWeight.grad, dy.data, x.data,
                         baseWeight.value, splineWeight.value, basis, g)
        return dx
    }
}
