/// Bilinear resizing with antialiasing: torchvision's `resize(..., BILINEAR, antialias=True)` on
/// a `uint8` tensor (PyTorch's `_upsample_bilinear2d_aa`, the same triangle filter as PIL).
///
/// Per axis, with `scale = in / out` (float32) and `support = max(scale, 1)`: output `o` has
/// centre `c = scale·(o + 0.5)`, taps `xmin = max(int(c − support + 0.5), 0)` up to
/// `min(int(c + support + 0.5), in)`, weights `max(0, 1 − |(x − c + 0.5) / max(scale, 1)|)`
/// normalised to sum 1. Width first, then height (an axis whose size does not change is
/// skipped), float32, then rounded half to even and clamped to 0…255. PyTorch's vectorised
/// kernels sum in another order, so values agree to ±1 (at rounding ties), not bit for bit.
///
/// A resampler owns growable scratch buffers (grown, never shrunk): one per worker thread.
public final class AntialiasResampler {
    private var floats: UnsafeMutablePointer<Float>
    private var floatCapacity = 0
    private var starts: UnsafeMutablePointer<Int>
    private var weights: UnsafeMutablePointer<Float>
    private var tapCapacity = 0, startCapacity = 0

    public init() {
        floats = .allocate(capacity: 1); starts = .allocate(capacity: 1); weights = .allocate(capacity: 1)
    }

    deinit { floats.deallocate(); starts.deallocate(); weights.deallocate() }

    /// Most taps an output can have along an axis of scale `in / out`.
    static func maxTaps(input: Int, output: Int) -> Int {
        let scale = Float(input) / Float(output)
        return Int(max(scale, 1).rounded(.up)) * 2 + 1
    }

