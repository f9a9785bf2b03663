import Engine
/// Plain Double reference implementations of the pooling ops (NHWC), written from PyTorch's
/// definitions window by window; see `ReferenceConv`.
public enum ReferencePooling {
    /// The window of output (oh, ow) clipped to the image, and its padded size (PyTorch clips
    /// the padded window to `H + p` first, which matters with `ceilMode`).
    static func window(_ g: Pool2dGeometry, _ oh: Int, _ ow: Int) -> (hs: Range<Int>, ws: Range<Int>, padded: Int) {
        let h0 = oh * g.stride - g.padding, w0 = ow * g.stride - g.padding
        let h1 = min(h0 + g.kernel, g.height + g.padding), w1 = min(w0 + g.kernel, g.width + g.padding)
        let hs = max(h0, 0)..<max(max(h0, 0), min(h1, g.height))
        let ws = max(w0, 0)..<max(max(w0, 0), min(w1, g.width))
        return (hs, ws, (h1 - h0) * (w1 - w0))
    }

    /// Max pooling: the first maximum in (ih, iw) order wins.
    /// - Returns: y (N, Ho, Wo, C) and, per output, the flat index of its argmax in x.
    public static func maxPool2dForward(x: [Double], _ g: Pool2dGeometry) -> (y: [Double], argmax: [Int]) {
        let (H, W, C, Ho, Wo) = (g.height, g.width, g.channels, g.outHeight, g.outWidth)
        var y = [Double](repeating: 0, count: g.batch * Ho * Wo * C), arg = [Int](repeating: -1, count: y.count)
        for n in 0..<g.batch { for oh in 0..<Ho { for ow in 0..<Wo { for c in 0..<C {
            let (hs, ws, _) = window(g, oh, ow)
            var best = -Double.infinity, at = -1
            for ih in hs { for iw in ws {
                let i = ((n * H + ih) * W + iw) * C + c
                if at < 0 || x[i] > best { best = x[i]; at = i }
            } }
            let o = ((n * Ho + oh) * Wo + ow) * C + c
            y[o] = best; arg[o] = at
        } } } }
        return (y, arg)
    }

    /// Gradient of max pooling: dy goes to the argmax.
    /// - Returns: dx (N, H, W, C).
    public static func maxPool2dBackward(dy: [Double], x: [Double], _ g: Pool2dGeometry) -> [Double] {
        let arg = maxPool2dForward(x: x, g).argmax
        var dx = [Double](repeating: 0, count: x.count)
        for o in 0..<dy.count { dx[arg[o]] += dy[o] }
        return dx
    }

    /// Average pooling with PyTorch's divisor rule.
    /// - Returns: y (N, Ho, Wo, C).
    public static func avgPool2dForward(x: [Double], _ g: Pool2dGeometry, countIncludePad: Bool) -> [Double] {
        let (H, W, C, Ho, Wo) = (g.height, g.width, g.channels, g.outHeight, g.outWidth)
        var y = [Double](repeating: 0, count: g.batch * Ho * Wo * C)
        for n in 0..<g.batch { for oh in 0..<Ho { for ow in 0..<Wo { for c in 0..<C {
            let (hs, ws, padded) = window(g, oh, ow)
            if hs.isEmpty || ws.isEmpty { continue }
            var sum = 0.0
            for ih in hs { for iw in ws { sum += x[((n * H + ih) * W + iw) * C + c] } }
            y[((n * Ho + oh) * Wo + ow) * C + c] = sum / Double(countIncludePad ? padded : hs.count * ws.count)
        } } } }
        return y
    }

    /// Gradient of average pooling.
    /// - Returns: dx (N, H, W, C).
    public static func avgPool2dBackward(dy: [Double], _ g: Pool2dGeometry, countIncludePad: Bool) -> [Double] {
        let (H, W, C, Ho, Wo) = (g.height, g.width, g.channels, g.outHeight, g.outWidth)
        var dx = [Double](repeating: 0, count: g.batch * H * W * C)
        for n in 0..<g.batch { for oh in 0..<Ho { for ow in 0..<Wo { for c in 0..<C {
            let (hs, ws, padded) = window(g, oh, ow)
            if hs.isEmpty || ws.isEmpty { continue }
            let d = dy[((n * Ho + oh) * Wo + ow) * C + c] / Double(countIncludePad ? padded : hs.count * ws.count)
            for ih in hs { for iw in ws { dx[((n * H + ih) * W + iw) * C + c] += d } }
        } } } }
        return dx
    }

    /// Mean over pixels: (N, H, W, C) → (N, C).
    public static func globalAvgPoolForward(x: [Double], batch: Int, pixels: Int, channels: Int) -> [Double] {
        var y = [Double](repeating: 0, count: batch * channels)
        for n in 0..<batch { for q in 0..<pixels { for c in 0..<channels { y[n * channels + c] += x[(n * pixels + q) * channels + c] } } }
        return y.map { $0 / Double(pixels) }
    }

    /// Gradient of the mean over pixels: dy (N, C) → dx (N, H, W, C).
    public static func globalAvgPoolBackward(dy: [Double], batch: Int, pixels: Int, channels: Int) -> [Double] {
        var dx = [Double](repeating: 0, count: batch * pixels * channels)
        for n in 0..<batch { for q in 0..<pixels { for c in 0..<channels {
            dx[(n * pixels + q) * channels + c] = dy[n * channels + c] / Double(pixels)
        } } }
        return dx
    }
}
