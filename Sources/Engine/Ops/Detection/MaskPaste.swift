import Foundation

/// PyTorch's bilinear resize (`F.interpolate(mode="bilinear", align_corners=False)`, no
/// antialias) of one (H, W) plane, in Float as its CPU kernel: source = max((dst + ½)·(in/out) − ½, 0),
/// i0 = min(floor(source), in − 1), λ1 = clamp(source − i0, 0, 1), i1 = i0 + (i0 < in − 1);
/// equal sizes copy; out = (v00·w0 + v01·w1)·h0 + (v10·w0 + v11·w1)·h1.
/// - Parameters:
///   - inp: (H, W).
///   - rows, cols: the window of the (outHeight, outWidth) output to compute (default: all of it).
/// - Returns: the window, (rows.count, cols.count).
public func bilinearResize(_ inp: UnsafePointer<Float>, height: Int, width: Int, outHeight: Int, outWidth: Int,
                           rows: Range<Int>? = nil, cols: Range<Int>? = nil) -> [Float] {
    let rows = rows ?? 0..<outHeight, cols = cols ?? 0..<outWidth
    func taps(_ input: Int, _ output: Int, _ range: Range<Int>) -> [(Int, Int, Float, Float)] {
        range.map { dst in
            if input == output { return (dst, dst, 1, 0) }
            let scale = Float(input) / Float(output)
            let src = max(scale * (Float(dst) + 0.5) - 0.5, 0)
            let i0 = min(Int(src.rounded(.down)), input - 1)
            let l1 = min(max(src - Float(i0), 0), 1)
            return (i0, i0 + (i0 < input - 1 ? 1 : 0), 1 - l1, l1)
        }
    }
    let ty = taps(height, outHeight, rows), tx = taps(width, outWidth, cols)
    var out = [Float](repeating: 0, count: rows.count * cols.count)
    for (oy, (y0, y1, h0, h1)) in ty.enumerated() {
        for (ox, (x0, x1, w0, w1)) in tx.enumerated() {
            var t0 = inp[y0 * width + x0] * w0; t0 += inp[y0 * width + x1] * w1
            var t1 = inp[y1 * width + x0] * w0; t1 += inp[y1 * width + x1] * w1
            var o = t0 * h0; o += t1 * h1
            out[oy * cols.count + ox] = o
        }
    }
    return out
}

/// torchvision's `paste_masks_in_image` (padding 1): each M×M mask is padded by one zero pixel
/// (`expand_masks`: scale (M + 2)/M), its box widened about its centre by that scale
/// (`expand_boxes`, Float) and truncated to integers, the padded mask resized bilinearly to the
/// box's (x2 − x1 + 1)×(y2 − y1 + 1) pixels (at least 1) and written into a zero image where the
/// box lies inside it. Forward only: the pasted masks are evaluation output.
/// - Parameters:
///   - out: (K, imageHeight, imageWidth), overwritten.
///   - masks: (K, M, M) mask probabilities.
///   - boxes: (K, 4) as (x1, y1, x2, y2) in the image's pixels.
///   - count: K.
///   - side: M.
public func pasteMasksInImage(_ out: UnsafeMutablePointer<Float>, masks: UnsafePointer<Float>, boxes: UnsafePointer<Float>,
                              count: Int, side M: Int, imageHeight H: Int, imageWidth W: Int) {
    let P = M + 2
    let scale = Float(Double(P) / Double(M))
    Parallel.forEach(count) { k in
        var padded = [Float](repeating: 0, count: P * P)
        for y in 0..<M { for x in 0..<M { padded[(y + 1) * P + x + 1] = masks[(k * M + y) * M + x] } }
        let b = boxes + 4 * k
        var wHalf = (b[2] - b[0]) * 0.5, hHalf = (b[3] - b[1]) * 0.5
        let xc = (b[2] + b[0]) * 0.5, yc = (b[3] + b[1]) * 0.5
        wHalf *= scale; hHalf *= scale
        // `.to(torch.int64)` truncates toward zero; out-of-range values are clamped here instead
        // of being undefined.
        func int64(_ v: Float) -> Int { v.isNaN ? 0 : Int(max(min(v, 1e15), -1e15).rounded(.towardZero)) }
        let (x0, y0, x1, y1) = (int64(xc - wHalf), int64(yc - hHalf), int64(xc + wHalf), int64(yc + hHalf))
        let w = max(x1 - x0 + 1, 1), h = max(y1 - y0 + 1, 1)
        let image = out + k * H * W
        image.update(repeating: 0, count: H * W)
        let (ya, yb, xa, xb) = (max(y0, 0), min(y1 + 1, H), max(x0, 0), min(x1 + 1, W))
        guard yb > ya, xb > xa else { return }
        // Only the part of the resized mask that lands in the image is computed.
        let (rows, cols) = ((ya - y0)..<(yb - y0), (xa - x0)..<(xb - x0))
        let resized = padded.withUnsafeBufferPointer {
            bilinearResize($0.baseAddress!, height: P, width: P, outHeight: h, outWidth: w, rows: rows, cols: cols)
        }
        for y in ya..<yb { for x in xa..<xb { image[y * W + x] = resized[(y - ya) * cols.count + (x - xa)] } }
    }
}
