/// Philox4x32-10, the counter-based generator of Salmon et al. (SC'11), as used by
/// JAX/cuRAND/PyTorch-CUDA. Output depends only on (key, counter): draw `i` of a stream is the
/// same whatever was drawn before, on any thread, after any restart.
public struct Philox: Sendable {
    public let key: (UInt32, UInt32)
    /// Upper 64 bits of the counter: identifies a stream within the key.
    public let stream: UInt64

    public init(seed: UInt64, stream: UInt64) {
        self.key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        self.stream = stream
    }

    /// Stream for a (seed, purpose, index) triple: the engine's one source of randomness.
    public init(seed: UInt64, purpose: RandomPurpose, index: UInt64 = 0) {
        self.init(seed: seed, stream: (purpose.rawValue << 56) ^ (index & 0x00FF_FFFF_FFFF_FFFF))
    }

    @inline(__always)
    @usableFromInline static func mulhilo(_ a: UInt32, _ b: UInt32) -> (hi: UInt32, lo: UInt32) {
        let p = UInt64(a) &* UInt64(b)
        return (UInt32(truncatingIfNeeded: p >> 32), UInt32(truncatingIfNeeded: p))
    }

    /// The four 32-bit words of block `index`.
    @inlinable
    public func block(_ index: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: index), c1 = UInt32(truncatingIfNeeded: index >> 32)
        var c2 = UInt32(truncatingIfNeeded: stream), c3 = UInt32(truncatingIfNeeded: stream >> 32)
        var k0 = key.0, k1 = key.1
        for _ in 0..<10 {
            let (hi0, lo0) = Philox.mulhilo(0xD251_1F53, c0)
            let (hi1, lo1) = Philox.mulhilo(0xCD9E_8D57, c2)
            let n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0
            c0 = n0; c1 = n1; c2 = n2; c3 = n3
            k0 &+= 0x9E37_79B9; k1 &+= 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }

    /// 32 random bits number `i` of the stream.
    @inlinable
    public func bits(_ i: UInt64) -> UInt32 {
        let b = block(i >> 2)
        switch i & 3 { case 0: return b.0; case 1: return b.1; case 2: return b.2; default: return b.3 }
    }

    /// Uniform double in [0, 1) from draw `i` (53 bits from two words of block `i`).
    @inlinable
    public func uniform(_ i: UInt64) -> Double {
        let b = block(i)
        let v = (UInt64(b.0) << 21) ^ UInt64(b.1 >> 11)
        return Double(v & ((1 << 53) - 1)) * 0x1p-53
    }

    /// Standard normal from draw `i` (Box–Muller on two words of block `i`).
    @inlinable
    public func normal(_ i: UInt64) -> Double {
        let b = block(i)
        let u1 = (Double(b.0) + 1) * 0x1p-32          // (0, 1]
        let u2 = Double(b.1) * 0x1p-32                // [0, 1)
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// Uniform integer in `0..<n` from draw `i` (Lemire's multiply, bias < 2^-32·n).
    @inlinable
    public func below(_ n: Int, _ i: UInt64) -> Int {
        let b = block(i)
        let x = (UInt64(b.0) << 32) | UInt64(b.1)
        return Int(x.multipliedFullWidth(by: UInt64(n)).high)
    }

    /// A permutation of `0..<n` (Fisher–Yates with draws `0..<n-1` of the stream).
    public func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for j in stride(from: n - 1, to: 0, by: -1) {
            let k = below(j + 1, UInt64(j))
            p.swapAt(j, k)
        }
        return p
    }
}

/// What a random stream is used for; part of its key so that streams never overlap.
public enum RandomPurpose: UInt64, Sendable {
    case initialisation = 1, shuffle = 2, augment = 3, mix = 4, subset = 5, benchmark = 6, test = 7
    /// A detector's anchor and proposal sampling.
    case sample = 8
}

import Foundation
@usableFromInline func _log(_ x: Double) -> Double { Foundation.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Foundation.cos(x) }
