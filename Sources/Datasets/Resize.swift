/// Image resizing with PyTorch's `interpolate(..., align_corners=False, antialias=False)`
/// semantics (what torchvision's `Resize(antialias=False)` does on tensors).
///
/// Source coordinate of output pixel `d`: `s = scale · (d + 0.5) − 0.5`, `scale = in / out`
/// (float32). Bilinear clamps `s` at 0 and uses the two neighbours `⌊s⌋`, `min(⌊s⌋+1, in−1)`;
/// bicubic uses the Keys kernel with a = −0.75 on `⌊s⌋−1 … ⌊s⌋+2`, indices clamped to the image.
/// Arithmetic follows PyTorch's CPU kernel (float32, inner sum over columns, then over rows) so
/// that values agree to rounding (PyTorch itself picks a vectorised or a generic kernel by size
/// and thread count, which sum in different orders, so exact `x.5` ties may round either way).
/// The `UInt8` entry point rounds half to even and clamps to
/// 0…255, as torchvision does for uint8 tensors.
public enum Interpolation: String, Sendable, Codable {
    case bilinear, bicubic

    /// Taps per axis.
    public var taps: Int { self == .bilinear ? 2 : 4 }
}

/// Precomputed source indices and weights for one (input size → output size) resize, built once
/// and reused for every image of that size.
public struct ResizePlan: Sendable {
    public let interpolation: Interpolation
    public let inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int
    /// `(outHeight, taps)` source rows and their weights.
    let rowIndex: [Int], rowWeight: [Float]
    /// `(outWidth, taps)` source columns and their weights.
    let colIndex: [Int], colWeight: [Float]

    public init(_ interpolation: Interpolation, inHeight: Int, inWidth: Int, outHeight: Int, outWidth: Int) {
        precondition(inHeight > 0 && inWidth > 0 && outHeight > 0 && outWidth > 0,
                     "resize \(inHeight)×\(inWidth) → \(outHeight)×\(outWidth)")
        self.interpolation = interpolation
        self.inHeight = inHeight; self.inWidth = inWidth; self.outHeight = outHeight; self.outWidth = outWidth
        (rowIndex, rowWeight) = ResizePlan.axis(interpolation, input: inHeight, output: outHeight)
        (colIndex, colWeight) = ResizePlan.axis(interpolation, input: inWidth, output: outWidth)
    }

    /// Indices and weights along one axis, as PyTorch's `compute_indices_weights` computes them.
    static func axis(_ kind: Interpolation, input: Int, output: Int) -> ([Int], [Float]) {
        let taps = kind.taps
        var index = [Int](repeating: 0, count: output * taps), weight = [Float](repeating: 0, count: output * taps)
        let scale = Float(input) / Float(output)
        for d in 0..<output {
            var s = scale * (Float(d) + 0.5) - 0.5
            if kind == .bilinear && s < 0 { s = 0 }
            let i0 = min(Int(s.rounded(.down)), input - 1)
            let t = min(max(s - Float(i0), 0), 1)
            switch kind {
            case .bilinear:
                index[d * 2] = i0
                index[d * 2 + 1] = i0 + (i0 < input - 1 ? 1 : 0)
                weight[d * 2] = 1 - t
                weight[d * 2 + 1] = t
            case .bicubic:
                let w = cubicWeights(t)
                for j in 0..<4 {
                    index[d * 4 + j] = min(max(i0 - 1 + j, 0), input - 1)
                    weight[d * 4 + j] = w[j]
                }
            }
        }
        return (index, weight)
    }

    /// Keys cubic convolution weights (a = −0.75) for the taps at distances 1+t, t, 1−t, 2−t.
    static func cubicWeights(_ t: Float) -> [Float] {
        let a: Float = -0.75
        func near(_ x: Float) -> Float { ((a + 2) * x - (a + 3)) * x * x + 1 }          // |x| ≤ 1
        func far(_ x: Float) -> Float { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }    // 1 < |x| < 2
        let u = 1 - t
        return [far(t + 1), near(t), near(u), far(u + 1)]   // PyTorch's order of float ops
    }
}

