// SIMD helpers for the hot loops: partial-lane loads/stores and a vectorised tanh (scalar libm
// tanhf costs ~15 ns an element and dominated the KAN convolution). Plain arithmetic only (no
// FMA contraction, no lookup), so results are the same bytes on every run and thread count.

/// Loads `lanes` (1...V.scalarCount) floats, zero-filling the rest.
@inline(__always)
func loadLanes<V: SIMD>(_ p: UnsafePointer<Float>, _ lanes: Int, as: V.Type = V.self) -> V where V.Scalar == Float {
    if lanes == V.scalarCount { return UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    var v = V()
    for l in 0..<lanes { v[l] = p[l] }
    return v
}

/// Stores the first `lanes` (1...V.scalarCount) floats of `v`.
@inline(__always)
func storeLanes<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) where V.Scalar == Float {
    if lanes == V.scalarCount { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self); return }
    for l in 0..<lanes { p[l] = v[l] }
}

/// Vector type of the KAN conv loops over channels: 16 lanes amortise the per-term coefficient
/// broadcast and loop overhead (4 SSE registers per value).
typealias KANVec = SIMD16<Float>

/// e^x for x in [−87, 88], max relative error ≈ 2 ulp: x = n·ln2 + r with |r| ≤ ln2/2,
/// e^r by the degree-7 minimax polynomial of Cephes' expf, 2^n assembled in the exponent bits.
@inline(__always)
func vectorExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let magic = SIMD8<Float>(repeating: 12_582_912)          // 1.5·2^23: adding it rounds to an integer
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic
    var r = x - n * 0.693_359_375                               // ln 2 split in two for accuracy
    r = r - n * -2.121_944_4e-4
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * (r * r) + r + 1
    // The low mantissa bits of `shifted` hold n; 2^n has exponent field n + 127.
    let nBits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: SIMD8<Float>.self)
    return p * scale
}

/// tanh(x), max relative error ≈ 3 ulp. |x| < 0.625: odd polynomial (Cephes tanhf);
/// otherwise sign(x)·(1 − 2/(e^{2|x|} + 1)), with |x| clamped to 9 where tanh rounds to ±1;
/// tanh(NaN) is NaN.
@inline(__always)
func vectorTanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
    let sign = bits & 0x8000_0000
    let a = unsafeBitCast(bits & 0x7FFF_FFFF, to: SIMD8<Float>.self)
    let e = vectorExp(2 * pointwiseMin(a, SIMD8<Float>(repeating: 9)))
    let large = 1 - 2 / (e + 1)
    let signedLarge = unsafeBitCast(unsafeBitCast(large, to: SIMD8<UInt32>.self) | sign, to: SIMD8<Float>.self)
    let z = x * x
    var p = SIMD8<Float>(repeating: -5.704_988_727_45e-3)
    p = p * z + 2.063_908_879_54e-2
    p = p * z - 5.373_971_555_31e-2
    p = p * z + 1.333_144_220_36e-1
    p = p * z - 3.333_328_194_22e-1
    let small = p * z * x + x
    // NaN takes the polynomial branch, which propagates it (the clamp above would turn it into ±1).
    return signedLarge.replacing(with: small, where: (a .< 0.625) .| (x .!= x))
}
