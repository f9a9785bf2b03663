import Engine
/// Plain Double reference implementations of the convolution-family ops: direct loops, no
/// im2col, no BLAS, no threads. Tests check them by finite differences and then check the fast
/// Float kernels against them. Layouts are the engine's: NHWC activations, OHWI conv weights.
public enum ReferenceConv {
    /// Direct convolution.
    /// - Parameters:
    ///   - x: (N, H, W, C).
    ///   - w: (O, k, k, Cg).
    ///   - b: (O) or nil.
    /// - Returns: (N, Ho, Wo, O).
    public static func conv2dForward(x: [Double], w: [Double], b: [Double]?, _ g: Conv2dGeometry) -> [Double] {
        let (H, W, C, O, k, s, p) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride, g.padding)
        let (Ho, Wo, Cg, Og) = (g.outHeight, g.outWidth, g.groupInChannels, g.groupOutChannels)
        var y = [Double](repeating: 0, count: g.batch * Ho * Wo * O)
        for n in 0..<g.batch { for oh in 0..<Ho { for ow in 0..<Wo { for o in 0..<O {
            var acc = b?[o] ?? 0
            let c0 = (o / Og) * Cg
            for kh in 0..<k { for kw in 0..<k {
                let ih = oh * s - p + kh, iw = ow * s - p + kw
                if ih < 0 || ih >= H || iw < 0 || iw >= W { continue }
                for c in 0..<Cg {
                    acc += x[((n * H + ih) * W + iw) * C + c0 + c] * w[((o * k + kh) * k + kw) * Cg + c]
                }
            } }
            y[((n * Ho + oh) * Wo + ow) * O + o] = acc
        } } } }
        return y
    }

    /// Gradients of `conv2dForward` for upstream gradient `dy` (N, Ho, Wo, O).
    /// - Returns: dx (N, H, W, C), dw (O, k, k, Cg), db (O).
    public static func conv2dBackward(dy: [Double], x: [Double], w: [Double], _ g: Conv2dGeometry)
        -> (dx: [Double], dw: [Double], db: [Double]) {
        let (H, W, C, O, k, s, p) = (g.height, g.width, g.inChannels, g.outChannels, g.kernel, g.stride, g.padding)
        let (Ho, Wo, Cg, Og) = (g.outHeight, g.outWidth, g.groupInChannels, g.groupOutChannels)
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: w.count)
        var db = [Double](repeating: 0, count: O)
        for n in 0..<g.batch { for oh in 0..<Ho { for ow in 0..<Wo { for o in 0..<O {
            let d = dy[((n * Ho + oh) * Wo + ow) * O + o]
            db[o] += d
            let c0 = (o / Og) * Cg
            for kh in 0..<k { for kw in 0..<k {
                let ih = oh * s - p + kh, iw = ow * s - p + kw
                if ih < 0 || ih >= H || iw < 0 || iw >= W { continue }
                for c in 0..<Cg {
                    let xi = ((n * H + ih) * W + iw) * C + c0 + c, wi = ((o * k + kh) * k + kw) * Cg + c
                    dx[xi] += d * w[wi]
                    dw[wi] += d * x[xi]
                }
            } }
        } } } }
        return (dx, dw, db)
    }

    /// `y = x·Wᵀ + b`.
    /// - Parameters:
    ///   - x: (N, I).
    ///   - w: (O, I).
    ///   - b: (O) or nil.
    /// - Returns: (N, O).
    public static func linearForward(x: [Double], w: [Double], b: [Double]?, batch: Int, inFeatures: Int, outFeatures: Int) -> [Double] {
        var y = [Double](repeating: 0, count: batch * outFeatures)
        for n in 0..<batch { for o in 0..<outFeatures {
            var acc = b?[o] ?? 0
            for i in 0..<inFeatures { acc += x[n * inFeatures + i] * w[o * inFeatures + i] }
            y[n * outFeatures + o] = acc
        } }
        return y
    }

    /// Gradients of `linearForward` for upstream gradient `dy` (N, O).
    /// - Returns: dx (N, I), dw (O, I), db (O).
    public static func linearBackward(dy: [Double], x: [Double], w: [Double], batch: Int, inFeatures: Int, outFeatures: Int)
        -> (dx: [Double], dw: [Double], db: [Double]) {
        var dx = [Double](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: w.count)
        var db = [Double](repeating: 0, count: outFeatures)
        for n in 0..<batch { for o in 0..<outFeatures {
            let d = dy[n * outFeatures + o]
            db[o] += d
            for i in 0..<inFeatures {
                dx[n * inFeatures + i] += d * w[o * inFeatures + i]
                dw[o * inFeatures + i] += d * x[n * inFeatures + i]
            }
        } }
        return (dx, dw, db)
    }
}
