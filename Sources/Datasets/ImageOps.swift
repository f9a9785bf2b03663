/// The pixel operations of AutoAugment and RandAugment on 8-bit HWC images, with torchvision's
/// tensor semantics (`torchvision.transforms.functional` on a `uint8` tensor), bit for bit.
///
/// torchvision computes in float32 and casts back with `.to(uint8)` (truncation toward zero) after
/// clamping to 0…255; the float operations below are the same ones in the same order:
/// - `_blend(a, b, r) = (float(r)·a + float(1 − r)·b).clamp(0, 255)`, `1 − r` in double first;
/// - grey `= (0.2989·R + 0.587·G + 0.114·B)` in float32, truncated to uint8;
/// - contrast blends with the float32 mean of the grey image (its integer sum is exact in float32
///   up to 256×256 pixels);
/// - sharpness blends with the 3×3 `[1 1 1; 1 5 1; 1 1 1] / 13` blur of the interior (rounded; the
///   border keeps its pixels); an `n / 13` is never a tie, so integer rounding is exact;
/// - autocontrast scales by `255 · (1 / (max − min))` (PyTorch's `255 / t` is `t.reciprocal() · 255`).
/// Every function reads `inp` and writes `out`, both `(height, width, channels)`, channels 1 or 3;
/// `out` must not overlap `inp`.
public enum ImageOps {
    /// `_blend(x, y, ratio)` for one value: float32, clamped, truncated.
    @inline(__always)
    static func blend(_ x: UInt8, _ y: Float, _ r: Float, _ q: Float) -> UInt8 {
        let v = r * Float(x) + q * y
        return UInt8(min(max(v, 0), 255))
    }

    /// The float32 factors `(ratio, 1 − ratio)` of `_blend`, `1 − ratio` computed in double as in Python.
    @inline(__always)
    static func blendFactors(_ ratio: Double) -> (Float, Float) { (Float(ratio), Float(1.0 - ratio)) }

    /// torchvision `rgb_to_grayscale` of one RGB pixel (uint8).
    @inline(__always)
    static func grey(_ p: UnsafePointer<UInt8>) -> UInt8 {
        let v = Float(0.2989) * Float(p[0]) + Float(0.587) * Float(p[1]) + Float(0.114) * Float(p[2])
        return UInt8(v)
    }

    /// `adjust_brightness(img, factor)`: blend with black.
    public static func brightness(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                                  count: Int, factor: Double) {
        let (r, q) = blendFactors(factor)
        for i in 0..<count { out[i] = blend(inp[i], 0, r, q) }
    }

    /// `adjust_saturation(img, factor)`: blend with the grey image (identity on 1 channel).
    public static func color(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                             pixels: Int, channels: Int, factor: Double) {
        guard channels == 3 else { out.update(from: inp, count: pixels * channels); return }
        let (r, q) = blendFactors(factor)
        for p in 0..<pixels {
            let s = inp + 3 * p, d = out + 3 * p
            let g = Float(grey(s))
            d[0] = blend(s[0], g, r, q); d[1] = blend(s[1], g, r, q); d[2] = blend(s[2], g, r, q)
        }
    }

    /// `adjust_contrast(img, factor)`: blend with the mean grey level.
    public static func contrast(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                                pixels: Int, channels: Int, factor: Double) {
        var sum = 0
        if channels == 3 {
            for p in 0..<pixels { sum += Int(grey(inp + 3 * p)) }
        } else {
            for i in 0..<pixels * channels { sum += Int(inp[i]) }
        }
        let mean = Float(sum) / Float(pixels)   // channels is 1 or 3
        let (r, q) = blendFactors(factor)
        for i in 0..<pixels * channels { out[i] = blend(inp[i], mean, r, q) }
    }

    /// `adjust_sharpness(img, factor)`: blend with the smoothed image (the border blends with
    /// itself, which float32 need not leave unchanged; images with a side ≤ 2 are returned as they are).
    public static func sharpness(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                                 height: Int, width: Int, channels: Int, factor: Double) {
        let c = channels, n = height * width * c
        guard height > 2 && width > 2 else { out.update(from: inp, count: n); return }
        let (r, q) = blendFactors(factor)
        for i in 0..<n { out[i] = blend(inp[i], Float(inp[i]), r, q) }
        let row = width * c
        for y in 1..<height - 1 {
            for x in 1..<width - 1 {
                let o = y * row + x * c
                for k in 0..<c {
                    let s = inp + o + k
                    var sum = 4 * Int(s[0])
                    for dy in -1...1 { for dx in -1...1 { sum += Int(s[dy * row + dx * c]) } }
                    let blurred = (2 * sum + 13) / 26              // round(sum / 13), never a tie
                    out[o + k] = blend(s[0], Float(blurred), r, q)
                }
            }
        }
    }

    /// `posterize(img, bits)`: keeps the top `bits` bits (0…8).
    public static func posterize(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>, count: Int, bits: Int) {
        precondition((0...8).contains(bits), "posterize: bits \(bits) outside 0...8")
        let mask = UInt8(truncatingIfNeeded: -(1 << (8 - bits)))
        for i in 0..<count { out[i] = inp[i] & mask }
    }

    /// `solarize(img, threshold)`: inverts values ≥ threshold (compared in float32).
    public static func solarize(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>, count: Int, threshold: Double) {
        let t = Float(threshold)
        for i in 0..<count { out[i] = Float(inp[i]) >= t ? 255 - inp[i] : inp[i] }
    }

    /// `invert(img)`: 255 − x.
    public static func invert(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>, count: Int) {
        for i in 0..<count { out[i] = 255 - inp[i] }
    }

    /// `autocontrast(img)`: per channel, maps [min, max] to [0, 255] (flat channels unchanged).
    public static func autocontrast(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                                    pixels: Int, channels: Int) {
        for k in 0..<channels {
            var lo = UInt8.max, hi = UInt8.min
            for p in 0..<pixels { let v = inp[p * channels + k]; lo = min(lo, v); hi = max(hi, v) }
            var minimum = Float(lo), scale: Float = 1
            if hi == lo { minimum = 0 } else { scale = (1 / (Float(hi) - Float(lo))) * 255 }
            for p in 0..<pixels {
                let v = (Float(inp[p * channels + k]) - minimum) * scale
                out[p * channels + k] = UInt8(min(max(v, 0), 255))
            }
        }
    }

    /// `equalize(img)`: per-channel histogram equalisation with torchvision's integer LUT
    /// (`step = (N − count of the last used level) // 255`; unchanged when `step == 0`).
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
