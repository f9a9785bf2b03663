/// The resampling filters of PIL's `Image.resize`, as the reference's transforms use them on PIL
/// images: `Resize(s, BICUBIC)` (CIFAR, Tiny ImageNet), and the default BILINEAR of
/// `RandomResizedCrop` and `Resize(s)` (Food-101, ImageNet).
public enum Interpolation: String, Sendable, Codable {
    case bilinear, bicubic

    /// Half-width of the filter at scale 1 (PIL's `support`).
    var support: Double { self == .bilinear ? 1 : 2 }

    /// PIL's filter functions (`bilinear_filter`, `bicubic_filter` with a = −0.5), in double,
    /// with the same operations in the same order.
    @inline(__always)
    func weight(_ x: Double) -> Double {
        let x = x < 0 ? -x : x
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

/// PIL's `Image.resize(size, filter)` on 8-bit images (Pillow's `ImagingResample`), byte for byte.
///
/// Per axis (`precompute_coeffs`, double): `scale = in / out`, `filterscale = max(scale, 1)`,
/// `support = filter.support · filterscale` (so a downscale widens the filter: antialiasing);
/// output `o` has centre `c = (o + 0.5)·scale`, taps `xmin = max(int(c − support + 0.5), 0)` up to
/// `min(int(c + support + 0.5), in)`, weights `filter((x − c + 0.5) / filterscale)` divided by
/// their sum, then made fixed point with 22 fraction bits (`int(w·2²² ± 0.5)`, rounded away from 0).
/// A pass sums `pixel · weight` in integers from `2²¹` (rounding), shifts right by 22 and clamps to
/// 0…255. The horizontal pass runs first, into 8-bit rows, then the vertical one; a pass whose
/// size does not change is skipped, as PIL skips it.
///
/// `torchvision.transforms.functional.resized_crop` on a PIL image is `crop` then `resize`, so a
/// crop box is resized here as an image of its own; `center_crop(resize(img, s), c)` is a window of
/// the resized image, of which only the window is computed (every output pixel depends only on its
/// own row and column weights, so the window's bytes are those of the whole image).
///
/// A resampler owns growable scratch buffers (grown, never shrunk): one per worker thread.
public final class PILResampler {
    private var rows: UnsafeMutablePointer<UInt8>
    private var rowCapacity = 0
    private var ints: UnsafeMutablePointer<Int>
    private var intCapacity = 0

    public init() {
        rows = .allocate(capacity: 1); ints = .allocate(capacity: 1)
    }

    deinit { rows.deallocate(); ints.deallocate() }

    /// PIL's `ksize`: most taps an output can have along an axis of scale `input / output`.
    static func maxTaps(_ filter: Interpolation, input: Int, output: Int) -> Int {
        let scale = Double(input) / Double(output)
        return Int((filter.support * max(scale, 1)).rounded(.up)) * 2 + 1
    }

    /// PIL's `precompute_coeffs` + `normalize_coeffs_8bpc` for outputs `first ..< first + n`:
    /// `start[k]`, `count[k]` and fixed-point `weight[k·taps ..< k·taps + count[k]]`.
    /// - Returns: the taps stride.
    static func axis(_ filter: Interpolation, input: Int, output: Int, first: Int, n: Int,
                     start: UnsafeMutablePointer<Int>, count: UnsafeMutablePointer<Int>,
                     weight: UnsafeMutablePointer<Int>) -> Int {
        let taps = maxTaps(filter, input: input, output: output)
        let scale = Double(input) / Double(output)
        let filterscale = max(scale, 1)
        let support = filter.support * filterscale
        let ss = 1 / filterscale
        var w = [Double](repeating: 0, count: taps)
        for k in 0..<n {
            let center = (Double(first + k) + 0.5) * scale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), input) - xmin
            var total = 0.0
            for x in 0..<xmax {
                w[x] = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                total += w[x]
            }
            let dst = weight + k * taps
            for x in 0..<xmax {
                let v = total != 0 ? w[x] / total : w[x]
                dst[x] = v < 0 ? Int(-0.5 + v * 4_194_304) : Int(0.5 + v * 4_194_304)
            }
            start[k] = xmin; count[k] = max(xmax, 0)
        }
        return taps
    }

    /// PIL's `clip8`: the fixed-point sum (with its 2²¹ rounding term) to a byte.
    @inline(__always)
    static func clip8(_ ss: Int) -> UInt8 { UInt8(min(max(ss >> 22, 0), 255)) }

    private func reserve(rowBytes: Int, ints n: Int) {
        if rowBytes > rowCapacity { rows.deallocate(); rows = .allocate(capacity: rowBytes); rowCapacity = rowBytes }
        if n > intCapacity { ints.deallocate(); ints = .allocate(capacity: n); intCapacity = n }
    }