extension ResizePlan {
    /// Resizes a float image in two passes: columns of every input row, then rows.
    ///
    /// PyTorch's generic kernel sums, per output pixel, `Σ_j w_row[j] · (Σ_m w_col[m] · x[row_j][col_m])`;
    /// the inner sums depend only on (input row, output column), so computing them once per pair
    /// gives the same float operations in the same order (bitwise equal to `applyReference`),
    /// with `taps` times less work.
    /// - Parameters:
    ///   - out: `(outHeight, outWidth, C)` floats.
    ///   - inp: `(inHeight, inWidth, C)` floats.
    ///   - scratch: `(inHeight, outWidth, C)` floats.
    public func apply(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, channels: Int,
                      scratch: UnsafeMutablePointer<Float>) {
        let taps = interpolation.taps, c = channels, rowLen = outWidth * c
        colIndex.withUnsafeBufferPointer { ci in colWeight.withUnsafeBufferPointer { cw in
            for r in 0..<inHeight {
                let src = inp + r * inWidth * c, dst = scratch + r * rowLen
                for ox in 0..<outWidth {
                    let idx = ci.baseAddress! + ox * taps, w = cw.baseAddress! + ox * taps
                    for k in 0..<c {
                        var inner = src[idx[0] * c + k] * w[0]
                        for m in 1..<taps { inner += src[idx[m] * c + k] * w[m] }
                        dst[ox * c + k] = inner
                    }
                }
            }
        } }
        rowIndex.withUnsafeBufferPointer { ri in rowWeight.withUnsafeBufferPointer { rw in
            for oy in 0..<outHeight {
                let dst = out + oy * rowLen
                let first = scratch + ri[oy * taps] * rowLen, w0 = rw[oy * taps]
                for e in 0..<rowLen { dst[e] = first[e] * w0 }
                for j in 1..<taps {
                    let row = scratch + ri[oy * taps + j] * rowLen, wj = rw[oy * taps + j]
                    for e in 0..<rowLen { dst[e] = dst[e] + row[e] * wj }
                }
            }
        } }
    }

    /// Floats of scratch the float `apply` needs.
    public func floatScratchCount(channels: Int) -> Int { inHeight * outWidth * channels }

    /// Resizes a float image, allocating its scratch (for tests and tools).
    public func apply(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, channels: Int) {
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(floatScratchCount(channels: channels), 1))
        defer { scratch.deallocate() }
        apply(out, inp, channels: channels, scratch: scratch)
    }

    /// Plain one-pass reference of `apply`: every output pixel sums its taps × taps window.
    public func applyReference(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, channels: Int) {
        let taps = interpolation.taps, c = channels
        for oy in 0..<outHeight {
            for ox in 0..<outWidth {
                for k in 0..<c {
                    var acc: Float = 0
                    for j in 0..<taps {
                        let row = inp + rowIndex[oy * taps + j] * inWidth * c + k
                        var inner = row[colIndex[ox * taps] * c] * colWeight[ox * taps]
                        for m in 1..<taps { inner += row[colIndex[ox * taps + m] * c] * colWeight[ox * taps + m] }
                        acc = j == 0 ? inner * rowWeight[oy * taps] : acc + inner * rowWeight[oy * taps + j]
                    }
                    out[(oy * outWidth + ox) * c + k] = acc
                }
            }
        }
    }

    /// Resizes an 8-bit image, rounding half to even and clamping to 0…255 (torchvision on uint8).
    /// - Parameters:
    ///   - out: `(outHeight, outWidth, C)` bytes.
    ///   - inp: `(inHeight, inWidth, C)` bytes.
    ///   - scratch: `scratchCount(channels:)` floats.
    public func apply(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>, channels: Int,
                      scratch: UnsafeMutablePointer<Float>) {
        let nIn = inHeight * inWidth * channels, nMid = floatScratchCount(channels: channels)
        let nOut = outHeight * outWidth * channels
        for i in 0..<nIn { scratch[i] = Float(inp[i]) }
        let result = scratch + nIn + nMid
        apply(result, scratch, channels: channels, scratch: scratch + nIn)
        for i in 0..<nOut {
            let v = result[i].rounded(.toNearestOrEven)
            out[i] = UInt8(min(max(v, 0), 255))
        }
    }

    /// Floats of scratch the `UInt8` `apply` needs for `channels`.
    public func scratchCount(channels: Int) -> Int {
        (inHeight * inWidth + inHeight * outWidth + outHeight * outWidth) * channels
    }
}
