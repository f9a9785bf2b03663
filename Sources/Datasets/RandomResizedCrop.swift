import Engine
import Foundation

/// torchvision's `RandomResizedCrop(size, scale=(0.08, 1), ratio=(3/4, 4/3))` box choice and
/// `Resize(s)` (shorter side) sizing, for ImageNet-style pipelines.
public enum RandomResizedCrop {
    /// A crop box in input pixels.
    public struct Box: Equatable, Sendable {
        public var top: Int, left: Int, height: Int, width: Int
        public init(top: Int, left: Int, height: Int, width: Int) {
            self.top = top; self.left = left; self.height = height; self.width = width
        }
    }

    public static let scale = (0.08, 1.0)
    public static let ratio = (3.0 / 4.0, 4.0 / 3.0)
    /// First draw of attempt `a` is `firstDraw + 4a`: area fraction, log aspect ratio, top, left.
    public static let firstDraw: UInt64 = 32

    /// `RandomResizedCrop.get_params`: up to 10 attempts of a random area fraction in
    /// `scale` and a log-uniform aspect ratio in `ratio`, `w = round(√(area·r))`,
    /// `h = round(√(area / r))` (half to even, as Python's `round`); the first box that fits is
    /// placed uniformly. If none fits: the largest centred box whose ratio is clamped into `ratio`.
    ///
    /// Draws of attempt `a` (`a < 10`), in `rng`: `32 + 4a` the area fraction (`uniform`),
    /// `33 + 4a` the log ratio (`uniform`), `34 + 4a` the top (`below(H − h + 1)`), `35 + 4a`
    /// the left (`below(W − w + 1)`).
    /// - Parameters:
    ///   - height, width: input size.
    ///   - rng: the sample's stream.
    /// - Returns: the crop box.
    public static func box(height: Int, width: Int, rng: Philox) -> Box {
        let area = Double(height * width)
        let logLo = log(ratio.0), logHi = log(ratio.1)
        for a in 0..<UInt64(10) {
            let d = firstDraw + 4 * a
            let target = area * (scale.0 + (scale.1 - scale.0) * rng.uniform(d))
            let aspect = exp(logLo + (logHi - logLo) * rng.uniform(d + 1))
            let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= width && h > 0 && h <= height {
                return Box(top: rng.below(height - h + 1, d + 2), left: rng.below(width - w + 1, d + 3), height: h, width: w)
            }
        }
        return fallback(height: height, width: width)
    }

    /// The centred box torchvision uses when no attempt fits.
    public static func fallback(height: Int, width: Int) -> Box {
        let inRatio = Double(width) / Double(height)
        var w = width, h = height
        if inRatio < ratio.0 {
            h = Int((Double(w) / ratio.0).rounded(.toNearestOrEven))
        } else if inRatio > ratio.1 {
            w = Int((Double(h) * ratio.1).rounded(.toNearestOrEven))
        }
        return Box(top: (height - h) / 2, left: (width - w) / 2, height: h, width: w)
    }

    /// torchvision `Resize(s)` with an int: the shorter side becomes `s`, the longer
    /// `int(s · long / short)`.
    /// - Returns: the resized `(height, width)`.
    public static func shorterSide(_ s: Int, height: Int, width: Int) -> (height: Int, width: Int) {
        if height <= width { return (s, Int(Double(s * width) / Double(height))) }
        return (Int(Double(s * height) / Double(width)), s)
    }
}
