import XCTest

/// Central finite differences of a scalar function in Double.
/// - Parameters:
///   - x: point at which to differentiate.
///   - eps: step.
///   - f: the scalar loss as a function of `x`.
/// - Returns: dF/dx_i for every i.
public func numericalGradient(_ x: [Double], eps: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
    var g = [Double](repeating: 0, count: x.count)
    var xp = x
    for i in 0..<x.count {
        let old = xp[i]
        xp[i] = old + eps; let fp = f(xp)
        xp[i] = old - eps; let fm = f(xp)
        xp[i] = old
        g[i] = (fp - fm) / (2 * eps)
    }
    return g
}

/// Deterministic pseudo-random doubles in [-1, 1) for test inputs (splitmix64).
public func testValues(_ n: Int, seed: UInt64) -> [Double] {
    var s = seed &+ 0x9E37_79B9_7F4A_7C15
    return (0..<n).map { _ in
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) * 0x1p-53 * 2 - 1
    }
}
