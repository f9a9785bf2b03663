import Engine
import Foundation

/// Plain Double reference implementations (forward and backward) of the pointwise ops, written
/// straight from the math for tests: no chunking, no SIMD, no shortcuts. Layouts as in the
/// engine: (R, C) rows × channels for BatchNorm, NHWC for convolutions, (N, K) for losses.
public enum PointwiseReference {
    // MARK: BatchNorm

    /// Train-mode BatchNorm: `y = γ·(x − μ)/sqrt(σ² + eps) + β` with batch μ and biased σ².
    /// - Parameters: x (R, C); weight, bias (C).
    /// - Returns: y (R, C), mean (C), biased variance (C).
    public static func batchNormForward(x: [Double], channels c: Int, weight: [Double], bias: [Double],
                                        eps: Double) -> (y: [Double], mean: [Double], variance: [Double]) {
        let r = x.count / c
        var mean = [Double](repeating: 0, count: c), variance = mean
        for i in 0..<r { for j in 0..<c { mean[j] += x[i * c + j] } }
        for j in 0..<c { mean[j] /= Double(r) }
        for i in 0..<r { for j in 0..<c { let d = x[i * c + j] - mean[j]; variance[j] += d * d } }
        for j in 0..<c { variance[j] /= Double(r) }
        var y = x
        for i in 0..<r { for j in 0..<c {
            y[i * c + j] = weight[j] * (x[i * c + j] - mean[j]) / (variance[j] + eps).squareRoot() + bias[j]
        } }
        return (y, mean, variance)
    }

    /// Eval-mode BatchNorm with given running statistics.
    public static func batchNormEval(x: [Double], channels c: Int, weight: [Double], bias: [Double],
                                     runningMean: [Double], runningVar: [Double], eps: Double) -> [Double] {
        x.indices.map { i in
            let j = i % c
            return weight[j] * (x[i] - runningMean[j]) / (runningVar[j] + eps).squareRoot() + bias[j]
        }
    }

    /// Train-mode BatchNorm backward through the batch statistics.
    /// - Returns: dx (R, C), dweight (C), dbias (C).
    public static func batchNormBackward(dy: [Double], x: [Double], channels c: Int, weight: [Double],
                                         eps: Double) -> (dx: [Double], dweight: [Double], dbias: [Double]) {
        let r = x.count / c, n = Double(r)
        let (_, mean, variance) = batchNormForward(x: x, channels: c, weight: weight,
                                                   bias: [Double](repeating: 0, count: c), eps: eps)
        var dweight = [Double](repeating: 0, count: c), dbias = dweight
        var dx = x
        for j in 0..<c {
            let istd = 1 / (variance[j] + eps).squareRoot()
            var sdy = 0.0, sdyxh = 0.0
            for i in 0..<r {
                let xh = (x[i * c + j] - mean[j]) * istd
                sdy += dy[i * c + j]; sdyxh += dy[i * c + j] * xh
            }
            dbias[j] = sdy; dweight[j] = sdyxh
            for i in 0..<r {
                let xh = (x[i * c + j] - mean[j]) * istd
                dx[i * c + j] = weight[j] * istd * (dy[i * c + j] - sdy / n - xh * sdyxh / n)
            }
        }
        return (dx, dweight, dbias)
    }

    // MARK: Activations

    public enum Activation: CaseIterable, Sendable { case relu, silu, sigmoid, tanh }

    /// y = act(x), elementwise.
    public static func activationForward(_ a: Activation, _ x: [Double]) -> [Double] {
        x.map { v in
            switch a {
            case .relu: return max(v, 0)
            case .silu: return v / (1 + Foundation.exp(-v))
            case .sigmoid: return 1 / (1 + Foundation.exp(-v))
            case .tanh: return Foundation.tanh(v)
            }
        }
    }

    /// dx = dy · act'(x).
    public static func activationBackward(_ a: Activation, _ x: [Double], _ dy: [Double]) -> [Double] {
        zip(x, dy).map { v, g in
            let s = 1 / (1 + Foundation.exp(-v))
            switch a {
            case .relu: return v > 0 ? g : 0
            case .silu: return g * (s + v * s * (1 - s))
            case .sigmoid: return g * s * (1 - s)
            case .tanh: let t = Foundation.tanh(v); return g * (1 - t * t)
            }
        }
    }

    // MARK: Channel multiply (squeeze-excitation)

    /// y[n,p,c] = x[n,p,c]·s[n,c] for x (N, P, C), s (N, C).
    public static func channelMulForward(x: [Double], s: [Double], n: Int, c: Int) -> [Double] {
        let p = x.count / (n * c)
        return x.indices.map { i in x[i] * s[(i / (p * c)) * c + i % c] }
    }

    /// dx = dy·s, ds[n,c] = Σ_p dy·x.
    public static func channelMulBackward(dy: [Double], x: [Double], s: [Double], n: Int, c: Int) -> (dx: [Double], ds: [Double]) {
        let p = x.count / (n * c)
        var ds = [Double](repeating: 0, count: n * c)
        var dx = x
        for i in x.indices {
            let si = (i / (p * c)) * c + i % c
            dx[i] = dy[i] * s[si]
            ds[si] += dy[i] * x[i]
        }
        return (dx, ds)
    }

    // MARK: Chebyshev KAN convolution

    /// Chebyshev polynomials T_0..T_degree at t.
    public static func chebyshev(_ t: Double, degree: Int) -> [Double] {
        var tn = [1.0, t]
        while tn.count <= degree { tn.append(2 * t * tn[tn.count - 1] - tn[tn.count - 2]) }
        return Array(tn.prefix(degree + 1))
    }

