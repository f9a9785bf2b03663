// Shared geometry and SIMD helpers of the per-channel KAN convolutions.
//
// A KAN convolution applies ONE scalar-output KAN to every k×k patch of every channel
// independently (zero padding, nn.Unfold order: tap i = kh·k + kw). The output keeps the
// channel count: (N, H, W, C) → (N, Ho, Wo, C).

/// Sizes of a per-channel KAN convolution. Input (N, H, W, C), output (N, Ho, Wo, C).
public struct KANConvGeometry: Equatable, Sendable {
    public let n, h, w, c: Int
    public let kernel, stride, padding: Int
    public let ho, wo: Int
    /// k·k.
    public var taps: Int { kernel * kernel }

    /// - Throws: `EngineError.shapeMismatch` (named `op`) unless `shape` is (N, H, W, C) with a
    ///   non-empty output.
    public init(op: String, shape: [Int], kernel: Int, stride: Int, padding: Int) throws {
        guard shape.count == 4, shape.allSatisfy({ $0 > 0 }) else {
            throw EngineError.shapeMismatch(op: op, detail: "expected input (N, H, W, C), got \(shapeString(shape))")
        }
        (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        (self.kernel, self.stride, self.padding) = (kernel, stride, padding)
        let hp = h + 2 * padding - kernel, wp = w + 2 * padding - kernel
        guard hp >= 0, wp >= 0 else {
            throw EngineError.shapeMismatch(op: op, detail: "input \(shapeString(shape)) is smaller than the \(kernel)×\(kernel) kernel with padding \(padding)")
        }
        (ho, wo) = (hp / stride + 1, wp / stride + 1)
    }

    public var outputShape: [Int] { [n, ho, wo, c] }

    /// Taps of output pixel (b, oh, ow) that fall inside the input.
    /// - Parameters:
    ///   - tap: (taps) receives the tap index i = kh·k + kw of each valid tap.
    ///   - pix: (taps) receives the input pixel index (b·H + ih)·W + iw of each valid tap.
    /// - Returns: the number of valid taps.
    @inline(__always)
    func inputTaps(b: Int, oh: Int, ow: Int, _ tap: UnsafeMutablePointer<Int>, _ pix: UnsafeMutablePointer<Int>) -> Int {
        var cnt = 0
        for kh in 0..<kernel {
            let ih = oh * stride - padding + kh
            if ih < 0 || ih >= h { continue }
            for kw in 0..<kernel {
                let iw = ow * stride - padding + kw
                if iw < 0 || iw >= w { continue }
                tap[cnt] = kh * kernel + kw
                pix[cnt] = (b * h + ih) * w + iw
                cnt += 1
            }
        }
        return cnt
    }

    /// Output pixels that read input pixel (b, ih, iw), and through which tap.
    /// - Parameters:
    ///   - tap: (taps) receives the tap index of each use.
    ///   - pix: (taps) receives the output pixel index (b·Ho + oh)·Wo + ow.
    /// - Returns: the number of uses.
    @inline(__always)
    func outputUses(b: Int, ih: Int, iw: Int, _ tap: UnsafeMutablePointer<Int>, _ pix: UnsafeMutablePointer<Int>) -> Int {
        var cnt = 0
        for kh in 0..<kernel {
            let nh = ih + padding - kh
            if nh < 0 || nh % stride != 0 || nh / stride >= ho { continue }
            let oh = nh / stride
            for kw in 0..<kernel {
                let nw = iw + padding - kw
                if nw < 0 || nw % stride != 0 || nw / stride >= wo { continue }
                tap[cnt] = kh * kernel + kw
                pix[cnt] = (b * ho + oh) * wo + nw / stride
                cnt += 1
            }
        }
        return cnt
    }

    /// Whether tap i of output pixel (oh, ow) falls in the zero padding.
    @inline(__always)
    func isPadding(oh: Int, ow: Int, tap i: Int) -> Bool {
        let ih = oh * stride - padding + i / kernel, iw = ow * stride - padding + i % kernel
        return ih < 0 || ih >= h || iw < 0 || iw >= w
    }
}
