/// One operation of torchvision's AutoAugment / RandAugment, with its magnitude table.
///
/// `apply` is torchvision's `autoaugment._apply_op(img, name, magnitude, NEAREST, fill=None)` on a
/// PIL image (what the reference's transforms receive): the magnitude is the float the table gives (already negated for signed ops),
/// converted as `_apply_op` converts it (`1 + m` for the enhancers, `int(m)` for translate and
/// posterize, `degrees(atan(m))` for shear).
public enum AugmentOp: String, CaseIterable, Sendable {
    case identity = "Identity"
    case shearX = "ShearX", shearY = "ShearY", translateX = "TranslateX", translateY = "TranslateY"
    case rotate = "Rotate"
    case brightness = "Brightness", color = "Color", contrast = "Contrast", sharpness = "Sharpness"
    case posterize = "Posterize", solarize = "Solarize", autoContrast = "AutoContrast", equalize = "Equalize"
    case invert = "Invert"

    /// RandAugment's 14 operations in torchvision's `_augmentation_space` order (the op draw indexes it).
    public static let randAugmentSpace: [AugmentOp] = [
        .identity, .shearX, .shearY, .translateX, .translateY, .rotate, .brightness, .color, .contrast,
        .sharpness, .posterize, .solarize, .autoContrast, .equalize,
    ]

    /// Whether a random sign is applied to the magnitude (negated with probability 0.5).
    public var signed: Bool {
        switch self {
        case .shearX, .shearY, .translateX, .translateY, .rotate, .brightness, .color, .contrast, .sharpness: return true
        default: return false
        }
    }

    /// torchvision's magnitude for `bin` of a `bins`-bin table on an image of `height × width`
    /// (0 for the operations without a magnitude). Tables are float32 `linspace`s, as in
    /// `_augmentation_space`: shear 0…0.3, translate 0…150/331·size, rotate 0…30°, the enhancers
    /// 0…0.9, solarize 255…0, posterize `8 − round(bin / ((bins − 1) / 4))` bits.
    public func magnitude(bin: Int, bins: Int, height: Int, width: Int) -> Double {
        precondition(bins >= 2 && bin >= 0 && bin < bins, "magnitude bin \(bin) of \(bins)")
        switch self {
        case .shearX, .shearY: return Double(AugmentOp.linspace(0, 0.3, bins, bin))
        case .translateX: return Double(AugmentOp.linspace(0, 150.0 / 331.0 * Double(width), bins, bin))
        case .translateY: return Double(AugmentOp.linspace(0, 150.0 / 331.0 * Double(height), bins, bin))
        case .rotate: return Double(AugmentOp.linspace(0, 30, bins, bin))
        case .brightness, .color, .contrast, .sharpness: return Double(AugmentOp.linspace(0, 0.9, bins, bin))
        case .posterize:
            let q = Float(bin) / Float(Double(bins - 1) / 4)
            return Double(8 - Int(q.rounded(.toNearestOrEven)))
        case .solarize: return Double(AugmentOp.linspace(255, 0, bins, bin))
        case .identity, .autoContrast, .equalize, .invert: return 0
        }
    }

    /// Element `i` of `torch.linspace(start, end, steps)` in float32 as PyTorch's CPU kernel
    /// computes it: `step = (end − start) / (steps − 1)`, then `start + step·i` below the halfway
    /// index `steps / 2` and `end − step·(steps − 1 − i)` from it on, each a fused multiply-add
    /// (checked against torch on every table of the fixtures).
    static func linspace(_ start: Double, _ end: Double, _ steps: Int, _ i: Int) -> Float {
        let s = Float(start), e = Float(end)
        let step = (e - s) / Float(steps - 1)
        return i < steps / 2 ? s.addingProduct(step, Float(i)) : e.addingProduct(-step, Float(steps - i - 1))
    }

    /// Applies the operation at `magnitude` (signed, as `_apply_op` receives it).
    /// - Parameters:
    ///   - out: `(height, width, channels)` bytes; must not overlap `inp`.
    ///   - inp: `(height, width, channels)` bytes, channels 1 or 3.
    public func apply(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                      height: Int, width: Int, channels: Int, magnitude m: Double) {
        let pixels = height * width, n = pixels * channels
        switch self {
        case .identity: out.update(from: inp, count: n)
        case .shearX:
            AffineOps.transform(out, inp, height: height, width: width, channels: channels, matrix: AffineOps.shearXMatrix(m))
        case .shearY:
            AffineOps.transform(out, inp, height: height, width: width, channels: channels, matrix: AffineOps.shearYMatrix(m))
        case .translateX:
            AffineOps.transform(out, inp, height: height, width: width, channels: channels,
                                matrix: AffineOps.translateMatrix(dx: Int(m), dy: 0, height: height, width: width))
        case .translateY:
            AffineOps.transform(out, inp, height: height, width: width, channels: channels,
                                matrix: AffineOps.translateMatrix(dx: 0, dy: Int(m), height: height, width: width))
        case .rotate:
            AffineOps.rotate(out, inp, height: height, width: width, channels: channels, angle: m)
        case .brightness: ImageOps.brightness(out, inp, count: n, factor: 1.0 + m)
        case .color: ImageOps.color(out, inp, pixels: pixels, channels: channels, factor: 1.0 + m)
        case .contrast: ImageOps.contrast(out, inp, pixels: pixels, channels: channels, factor: 1.0 + m)
        case .sharpness: ImageOps.sharpness(out, inp, height: height, width: width, channels: channels, factor: 1.0 + m)
        case .posterize: ImageOps.posterize(out, inp, count: n, bits: Int(m))
        case .solarize: ImageOps.solarize(out, inp, count: n, threshold: m)
        case .autoContrast: ImageOps.autocontrast(out, inp, pixels: pixels, channels: channels)
        case .equalize: ImageOps.equalize(out, inp, pixels: pixels, channels: channels)
        case .invert: ImageOps.invert(out, inp, count: n)
        }
    }
}
