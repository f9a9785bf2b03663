@testable import Engine
import Foundation

/// Plain Double references of the detection ops (NHWC), written from torchvision's definitions
/// one output element at a time; the Float kernels are tested against them and they against
/// finite differences.
public enum ReferenceDetection {
    /// One bilinear sample of RoIAlign: four (pixel, weight) pairs, or nil outside the map.
    static func bilinear(y y0: Double, x x0: Double, height H: Int, width W: Int) -> [(Int, Double)]? {
        if y0 < -1 || y0 > Double(H) || x0 < -1 || x0 > Double(W) { return nil }
        var y = max(y0, 0), x = max(x0, 0)
        var yl = Int(y), xl = Int(x), yh = yl + 1, xh = xl + 1
        if yl >= H - 1 { yl = H - 1; yh = H - 1; y = Double(yl) }
        if xl >= W - 1 { xl = W - 1; xh = W - 1; x = Double(xl) }
        let ly = y - Double(yl), lx = x - Double(xl)
        return [(yl * W + xl, (1 - ly) * (1 - lx)), (yl * W + xh, (1 - ly) * lx),
                (yh * W + xl, ly * (1 - lx)), (yh * W + xh, ly * lx)]
    }

    /// For region k and cell (ph, pw): the (pixel, weight) terms of the cell's mean, over its samples.
    static func roiTerms(_ roi: ArraySlice<Double>, ph: Int, pw: Int, _ g: RoIAlignGeometry) -> (image: Int, terms: [(Int, Double)]) {
        let r = Array(roi), s = Double(g.spatialScale), off = g.aligned ? 0.5 : 0
        let (x1, y1) = (r[1] * s - off, r[2] * s - off)
        var (w, h) = (r[3] * s - off - x1, r[4] * s - off - y1)
        if !g.aligned { w = max(w, 1); h = max(h, 1) }
        let (bh, bw) = (h / Double(g.outHeight), w / Double(g.outWidth))
        let gh = g.samplingRatio > 0 ? g.samplingRatio : Int((h / Double(g.outHeight)).rounded(.up))
        let gw = g.samplingRatio > 0 ? g.samplingRatio : Int((w / Double(g.outWidth)).rounded(.up))
        let count = Double(max(gh * gw, 1))
        var terms: [(Int, Double)] = []
        for iy in 0..<gh { for ix in 0..<gw {
            let y = y1 + Double(ph) * bh + (Double(iy) + 0.5) * bh / Double(gh)
            let x = x1 + Double(pw) * bw + (Double(ix) + 0.5) * bw / Double(gw)
            for (p, wt) in bilinear(y: y, x: x, height: g.height, width: g.width) ?? [] { terms.append((p, wt / count)) }
        } }
        return (Int(r[0]), terms)
    }

    /// RoIAlign forward. - Returns: (K, P, Q, C).
    public static func roiAlignForward(x: [Double], rois: [Double], _ g: RoIAlignGeometry) -> [Double] {
        let (K, C, P, Q, HW) = (rois.count / 5, g.channels, g.outHeight, g.outWidth, g.height * g.width)
        var y = [Double](repeating: 0, count: K * P * Q * C)
        for k in 0..<K { for ph in 0..<P { for pw in 0..<Q {
            let (n, terms) = roiTerms(rois[(5 * k)..<(5 * k + 5)], ph: ph, pw: pw, g)
            for c in 0..<C {
                y[((k * P + ph) * Q + pw) * C + c] = terms.reduce(0) { $0 + $1.1 * x[(n * HW + $1.0) * C + c] }
            }
        } } }
        return y
    }

    /// RoIAlign gradient with respect to the features. - Returns: (N, H, W, C).
    public static func roiAlignBackward(dy: [Double], rois: [Double], _ g: RoIAlignGeometry) -> [Double] {
        let (K, C, P, Q, HW) = (rois.count / 5, g.channels, g.outHeight, g.outWidth, g.height * g.width)
        var dx = [Double](repeating: 0, count: g.batch * HW * C)
        for k in 0..<K { for ph in 0..<P { for pw in 0..<Q {
            let (n, terms) = roiTerms(rois[(5 * k)..<(5 * k + 5)], ph: ph, pw: pw, g)
            for c in 0..<C { for (p, w) in terms { dx[(n * HW + p) * C + c] += w * dy[((k * P + ph) * Q + pw) * C + c] } }
        } } }
        return dx
    }

