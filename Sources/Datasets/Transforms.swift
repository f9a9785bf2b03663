/// Per-image transforms with torchvision semantics, on HWC images.
///
/// Each is a small function on pointers (no allocation): `crop` (RandomCrop with zero padding,
/// CenterCrop), `hflip` (RandomHorizontalFlip), `normalize` (ToTensor + Normalize). Resizing is
/// in `Resize.swift`. `cropFlipNormalize` fuses the three for the loader's hot path and is tested
/// against their composition.
public enum Transforms {
    /// Crops an `outH × outW` window whose top-left corner is at (`top`, `left`) of the input;
    /// pixels outside the input are 0 (torchvision's zero `fill`).
    ///
    /// `RandomCrop(size, padding: p)` is `crop(top: i - p, left: j - p)` for its draws
    /// `i ∈ 0...H + 2p - size`, `j ∈ 0...W + 2p - size`.
    /// - Parameters:
    ///   - out: `(outH, outW, C)` bytes.
    ///   - inp: `(H, W, C)` bytes.
    ///   - top, left: corner in input coordinates, may be negative or past the edge.
    public static func crop(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                            height: Int, width: Int, channels: Int,
                            outHeight: Int, outWidth: Int, top: Int, left: Int) {
        let c = channels
        // Columns of the window that fall inside the input: [x0, x1).
        let x0 = min(max(-left, 0), outWidth), x1 = max(min(width - left, outWidth), x0)
        for y in 0..<outHeight {
            let row = out + y * outWidth * c
            let sy = y + top
            if sy < 0 || sy >= height { row.update(repeating: 0, count: outWidth * c); continue }
            row.update(repeating: 0, count: x0 * c)
            row.advanced(by: x0 * c).update(from: inp + (sy * width + x0 + left) * c, count: (x1 - x0) * c)
            row.advanced(by: x1 * c).update(repeating: 0, count: (outWidth - x1) * c)
        }
    }

    /// torchvision CenterCrop offset along one axis: `round((input − output) / 2)` with
    /// Python's round-half-to-even; negative when the crop is larger than the image (then
    /// torchvision pads by `(output − input) // 2` first, which is the same window).
    public static func centerOffset(input: Int, output: Int) -> Int {
        if output > input { return -((output - input) / 2) }
        return Int((Double(input - output) / 2).rounded(.toNearestOrEven))
    }

    /// Mirrors an image left–right.
    /// - Parameters:
    ///   - out: `(H, W, C)` bytes; must not overlap `inp`.
    ///   - inp: `(H, W, C)` bytes.
    public static func hflip(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                             height: Int, width: Int, channels: Int) {
        for y in 0..<height {
            let src = inp + y * width * channels, dst = out + y * width * channels
            for x in 0..<width {
                (dst + x * channels).update(from: src + (width - 1 - x) * channels, count: channels)
            }
        }
    }

    /// The 256-entry per-channel table of `(v / 255 − mean[c]) / std[c]`, computed in float32 in
    /// torchvision's order (ToTensor divides by 255, Normalize subtracts then divides).
    /// - Returns: `(C, 256)` floats.
    public static func normalizeTable(mean: [Float], std: [Float]) -> [Float] {
        precondition(mean.count == std.count && !mean.isEmpty, "normalize: \(mean.count) means for \(std.count) stds")
        var table = [Float](repeating: 0, count: mean.count * 256)
        for c in 0..<mean.count {
            precondition(std[c] > 0, "normalize: std[\(c)] = \(std[c]) must be positive")
            for v in 0..<256 { table[c * 256 + v] = (Float(v) / 255 - mean[c]) / std[c] }
        }
        return table
    }

    /// ToTensor + Normalize: bytes to normalised floats, channel by channel.
    /// - Parameters:
    ///   - out: `(pixels, C)` floats.
    ///   - inp: `(pixels, C)` bytes.
    ///   - table: `(C, 256)` from `normalizeTable`.
    public static func normalize(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<UInt8>,
                                 pixels: Int, channels: Int, table: UnsafePointer<Float>) {
        for p in 0..<pixels {
            for c in 0..<channels { out[p * channels + c] = table[c * 256 + Int(inp[p * channels + c])] }
        }
    }

    /// crop, then an optional horizontal flip, then normalize, in one pass (the loader's hot path).
    /// - Parameters:
    ///   - out: `(outH, outW, C)` floats.
    ///   - inp: `(H, W, C)` bytes.
    ///   - top, left: crop corner as in `crop` (may be outside the image: zero padding).
    ///   - flip: mirror the cropped window.
    ///   - table: `(C, 256)` from `normalizeTable`.
    public static func cropFlipNormalize(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<UInt8>,
                                         height: Int, width: Int, channels: Int,
                                         outHeight: Int, outWidth: Int, top: Int, left: Int, flip: Bool,
                                         table: UnsafePointer<Float>) {
        let c = channels
        for y in 0..<outHeight {
            let dst = out + y * outWidth * c
            let sy = y + top
            let inside = sy >= 0 && sy < height
            for x in 0..<outWidth {
                let sx = (flip ? outWidth - 1 - x : x) + left
                let d = dst + x * c
                if inside && sx >= 0 && sx < width {
                    let s = inp + (sy * width + sx) * c
                    for k in 0..<c { d[k] = table[k * 256 + Int(s[k])] }
                } else {
                    for k in 0..<c { d[k] = table[k * 256] }
                }
            }
        }
    }
}
