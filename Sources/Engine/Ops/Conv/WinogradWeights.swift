/// A 3×3 conv's weights in Winograd's transform domain, `U = G g Gᵀ` for every (o, c), made once
/// per layer call and read by the kernels of every batch shard.
///
/// U depends on the weights alone, so sharing it leaves each shard's bytes exactly as if the shard
/// had transformed them itself; it saves the transform per shard (with 8 shards, one transform per
/// shard costs 5–7 % of a ResNet step). `Conv2d` makes one for the forward and one (of the kernel
/// flipped) for the input gradient; `conv2dForward`/`conv2dBackward` without one transform per call.
public struct WinogradWeights {
    /// Which conv the weights serve.
    public enum Pass: Sendable {
        /// The conv itself: U of g, (α², O, C).
        case forward
        /// Its input gradient: U of g flipped in both spatial axes, (α², O, C).
        case inputGradient
    }

    /// (α², O, C) floats from `BufferPool` (planes ξ `Winograd.planeStride(O · C)` apart), valid
    /// until `release`.
    let values: UnsafeMutablePointer<Float>
    let count: Int
    /// The tile size m of F(m×m, 3×3) they were transformed for.
    let m: Int
    let pass: Pass
    /// With `WinogradGEMM.own`: each plane of U packed for `rkan_wino_gemm` (`Winograd.packPlanes`),
    /// planes `Winograd.planeStride(O · C)` apart; nil with OpenBLAS.
    let packed: UnsafeMutablePointer<Float>?

    /// Transforms `weight` (O, 3, 3, C) for `pass`; nil when `g` does not take a Winograd path
    /// under `tuning`'s algorithm (then the kernels need nothing prepared).
    public init?(_ weight: UnsafePointer<Float>, _ g: Conv2dGeometry, _ tuning: ConvTuning, pass: Pass) {
        guard let m = Winograd.tile(for: g, tuning.algorithm) else { return nil }
        self.init(weight, outChannels: g.outChannels, inChannels: g.inChannels, m: m, pass: pass, gemm: tuning.winogradGEMM)
    }

    /// Transforms `weight` (O, 3, 3, C) for tiles m×m and `pass` (and packs it for `gemm` `.own`).
    init(_ weight: UnsafePointer<Float>, outChannels O: Int, inChannels C: Int, m: Int, pass: Pass,
         gemm: WinogradGEMM) {
        (self.m, self.pass, count) = (m, pass, (m + 2) * (m + 2) * Winograd.planeStride(O * C))
        values = BufferPool.shared.take(count)
        Winograd.transformWeights(values, weight, outChannels: O, inChannels: C, m: m, flipped: pass == .inputGradient)
        packed = gemm == .own ? BufferPool.shared.take(count) : nil
        if let packed {
            Winograd.packPlanes(packed, values, planes: (m + 2) * (m + 2), outChannels: O, inChannels: C,
                                transposedWeights: pass == .forward)
        }
    }

    /// Returns the buffers to the pool; the value must not be used after.
    public func release() {
        BufferPool.shared.give(values, count)
        if let packed { BufferPool.shared.give(packed, count) }
    }

    /// Checks that the weights fit a kernel call of tile `m`, pass `pass` and GEMM `gemm`.
    func check(m: Int, pass: Pass, floats: Int, gemm: WinogradGEMM) {
        let packedFor: WinogradGEMM = packed == nil ? .openblas : .own
        precondition(self.m == m && self.pass == pass && count == floats && packedFor == gemm,
                     "WinogradWeights: prepared for F(\(self.m)×\(self.m)) \(self.pass) with \(count) floats for \(packedFor), used for F(\(m)×\(m)) \(pass) with \(floats) for \(gemm)")
    }
}