    /// Resizes the window `(top, left, height, width)` of `inp` to `fullHeight × fullWidth` with
    /// `filter` and writes the output rows `rowOffset ..< rowOffset + outHeight`, columns
    /// `colOffset ..< colOffset + outWidth` (outside the resized image: 0, torchvision's CenterCrop
    /// padding). `resized_crop(img, top, left, h, w, size)` is the whole output;
    /// `center_crop(resize(img, s), c)` is a window of it.
    /// - Parameters:
    ///   - out: `(outHeight, outWidth, channels)` bytes.
    ///   - inp: `(inHeight, inWidth, channels)` bytes; the window must lie inside it.
    ///   - filter: PIL's resampling filter (torchvision's default for PIL images is bilinear).
    public func resize(_ out: UnsafeMutablePointer<UInt8>, outHeight: Int, outWidth: Int,
                       _ inp: UnsafePointer<UInt8>, inHeight: Int, inWidth: Int, channels: Int,
                       top: Int, left: Int, height: Int, width: Int,
                       fullHeight: Int, fullWidth: Int, rowOffset: Int = 0, colOffset: Int = 0,
                       filter: Interpolation = .bilinear) {
        precondition(top >= 0 && left >= 0 && height > 0 && width > 0 && top + height <= inHeight && left + width <= inWidth,
                     "resize window (\(top), \(left), \(height), \(width)) outside \(inHeight)×\(inWidth)")
        precondition(fullHeight > 0 && fullWidth > 0, "resize to \(fullHeight)×\(fullWidth)")
        let c = channels
        out.update(repeating: 0, count: outHeight * outWidth * c)
        // Output rows/columns that fall inside the resized image.
        let r0 = max(rowOffset, 0), r1 = min(rowOffset + outHeight, fullHeight)
        let c0 = max(colOffset, 0), c1 = min(colOffset + outWidth, fullWidth)
        guard r0 < r1 && c0 < c1 else { return }
        let nr = r1 - r0, nc = c1 - c0
        let scaleRows = fullHeight != height, scaleCols = fullWidth != width
        let rowTaps = Self.maxTaps(filter, input: height, output: fullHeight)
        let colTaps = Self.maxTaps(filter, input: width, output: fullWidth)
        let intCount = 2 * (nr + nc) + nr * rowTaps + nc * colTaps
        // Source rows of the window that the vertical pass reads: lo..<hi.
        reserve(rowBytes: 1, ints: intCount)
        let colStart = ints, colCount = ints + nc, rStart = ints + 2 * nc, rCount = rStart + nr
        let colW = rCount + nr, rowW = colW + nc * colTaps
        if scaleCols {
            _ = Self.axis(filter, input: width, output: fullWidth, first: c0, n: nc, start: colStart, count: colCount, weight: colW)
        }
        if scaleRows {
            _ = Self.axis(filter, input: height, output: fullHeight, first: r0, n: nr, start: rStart, count: rCount, weight: rowW)
        }
        let lo = scaleRows ? rStart[0] : r0
        let hi = scaleRows ? rStart[nr - 1] + rCount[nr - 1] : r1
        let rowLen = nc * c
        reserve(rowBytes: max((hi - lo) * rowLen, 1), ints: intCount)
        // Horizontal pass into 8-bit rows: tmp[(r − lo), k, ch] for window rows lo..<hi, output columns c0..<c1.
        let tmp = rows
        for r in lo..<hi {
            let src = inp + ((top + r) * inWidth + left) * c, dst = tmp + (r - lo) * rowLen
            if scaleCols {
                for k in 0..<nc {
                    let s = src + colStart[k] * c, w = colW + k * colTaps, m = colCount[k]
                    for ch in 0..<c {
                        var ss = 1 << 21
                        for j in 0..<m { ss += Int(s[j * c + ch]) * w[j] }
                        dst[k * c + ch] = Self.clip8(ss)
                    }
                }
            } else {
                dst.update(from: src + c0 * c, count: rowLen)
            }
        }
        // Vertical pass into the output window.
        for i in 0..<nr {
            let dst = out + ((r0 + i - rowOffset) * outWidth + (c0 - colOffset)) * c
            if scaleRows {
                let w = rowW + i * rowTaps, first = tmp + (rStart[i] - lo) * rowLen, m = rCount[i]
                for e in 0..<rowLen {
                    var ss = 1 << 21
                    for j in 0..<m { ss += Int(first[j * rowLen + e]) * w[j] }
                    dst[e] = Self.clip8(ss)
                }
            } else {
                dst.update(from: tmp + (r0 + i - lo) * rowLen, count: rowLen)
            }
        }
    }

    /// PIL's `Image.resize((outWidth, outHeight), filter)` of a whole image.
    public func resize(_ out: UnsafeMutablePointer<UInt8>, outHeight: Int, outWidth: Int,
                       _ inp: UnsafePointer<UInt8>, inHeight: Int, inWidth: Int, channels: Int,
                       filter: Interpolation) {
        resize(out, outHeight: outHeight, outWidth: outWidth, inp, inHeight: inHeight, inWidth: inWidth,
               channels: channels, top: 0, left: 0, height: inHeight, width: inWidth,
               fullHeight: outHeight, fullWidth: outWidth, filter: filter)
    }
}
