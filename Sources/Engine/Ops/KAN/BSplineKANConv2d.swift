/// B-splines of order k on a knot row t_0..t_{M−1} (Cox–de Boor, as the reference's KANLinear):
///     B_j,0 = [t_j ≤ v < t_{j+1}]
///     B_j,k = (v − t_j)/(t_{j+k} − t_j) · B_j,k−1 + (t_{j+k+1} − v)/(t_{j+k+1} − t_{j+1}) · B_{j+1},k−1
/// with the slopes carried through the same recursion (forward-mode), M − 1 − k functions.
struct BSplineBasis: PatchBasis {
    /// (K, M) knots, one row per tap.
    let knots: UnsafePointer<Float>
    let knotCount: Int
    let order: Int
    var count: Int { knotCount - 1 - order }
    var scratchCount: Int { 2 * (knotCount - 1) }

    @inline(__always)
    func evaluate(_ v: Float, tap: Int, _ value: UnsafeMutablePointer<Float>, _ slope: UnsafeMutablePointer<Float>?,
                  _ scratch: UnsafeMutablePointer<Float>) {
        let t = knots + tap * knotCount, m = knotCount - 1
        let b = scratch, d = scratch + m
        for j in 0..<m { b[j] = v >= t[j] && v < t[j + 1] ? 1 : 0; d[j] = 0 }
        if order >= 1 {
            for k in 1...order {
                for j in 0..<(m - k) {   // ascending j: b[j + 1] is read before it is overwritten
                    let dl = t[j + k] - t[j], dr = t[j + k + 1] - t[j + 1]
                    let l = (v - t[j]) / dl, r = (t[j + k + 1] - v) / dr
                    let nd = b[j] / dl + l * d[j] - b[j + 1] / dr + r * d[j + 1]
                    b[j] = l * b[j] + r * b[j + 1]
                    d[j] = nd
                }
            }
        }
        for j in 0..<count { value[j] = b[j] }
        if let slope { for j in 0..<count { slope[j] = d[j] } }
    }
}

/// `kan=b_spline`: the reference's KANLinear(k·k → 1) (grid [−1, 1] with G = `grid_size` intervals,
/// 3 or 2 in an RKAN block (`BackboneFamily.kanGridSizes`), order
/// `order`, `skip_activation`, standalone spline scaler):
///
///     y = p · base_weight + B(p) · (spline_weight · spline_scaler)      per k×k patch p
///
/// Keys under `name`: `base_weight` (1, K), `spline_weight` (1, K, G+order), `spline_scaler` (1, K),
/// buffer `grid` (K, G+2·order+1). thop counts nothing of it (a custom module with no nn.Linear).
public final class BSplineKANConv2d: Layer {
    public let kernel, stride, padding, gridSize, order: Int
    public let baseWeight: Parameter, splineWeight: Parameter, splineScaler: Parameter, grid: Parameter
    private let coef: UnsafeMutablePointer<Float>   // (K, G+order): spline_weight · spline_scaler
    private var cache: (x: Tensor, g: KANConvGeometry)?

    public init(_ s: ParameterStore, name: String, kernel: Int = 3, stride: Int, padding: Int = 1, gridSize: Int, order: Int = 3) {
        precondition(gridSize >= 1 && order >= 0 && kernel > 0 && stride > 0, "BSplineKANConv2d \(name): grid \(gridSize), order \(order)")
        (self.kernel, self.stride, self.padding, self.gridSize, self.order) = (kernel, stride, padding, gridSize, order)
        let k2 = kernel * kernel, nb = gridSize + order
        let bound = 1 / Float(k2).squareRoot()
        (baseWeight, splineWeight, splineScaler, grid) = s.scoped(name) {
            (s.weight("base_weight", shape: [1, k2], initializer: .uniform(bound: bound)),
             s.weight("spline_weight", shape: [1, k2, nb], initializer: .uniform(bound: 0.05 / Float(gridSize))),
             s.weight("spline_scaler", shape: [1, k2], initializer: .uniform(bound: bound)),
             s.buffer("grid", shape: [k2, gridSize + 2 * order + 1], initializer: .zeros))
        }
        coef = .allocate(capacity: k2 * nb)
    }

    deinit { coef.deallocate() }

    /// Knots (j − order)·h − 1 for j = 0 … G+2·order, h = 2/G, the same row for every tap (float32 as torch).
    public var gridValues: [Float] {
        let h = Float(2.0 / Double(gridSize))
        let row = (0...(gridSize + 2 * order)).map { Float($0 - order) * h + Float(-1) }
        return Array((0..<(kernel * kernel)).map { _ in row }.joined())
    }

    /// Replaces each tap's drawn spline row by the reference's initial coefficients: its first G+1
    /// values (drawn U(±0.05/G), the reference's noise) fitted at the knots (`BSplineNoiseFit`).
    /// `Model.initialize` calls it after the store's draws.
    public func fitSplineNoise() {
        let nb = gridSize + order
        for i in 0..<(kernel * kernel) {
            let row = splineWeight.value + i * nb
            let noise = (0...gridSize).map { Double(row[$0]) }
            for (q, w) in BSplineNoiseFit.coefficients(noise: noise, gridSize: gridSize, order: order).enumerated() {
                row[q] = Float(w)
            }
        }
    }

    private var basis: BSplineBasis { BSplineBasis(knots: grid.value, knotCount: gridSize + 2 * order + 1, order: order) }

    private func updateCoefficients() {
        let (k2, nb) = (kernel * kernel, gridSize + order)
        for i in 0..<k2 { for q in 0..<nb { coef[i * nb + q] = splineWeight.value[i * nb + q] * splineScaler.value[i] } }
    }

    /// - Parameter x: (N, H, W, C).
    /// - Returns: (N, Ho, Wo, C).
    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let g = try KANConvGeometry(op: "BSplineKANConv2d", shape: x.shape, kernel: kernel, stride: stride, padding: padding)
        let y = Tensor(uninitialized: g.outputShape)
        updateCoefficients()
        patchKANForward(y.data, x.data, baseWeight.value, bias: 0, coef, basis, g)
        cache = mode == .train ? (x, g) : nil
        return y
    }

    /// dspline_weight[i,q] += dcoef[i,q]·scaler[i]; dspline_scaler[i] += Σ_q dcoef[i,q]·spline_weight[i,q].
    public func backward(_ dy: Tensor) -> Tensor {
        guard let (x, g) = cache else { preconditionFailure("BSplineKANConv2d.backward without a .train forward") }
        precondition(dy.shape == g.outputShape, "BSplineKANConv2d.backward: dy \(shapeString(dy.shape)), expected \(shapeString(g.outputShape))")
        cache = nil
        let (k2, nb) = (kernel * kernel, gridSize + order)
        updateCoefficients()
        let dcoef = UnsafeMutablePointer<Float>.allocate(capacity: k2 * nb)   // (K, G+order)
        defer { dcoef.deallocate() }
        dcoef.update(repeating: 0, count: k2 * nb)
        let dx = Tensor(uninitialized: x.shape)
        patchKANBackward(dx.data, baseWeight.grad, nil, dcoef, dy.data, x.data, baseWeight.value, coef, basis, g)
        for i in 0..<k2 {
            var ds: Float = 0
            for q in 0..<nb {
                splineWeight.grad[i * nb + q] += dcoef[i * nb + q] * splineScaler.value[i]
                ds += dcoef[i * nb + q] * splineWeight.value[i * nb + q]
            }
            splineScaler.grad[i] += ds
        }
        return dx
    }
}
