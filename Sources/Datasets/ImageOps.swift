/// The pixel operations of AutoAugment and RandAugment on 8-bit HWC images, as torchvision runs
/// them on PIL images (`ImageEnhance`, `ImageOps`), byte for byte.
///
/// - The enhancers (`ImageEnhance.Brightness/Color/Contrast/Sharpness`) are `Image.blend(degenerate,
///   image, factor)`: per byte `d + α·(x − d)` in float32 (α = the factor rounded to float32),
///   clamped to 0…255 and truncated (PIL's `ImagingBlend`; factor 0 or 1 returns a copy).
/// - Degenerate images: black (brightness); the grey image `(19595·R + 38470·G + 7471·B + 2¹⁵) >> 16`
///   (PIL's `convert("L")`) in every channel (colour; a grey image is its own); the grey mean
///   `int(Σ v·hist[v] / N + 0.5)` (contrast); the 3×3 SMOOTH filter `[1 1 1; 1 5 1; 1 1 1] / 13`
///   (sharpness; float32 weights `1/13`, `5/13`, summed from 0.5 row by row, bottom row first,
///   clamped and truncated; the one-pixel border keeps its values).
/// - `autocontrast`: per channel, `lut[v] = clamp(int(v·s − lo·s), 0, 255)` with `s = 255 / (hi − lo)`
///   in double (PIL's `ImageOps.autocontrast`, cutoff 0).
/// - `equalize`, `posterize`, `solarize`, `invert`: PIL's integer lookup tables.
/// Every function reads `inp` and writes `out`, both `(height, width, channels)`, channels 1 or 3;
/// `out` must not overlap `inp`.
public enum ImageOps {
    /// `Image.blend(degenerate, image, alpha)` for one byte (`alpha` ∉ {0, 1}).
    @inline(__always)
    static func blend(_ d: Float, _ x: UInt8, _ alpha: Float) -> UInt8 {
        let v = d + alpha * Float(Int(x) - Int(d))
        return v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)
    }

    /// PIL's `convert("L")` of one RGB pixel.
    @inline(__always)
    static func grey(_ p: UnsafePointer<UInt8>) -> UInt8 {
        let r: Int = Int(p[0]) * 19595, g: Int = Int(p[1]) * 38470, b: Int = Int(p[2]) * 7471
        return UInt8((r + g + b + 0x8000) >> 16)
    }

    /// Blends `inp` with a degenerate image given per byte index; factor 0 gives the degenerate,
    /// 1 the image (PIL's shortcuts).
    @inline(__always)
    static func enhance(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>, count: Int, factor: Double,
                        degenerate: (Int) -> UInt8) {
        let alpha = Float(factor)
        if alpha == 1 { out.update(from: inp, count: count); return }
        if alpha == 0 { for i in 0..<count { out[i] = degenerate(i) }; return }
        for i in 0..<count { out[i] = blend(Float(degenerate(i)), inp[i], alpha) }
    }

    /// `ImageEnhance.Brightness(img).enhance(factor)`: blend with black.
    public static func brightness(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                                  count: Int, factor: Double) {
        enhance(out, inp, count: count, factor: factor) { _ in 0 }
    }

    /// `ImageEnhance.Color(img).enhance(factor)`: blend with the grey image (identity on 1 channel).
    public static func color(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                             pixels: Int, channels: Int, factor: Double) {
        guard channels == 3 else { out.update(from: inp, count: pixels * channels); return }
        enhance(out, inp, count: pixels * 3, factor: factor) { grey(inp + $0 / 3 * 3) }
    }

    /// `ImageEnhance.Contrast(img).enhance(factor)`: blend with the rounded mean grey level.
    public static func contrast(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                                pixels: Int, channels: Int, factor: Double) {
        // ImageStat: Σ v·hist[v] accumulated in double over the grey histogram, divided by N.
        var hist = [Int](repeating: 0, count: 256)
        for p in 0..<pixels { hist[Int(channels == 3 ? grey(inp + 3 * p) : inp[p])] += 1 }
        var sum = 0.0
        for v in 0..<256 { sum += Double(v * hist[v]) }
        let mean = UInt8(Int(sum / Double(pixels) + 0.5))
        enhance(out, inp, count: pixels * channels, factor: factor) { _ in mean }
    }

    /// `ImageEnhance.Sharpness(img).enhance(factor)`: blend with the SMOOTH-filtered image.
    public static func sharpness(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                                 height: Int, width: Int, channels: Int, factor: Double) {
        let c = channels, n = height * width * c
        var smooth = [UInt8](repeating: 0, count: n)
        smooth.withUnsafeMutableBufferPointer { sm in smoothFilter(sm.baseAddress!, inp, height: height, width: width, channels: c) }
        smooth.withUnsafeBufferPointer { sm in
            let s = sm.baseAddress!
            enhance(out, inp, count: n, factor: factor) { s[$0] }
        }
    }

    /// PIL's `image.filter(ImageFilter.SMOOTH)` (`ImagingFilter3x3`, float32): images narrower or
    /// shorter than 3 pixels are copied.
    static func smoothFilter(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                             height: Int, width: Int, channels: Int) {
        let c = channels, row = width * c
        out.update(from: inp, count: height * row)
        guard height >= 3 && width >= 3 else { return }
        let k1: Float = 1 / 13, k5: Float = 5 / 13
        @inline(__always) func line(_ p: UnsafePointer<UInt8>, _ middle: Float) -> Float {
            Float(p[-c]) * k1 + Float(p[0]) * middle + Float(p[c]) * k1
        }
        for y in 1..<height - 1 {
            for x in 1..<width - 1 {
                for k in 0..<c {
                    let p = inp + y * row + x * c + k
                    var ss: Float = 0.5
                    ss += line(p + row, k1)
                    ss += line(p, k5)
                    ss += line(p - row, k1)
                    out[y * row + x * c + k] = ss <= 0 ? 0 : ss >= 255 ? 255 : UInt8(ss)
                }
            }
        }
    }

    /// `ImageOps.posterize(img, bits)`: keeps the top `bits` bits (0…8).
    public static func posterize(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>, count: Int, bits: Int) {
        precondition((0...8).contains(bits), "posterize: bits \(bits) outside 0...8")
        let mask = UInt8(truncatingIfNeeded: -(1 << (8 - bits)))
        for i in 0..<count { out[i] = inp[i] & mask }
    }

    /// `ImageOps.solarize(img, threshold)`: inverts values ≥ threshold.
    public static func solarize(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>, count: Int, threshold: Double) {
        for i in 0..<count { out[i] = Double(inp[i]) < threshold ? inp[i] : 255 - inp[i] }
    }

    /// `ImageOps.invert(img)`: 255 − x.
    public static func invert(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>, count: Int) {
        for i in 0..<count { out[i] = 255 - inp[i] }
    }

    /// `ImageOps.autocontrast(img)`: per channel, maps [min, max] to [0, 255] through PIL's table
    /// (flat channels unchanged).
    public static func autocontrast(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                                    pixels: Int, channels: Int) {
        var lut = [UInt8](repeating: 0, count: 256)
        for k in 0..<channels {
            var lo = 255, hi = 0
            for p in 0..<pixels { let v = Int(inp[p * channels + k]); lo = min(lo, v); hi = max(hi, v) }
            if hi <= lo {
                for v in 0..<256 { lut[v] = UInt8(v) }
            } else {
                let scale = 255.0 / Double(hi - lo), offset = -Double(lo) * scale
                for v in 0..<256 { lut[v] = UInt8(min(max(Int(Double(v) * scale + offset), 0), 255)) }
            }
            for p in 0..<pixels { out[p * channels + k] = lut[Int(inp[p * channels + k])] }
        }
    }

    /// `ImageOps.equalize(img)`: per-channel histogram equalisation with PIL's integer table
    /// (`step = (N − count of the last used level) // 255`, `lut[v] = (step // 2 + Σ_{u<v} hist[u]) // step`
    /// clamped to 255 by `Image.point`; unchanged when `step == 0`).
    public static func equalize(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                                pixels: Int, channels: Int) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 512) { buf in
            let hist = buf.baseAddress!, lut = hist + 256
            for k in 0..<channels {
                hist.update(repeating: 0, count: 256)
                for p in 0..<pixels { hist[Int(inp[p * channels + k])] += 1 }
                var last = 255
                while last > 0 && hist[last] == 0 { last -= 1 }
                let step = (pixels - hist[last]) / 255
                if step == 0 {
                    for p in 0..<pixels { out[p * channels + k] = inp[p * channels + k] }
                    continue
                }
                // lut[v] = (cumsum[v − 1] + step // 2) // step, lut[0] = 0, clamped to 255.
                var cum = 0
                lut[0] = 0
                for v in 1..<256 { cum += hist[v - 1]; lut[v] = min((cum + step / 2) / step, 255) }
                for p in 0..<pixels { out[p * channels + k] = UInt8(lut[Int(inp[p * channels + k])]) }
            }
        }
    }
}