    /// Fills `start[o]`, `count[o]` and `weight[o·taps …]` for outputs `first ..< first + n`.
    /// - Returns: the taps stride.
    static func axis(input: Int, output: Int, first: Int, n: Int, start: UnsafeMutablePointer<Int>,
                     count: UnsafeMutablePointer<Int>, weight: UnsafeMutablePointer<Float>) -> Int {
        let taps = maxTaps(input: input, output: output)
        let scale = Float(input) / Float(output)
        let support: Float = scale >= 1 ? scale : 1
        let invScale: Float = scale >= 1 ? 1 / scale : 1
        for k in 0..<n {
            let o = first + k
            let center = scale * (Float(o) + 0.5)
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), input)
            let w = weight + k * taps
            var total: Float = 0
            let m = min(max(hi - lo, 0), taps)
            for j in 0..<m {
                let x = abs((Float(lo + j) - center + 0.5) * invScale)
                w[j] = x < 1 ? 1 - x : 0
                total += w[j]
            }
            if total != 0 { for j in 0..<m { w[j] /= total } }
            start[k] = lo; count[k] = m
        }
        return taps
    }

    private func reserve(floats f: Int, outputs: Int, taps: Int) {
        if f > floatCapacity { floats.deallocate(); floats = .allocate(capacity: f); floatCapacity = f }
        if outputs * 2 > startCapacity { starts.deallocate(); starts = .allocate(capacity: outputs * 2); startCapacity = outputs * 2 }
        if taps > tapCapacity { weights.deallocate(); weights = .allocate(capacity: taps); tapCapacity = taps }
    }

    /// Resizes the window `(top, left, height, width)` of `inp` to `fullHeight × fullWidth` and
    /// writes the output rows `rowOffset ..< rowOffset + outHeight`, columns `colOffset ..<
    /// colOffset + outWidth` (outside the resized image: 0, torchvision's CenterCrop padding).
    /// `resized_crop(img, top, left, h, w, size)` is the whole output; `center_crop(resize(img, s), c)`
    /// is a window of it.
    /// - Parameters:
    ///   - out: `(outHeight, outWidth, channels)` bytes.
    ///   - inp: `(inHeight, inWidth, channels)` bytes; the window must lie inside it.
    public func resize(_ out: UnsafeMutablePointer<UInt8>, outHeight: Int, outWidth: Int,
                       _ inp: UnsafePointer<UInt8>, inHeight: Int, inWidth: Int, channels: Int,
                       top: Int, left: Int, height: Int, width: Int,
                       fullHeight: Int, fullWidth: Int, rowOffset: Int = 0, colOffset: Int = 0) {
        precondition(top >= 0 && left >= 0 && height > 0 && width > 0 && top + height <= inHeight && left + width <= inWidth,
                     "resize window (\(top), \(left), \(height), \(width)) outside \(inHeight)×\(inWidth)")
        let c = channels
        out.update(repeating: 0, count: outHeight * outWidth * c)
        // Output rows/columns that fall inside the resized image.
        let r0 = max(rowOffset, 0), r1 = min(rowOffset + outHeight, fullHeight)
        let c0 = max(colOffset, 0), c1 = min(colOffset + outWidth, fullWidth)
        guard r0 < r1 && c0 < c1 else { return }
        let nr = r1 - r0, nc = c1 - c0
        let scaleRows = fullHeight != height, scaleCols = fullWidth != width
        let rowTaps = Self.maxTaps(input: height, output: fullHeight), colTaps = Self.maxTaps(input: width, output: fullWidth)
        reserve(floats: height * nc * c, outputs: nr + nc, taps: nr * rowTaps + nc * colTaps)
        // `starts` holds (nc) column starts, (nc) column tap counts, (nr) row starts, (nr) row counts.
        let colStart = starts, colCount = starts + nc, rStart = starts + 2 * nc, rCount = rStart + nr
        let colW = weights, rowW = weights + nc * colTaps
        if scaleCols {
            _ = Self.axis(input: width, output: fullWidth, first: c0, n: nc, start: colStart, count: colCount, weight: colW)
        }
        if scaleRows {
            _ = Self.axis(input: height, output: fullHeight, first: r0, n: nr, start: rStart, count: rCount, weight: rowW)
        }
        // Source rows of the window needed by the row pass.
        let lo = scaleRows ? rStart[0] : r0
        let hi = scaleRows ? rStart[nr - 1] + rCount[nr - 1] : r1
        // Column pass: tmp[(r − lo), k, ch] for window rows lo..<hi and output columns c0..<c1.
        let tmp = floats
        for r in lo..<hi {
            let src = inp + ((top + r) * inWidth + left) * c, dst = tmp + (r - lo) * nc * c
            for k in 0..<nc {
                if scaleCols {
                    let s = src + colStart[k] * c, w = colW + k * colTaps, m = colCount[k]
                    for ch in 0..<c {
                        var acc = Float(s[ch]) * w[0]
                        var j = 1
                        while j < m { acc += Float(s[j * c + ch]) * w[j]; j += 1 }
                        dst[k * c + ch] = acc
                    }
                } else {
                    for ch in 0..<c { dst[k * c + ch] = Float(src[(c0 + k) * c + ch]) }
                }
            }
        }
        // Row pass, rounding into the output window.
        let rowLen = nc * c
        for i in 0..<nr {
            let dst = out + ((r0 + i - rowOffset) * outWidth + (c0 - colOffset)) * c
            if scaleRows {
                let w = rowW + i * rowTaps, first = tmp + (rStart[i] - lo) * rowLen, m = rCount[i]
                for e in 0..<rowLen {
                    var acc = first[e] * w[0]
                    var j = 1
                    while j < m { acc += first[j * rowLen + e] * w[j]; j += 1 }
                    dst[e] = AntialiasResampler.byte(acc)
                }
            } else {
                let src = tmp + (r0 + i - lo) * rowLen
                for e in 0..<rowLen { dst[e] = AntialiasResampler.byte(src[e]) }
            }
        }
    }

    /// Round half to even, clamp to 0…255.
    @inline(__always)
    static func byte(_ v: Float) -> UInt8 { UInt8(min(max(v.rounded(.toNearestOrEven), 0), 255)) }
}