    /// Nearest resize (PyTorch's source index rule). - Returns: (N, Ho, Wo, C).
    public static func nearestForward(x: [Double], batch: Int, height: Int, width: Int, channels C: Int, outHeight: Int, outWidth: Int) -> [Double] {
        var y = [Double](repeating: 0, count: batch * outHeight * outWidth * C)
        for n in 0..<batch { for oh in 0..<outHeight { for ow in 0..<outWidth { for c in 0..<C {
            let ih = nearestSourceIndex(oh, input: height, output: outHeight), iw = nearestSourceIndex(ow, input: width, output: outWidth)
            y[((n * outHeight + oh) * outWidth + ow) * C + c] = x[((n * height + ih) * width + iw) * C + c]
        } } } }
        return y
    }

    /// Gradient of the nearest resize. - Returns: (N, H, W, C).
    public static func nearestBackward(dy: [Double], batch: Int, height: Int, width: Int, channels C: Int, outHeight: Int, outWidth: Int) -> [Double] {
        var dx = [Double](repeating: 0, count: batch * height * width * C)
        for n in 0..<batch { for oh in 0..<outHeight { for ow in 0..<outWidth { for c in 0..<C {
            let ih = nearestSourceIndex(oh, input: height, output: outHeight), iw = nearestSourceIndex(ow, input: width, output: outWidth)
            dx[((n * height + ih) * width + iw) * C + c] += dy[((n * outHeight + oh) * outWidth + ow) * C + c]
        } } } }
        return dx
    }

    /// Transposed conv, kernel = stride k, weights in PyTorch order (C, O, k, k). - Returns: (N, H·k, W·k, O).
    public static func convTransposeForward(x: [Double], w: [Double], b: [Double]?, _ g: ConvTranspose2dGeometry) -> [Double] {
        let (k, C, O) = (g.kernel, g.inChannels, g.outChannels)
        var y = [Double](repeating: 0, count: g.outputShape.reduce(1, *))
        for n in 0..<g.batch { for oh in 0..<g.outHeight { for ow in 0..<g.outWidth { for o in 0..<O {
            let (h, i, wq, j) = (oh / k, oh % k, ow / k, ow % k)
            var s = b?[o] ?? 0
            for c in 0..<C { s += x[((n * g.height + h) * g.width + wq) * C + c] * w[((c * O + o) * k + i) * k + j] }
            y[((n * g.outHeight + oh) * g.outWidth + ow) * O + o] = s
        } } } }
        return y
    }

    /// Gradients of the transposed conv. - Returns: dx (N, H, W, C), dw (C, O, k, k), db (O).
    public static func convTransposeBackward(dy: [Double], x: [Double], w: [Double], _ g: ConvTranspose2dGeometry) -> (dx: [Double], dw: [Double], db: [Double]) {
        let (k, C, O) = (g.kernel, g.inChannels, g.outChannels)
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count), db = [Double](repeating: 0, count: O)
        for n in 0..<g.batch { for oh in 0..<g.outHeight { for ow in 0..<g.outWidth { for o in 0..<O {
            let (h, i, wq, j) = (oh / k, oh % k, ow / k, ow % k)
            let d = dy[((n * g.outHeight + oh) * g.outWidth + ow) * O + o]
            db[o] += d
            for c in 0..<C {
                let xi = ((n * g.height + h) * g.width + wq) * C + c, wi = ((c * O + o) * k + i) * k + j
                dx[xi] += d * w[wi]; dw[wi] += d * x[xi]
            }
        } } } }
        return (dx, dw, db)
    }

    /// Σ smooth_l1(p − t; β) / divisor.
    public static func smoothL1(pred: [Double], target: [Double], beta: Double, divisor: Double) -> Double {
        zip(pred, target).reduce(0) { s, pt in
            let z = abs(pt.0 - pt.1)
            return s + (z < beta ? 0.5 * z * z / beta : z - 0.5 * beta)
        } / divisor
    }

    /// d smoothL1 / d pred.
    public static func smoothL1Gradient(pred: [Double], target: [Double], beta: Double, divisor: Double) -> [Double] {
        zip(pred, target).map { p, t in
            let d = p - t
            return (d < -beta ? -1 : d > beta ? 1 : d / beta) / divisor
        }
    }

    /// mean −[y·log σ(x) + (1 − y)·log(1 − σ(x))].
    public static func bceWithLogits(logits: [Double], targets: [Double]) -> Double {
        zip(logits, targets).reduce(0) { s, xy in
            let (x, y) = xy, p = 1 / (1 + exp(-x))
            return s - (y * log(p) + (1 - y) * log(1 - p))
        } / Double(logits.count)
    }

    /// d BCE / d logits.
    public static func bceWithLogitsGradient(logits: [Double], targets: [Double]) -> [Double] {
        zip(logits, targets).map { x, y in (1 / (1 + exp(-x)) - y) / Double(logits.count) }
    }
}