    /// Patch value of input (N, H, W, C) at (b, ih, iw, ch), zero outside.
    private static func at(_ x: [Double], _ s: (n: Int, h: Int, w: Int, c: Int), _ b: Int, _ ih: Int, _ iw: Int, _ ch: Int) -> Double? {
        (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) ? nil : x[((b * s.h + ih) * s.w + iw) * s.c + ch]
    }

    /// Per patch: `y = Σ_i base[i]·p_i + Σ_i Σ_n cheb[i,n]·scaler[i]·T_n(tanh p_i)`, p = unfolded patch (0 in padding).
    /// - Parameters: x (N, H, W, C); base (K); cheb (K, D+1); scaler (K).
    /// - Returns: y (N, Ho, Wo, C).
    public static func chebyshevKANConvForward(x: [Double], shape s: (n: Int, h: Int, w: Int, c: Int), base: [Double],
                                               cheb: [Double], scaler: [Double], kernel k: Int, stride: Int,
                                               padding: Int, degree: Int) -> [Double] {
        let ho = (s.h + 2 * padding - k) / stride + 1, wo = (s.w + 2 * padding - k) / stride + 1
        var y = [Double](repeating: 0, count: s.n * ho * wo * s.c)
        for b in 0..<s.n { for oh in 0..<ho { for ow in 0..<wo { for ch in 0..<s.c {
            var acc = 0.0
            for kh in 0..<k { for kw in 0..<k {
                let i = kh * k + kw
                let p = at(x, s, b, oh * stride - padding + kh, ow * stride - padding + kw, ch) ?? 0
                let tn = chebyshev(Foundation.tanh(p), degree: degree)
                acc += base[i] * p
                for n in 0...degree { acc += cheb[i * (degree + 1) + n] * scaler[i] * tn[n] }
            } }
            y[((b * ho + oh) * wo + ow) * s.c + ch] = acc
        } } } }
        return y
    }

    /// Backward of `chebyshevKANConvForward` by the chain rule per patch:
    /// dT_n/dp = T_n'(t)·(1 − t²), T_n' from differentiating the recurrence.
    /// - Returns: dx (N, H, W, C), dbase (K), dcheb (K, D+1), dscaler (K).
    public static func chebyshevKANConvBackward(dy: [Double], x: [Double], shape s: (n: Int, h: Int, w: Int, c: Int),
                                                base: [Double], cheb: [Double], scaler: [Double], kernel k: Int,
                                                stride: Int, padding: Int, degree: Int)
        -> (dx: [Double], dbase: [Double], dcheb: [Double], dscaler: [Double]) {
        let ho = (s.h + 2 * padding - k) / stride + 1, wo = (s.w + 2 * padding - k) / stride + 1
        let d1 = degree + 1
        var dx = [Double](repeating: 0, count: x.count)
        var dbase = [Double](repeating: 0, count: k * k), dscaler = dbase
        var dcheb = [Double](repeating: 0, count: k * k * d1)
        for b in 0..<s.n { for oh in 0..<ho { for ow in 0..<wo { for ch in 0..<s.c {
            let g = dy[((b * ho + oh) * wo + ow) * s.c + ch]
            for kh in 0..<k { for kw in 0..<k {
                let i = kh * k + kw
                let (ih, iw) = (oh * stride - padding + kh, ow * stride - padding + kw)
                let p = at(x, s, b, ih, iw, ch) ?? 0
                let t = Foundation.tanh(p)
                // T_n and dT_n/dt by the recurrence.
                var tn = [1.0, t], dtn = [0.0, 1.0]
                while tn.count <= degree {
                    let m = tn.count
                    tn.append(2 * t * tn[m - 1] - tn[m - 2])
                    dtn.append(2 * tn[m - 1] + 2 * t * dtn[m - 1] - dtn[m - 2])
                }
                dbase[i] += g * p
                var dp = base[i]
                for n in 0...degree {
                    let w = cheb[i * d1 + n]
                    dcheb[i * d1 + n] += g * scaler[i] * tn[n]
                    dscaler[i] += g * w * tn[n]
                    dp += w * scaler[i] * dtn[n] * (1 - t * t)
                }
                if at(x, s, b, ih, iw, ch) != nil { dx[((b * s.h + ih) * s.w + iw) * s.c + ch] += g * dp }
            } }
        } } } }
        return (dx, dbase, dcheb, dscaler)
    }

    // MARK: Cross-entropy

    /// Mean over N of `−Σ_k q_k log softmax(z)_k` with `q = (1 − ε)·target + ε/K`.
    /// - Parameters: logits (N, K); target (N, K) distribution (one-hot for labels).
    /// - Returns: loss and d(loss)/d(logits) (N, K).
    public static func softmaxCrossEntropy(logits: [Double], target: [Double], n: Int, k: Int,
                                           labelSmoothing eps: Double) -> (loss: Double, dlogits: [Double]) {
        var loss = 0.0
        var dz = logits
        for r in 0..<n {
            let z = Array(logits[(r * k)..<((r + 1) * k)])
            let m = z.max()!
            let lse = m + Foundation.log(z.map { Foundation.exp($0 - m) }.reduce(0, +))
            let q = (0..<k).map { (1 - eps) * target[r * k + $0] + eps / Double(k) }
            let sumQ = q.reduce(0, +)
            for j in 0..<k {
                loss -= q[j] * (z[j] - lse)
                dz[r * k + j] = (Foundation.exp(z[j] - lse) * sumQ - q[j]) / Double(n)
            }
        }
        return (loss / Double(n), dz)
    }

    /// One-hot (N, K) rows for labels.
    public static func oneHot(_ labels: [Int], classes k: Int) -> [Double] {
        var t = [Double](repeating: 0, count: labels.count * k)
        for (r, l) in labels.enumerated() { t[r * k + l] = 1 }
        return t
    }
}
