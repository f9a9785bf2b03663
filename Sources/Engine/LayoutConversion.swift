/// Conversions between PyTorch's NCHW and the engine's NHWC activation layouts.
public enum LayoutConversion {
    /// NCHW `(n, c, h, w)` values → NHWC tensor.
    public static func nhwc(fromNCHW x: UnsafeBufferPointer<Float>, n: Int, c: Int, h: Int, w: Int) -> Tensor {
        precondition(x.count == n * c * h * w, "nhwc(fromNCHW:): \(x.count) values for [\(n), \(c), \(h), \(w)]")
        let t = Tensor(uninitialized: [n, h, w, c])
        let hw = h * w
        for b in 0..<n { for ch in 0..<c {
            let src = x.baseAddress! + (b * c + ch) * hw
            let dst = t.data + b * hw * c + ch
            for i in 0..<hw { dst[i * c] = src[i] }
        } }
        return t
    }

    public static func nhwc(fromNCHW x: [Float], shape s: [Int]) -> Tensor {
        x.withUnsafeBufferPointer { nhwc(fromNCHW: $0, n: s[0], c: s[1], h: s[2], w: s[3]) }
    }

    /// NHWC tensor → NCHW values.
    public static func nchw(_ t: Tensor) -> [Float] {
        precondition(t.rank == 4, "nchw(_:) expects a rank-4 NHWC tensor, got \(shapeString(t.shape))")
        let (n, h, w, c) = (t.shape[0], t.shape[1], t.shape[2], t.shape[3])
        var y = [Float](repeating: 0, count: t.count)
        let hw = h * w
        y.withUnsafeMutableBufferPointer { out in
            for b in 0..<n { for ch in 0..<c {
                let dst = out.baseAddress! + (b * c + ch) * hw
                let src = t.data + b * hw * c + ch
                for i in 0..<hw { dst[i] = src[i * c] }
            } }
        }
        return y
    }
}
