import Engine
import Foundation

/// The training augmentation of the reference notebook's `load_weights` branch (22e50367,
/// `coco_transform`), with albumentations' semantics, then ImageNet normalisation:
///
///     HorizontalFlip(p=0.5) → RandomScale(scale_limit=0.1, p=0.3)
///     → ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.1, p=0.3)
///     → Normalize(ImageNet mean, std); boxes pascal_voc with min_visibility 0.3; masks follow the image
///
/// What is albumentations' and what is not:
/// - Flip: boxes `x1' = w − x2`, `x2' = w − x1` (through normalised coordinates, as
///   albumentations), image and masks mirrored: exact.
/// - Scale: factor uniform in [0.9, 1.1], new size `Int(h·s) × Int(w·s)` (albumentations'
///   `int()`), boxes scaled by the new/old size ratio per axis (its normalised coordinates),
///   masks resized nearest as OpenCV's `INTER_NEAREST` (`src = floor(dst · old/new)`): exact. The
///   image is resized bilinearly with OpenCV's half-pixel mapping in floating point; OpenCV's
///   11-bit fixed-point weights are not reproduced (a pixel may differ by one level).
/// - ColorJitter: factors uniform in [0.8, 1.2] (brightness, contrast, saturation) and
///   [−0.1, 0.1] (hue), applied in a random order, as albumentations 1.4 on uint8 images:
///   brightness and contrast as its lookup tables (truncating to uint8; contrast around the mean
///   of OpenCV's fixed-point grey), saturation as `addWeighted(img, f, grey, 1 − f)` rounded,
///   hue as a shift of OpenCV's 0–180 hue. The RGB↔HSV conversion is the textbook one in floating
///   point, not OpenCV's table-driven uint8 code (hue may differ by a level).
/// - min_visibility 0.3 drops boxes that the flip and the scale leave less than 30% visible;
///   neither cuts boxes, so it only drops a box that was already mostly outside the image (its
///   mask stays in albumentations, which does not filter masks; here the box, label and mask
///   are dropped together so the three stay aligned).
/// - Random draws: albumentations uses Python's `random`; rkan-repro draws from the Philox
///   stream it is given, a fixed number of draws per image (`drawsPerImage`), so the same seed
///   gives the same augmentation on any thread and after a restart. Same distributions, other
///   draws.
public enum NotebookAugment {
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    public static let std: [Float] = [0.229, 0.224, 0.225]
    /// Draws used per image: flip, scale (apply, factor), jitter (apply, 4 factors, 3 for the order).
    public static let drawsPerImage: UInt64 = 11

    /// An RGB image (HWC bytes) with its targets.
    public struct Sample: Sendable {
        public var width: Int
        public var height: Int
        public var pixels: [UInt8]
        public var target: NotebookTargets.Target
        public init(width: Int, height: Int, pixels: [UInt8], target: NotebookTargets.Target) {
            self.width = width; self.height = height; self.pixels = pixels; self.target = target
        }
    }

    /// What was drawn for one image.
    public struct Choice: Equatable, Sendable {
        public var flip: Bool
        public var scale: Double?
        /// brightness, contrast, saturation, hue factors and the order of the four (0…3).
        public var jitter: (factors: [Double], order: [Int])?
        public init(flip: Bool, scale: Double?, jitter: (factors: [Double], order: [Int])?) {
            self.flip = flip; self.scale = scale; self.jitter = jitter
        }
        public static func == (a: Choice, b: Choice) -> Bool {
            a.flip == b.flip && a.scale == b.scale && a.jitter?.factors == b.jitter?.factors && a.jitter?.order == b.jitter?.order
        }
    }

    /// The draws for image `index` of a stream: draws `index·drawsPerImage …` of `philox`.
    public static func choose(_ philox: Philox, index: UInt64) -> Choice {
        let d = index * drawsPerImage
        let flip = philox.uniform(d) < 0.5
        let scale: Double? = philox.uniform(d + 1) < 0.3 ? 0.9 + 0.2 * philox.uniform(d + 2) : nil
        var jitter: ([Double], [Int])?
        if philox.uniform(d + 3) < 0.3 {
            let f = [0.8 + 0.4 * philox.uniform(d + 4), 0.8 + 0.4 * philox.uniform(d + 5), 0.8 + 0.4 * philox.uniform(d + 6),
                     -0.1 + 0.2 * philox.uniform(d + 7)]
            var order = [0, 1, 2, 3]
            for (n, j) in [3, 2, 1].enumerated() { order.swapAt(j, philox.below(j + 1, d + 8 + UInt64(n))) }   // Fisher–Yates
            jitter = (f, order)
        }
        return Choice(flip: flip, scale: scale, jitter: jitter)
    }

    /// Applies `choice` to a sample (uint8 in, uint8 out; `normalize` follows).
    public static func apply(_ choice: Choice, to s: Sample) -> Sample {
        var s = s
        // Boxes travel in coordinates normalised by the input size, as albumentations keeps
        // them, and are scaled back by the output size at the end.
        let w0 = Double(s.width), h0 = Double(s.height)
        for k in 0..<s.target.count {
            s.target.boxes[4 * k] /= w0; s.target.boxes[4 * k + 2] /= w0
            s.target.boxes[4 * k + 1] /= h0; s.target.boxes[4 * k + 3] /= h0
        }
        if choice.flip { s = flip(s) }
        if let f = choice.scale { s = scale(s, f) }
        let w1 = Double(s.width), h1 = Double(s.height)
        for k in 0..<s.target.count {
            s.target.boxes[4 * k] *= w1; s.target.boxes[4 * k + 2] *= w1
            s.target.boxes[4 * k + 1] *= h1; s.target.boxes[4 * k + 3] *= h1
        }
        if let (factors, order) = choice.jitter {
            for op in order {
                switch op {
                case 0: s.pixels = brightness(s.pixels, factors[0])
                case 1: s.pixels = contrast(s.pixels, factors[1])
                case 2: s.pixels = saturation(s.pixels, factors[2])
                default: s.pixels = hue(s.pixels, factors[3])
                }
            }
        }
        return dropHidden(s)
    }

    /// `(pixel / 255 − mean) / std` per channel, HWC Float (the engine's NHWC layout).
    public static func normalize(_ pixels: [UInt8]) -> [Float] {
        var out = [Float](repeating: 0, count: pixels.count)
        for i in 0..<pixels.count {
            let c = i % 3
            out[i] = (Float(pixels[i]) / 255 - mean[c]) / std[c]
        }
        return out
    }

    // MARK: geometry

    static func flip(_ s: Sample) -> Sample {
        var o = s
        let w = s.width, h = s.height
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { o.pixels[(y * w + x) * 3 + c] = s.pixels[(y * w + (w - 1 - x)) * 3 + c] } } }
        let n = w * h
        for k in 0..<s.target.count {
            for y in 0..<h { for x in 0..<w { o.target.masks[k * n + y * w + x] = s.target.masks[k * n + y * w + (w - 1 - x)] } }
            o.target.boxes[4 * k] = 1 - s.target.boxes[4 * k + 2]     // normalised
            o.target.boxes[4 * k + 2] = 1 - s.target.boxes[4 * k]
        }
        return o
    }

    static func scale(_ s: Sample, _ f: Double) -> Sample {
        let w = s.width, h = s.height
        let nw = max(1, Int(Double(w) * f)), nh = max(1, Int(Double(h) * f))
        var o = s
        o.width = nw; o.height = nh; o.target.width = nw; o.target.height = nh
        // Bilinear, half-pixel centres (OpenCV INTER_LINEAR's mapping).
        o.pixels = [UInt8](repeating: 0, count: nw * nh * 3)
        // OpenCV's source step: 1 / (new/old).
        let sx = 1 / (Double(nw) / Double(w)), sy = 1 / (Double(nh) / Double(h))
        for y in 0..<nh {
            var fy = (Double(y) + 0.5) * sy - 0.5
            var y0 = Int(fy.rounded(.down))
            fy -= Double(y0)
            if y0 < 0 { y0 = 0; fy = 0 }
            let y1 = min(y0 + 1, h - 1)
            if y0 >= h - 1 { y0 = h - 1; fy = 0 }
            for x in 0..<nw {
                var fx = (Double(x) + 0.5) * sx - 0.5
                var x0 = Int(fx.rounded(.down))
                fx -= Double(x0)
                if x0 < 0 { x0 = 0; fx = 0 }
                let x1 = min(x0 + 1, w - 1)
                if x0 >= w - 1 { x0 = w - 1; fx = 0 }
                for c in 0..<3 {
                    let a = Double(s.pixels[(y0 * w + x0) * 3 + c]), b = Double(s.pixels[(y0 * w + x1) * 3 + c])
                    let p = Double(s.pixels[(y1 * w + x0) * 3 + c]), q = Double(s.pixels[(y1 * w + x1) * 3 + c])
                    let v = (a * (1 - fx) + b * fx) * (1 - fy) + (p * (1 - fx) + q * fx) * fy
                    o.pixels[(y * nw + x) * 3 + c] = UInt8(clamping: Int(v.rounded()))
                }
            }
        }
        // Masks: nearest, src = floor(dst · old/new).
        let n = w * h, nn = nw * nh
        o.target.masks = [UInt8](repeating: 0, count: s.target.count * nn)
        for k in 0..<s.target.count {
            for y in 0..<nh {
                let syi = min(Int((Double(y) * sy).rounded(.down)), h - 1)
                for x in 0..<nw {
                    let sxi = min(Int((Double(x) * sx).rounded(.down)), w - 1)
                    o.target.masks[k * nn + y * nw + x] = s.target.masks[k * n + syi * w + sxi]
                }
            }
        }
        return o
    }

    /// Drops boxes less than 30% inside the image (with their labels and masks); boxes in pixels.
    static func dropHidden(_ s: Sample) -> Sample {
        var o = s
        o.target.boxes = []; o.target.labels = []; o.target.masks = []; o.target.annotations = []
        let n = s.width * s.height
        for k in 0..<s.target.count {
            let b = Array(s.target.boxes[4 * k..<4 * k + 4])
            let area = (b[2] - b[0]) * (b[3] - b[1])
            let cx = max(0, min(b[2], Double(s.width)) - max(b[0], 0)), cy = max(0, min(b[3], Double(s.height)) - max(b[1], 0))
            if area > 0 && cx * cy / area < 0.3 { continue }
            o.target.boxes += b
            o.target.labels.append(s.target.labels[k])
            o.target.masks += s.target.masks[k * n..<(k + 1) * n]
            o.target.annotations.append(s.target.annotations[k])
        }
        return o
    }

    // MARK: colour (albumentations' uint8 paths)

    static func lut(_ pixels: [UInt8], _ table: [UInt8]) -> [UInt8] { pixels.map { table[Int($0)] } }

    static func brightness(_ p: [UInt8], _ f: Double) -> [UInt8] {
        lut(p, (0..<256).map { UInt8(min(max(Double($0) * f, 0), 255)) })
    }

    /// OpenCV's uint8 RGB → grey: `(R·4899 + G·9617 + B·1868 + 8192) >> 14`.
    static func grey(_ p: [UInt8], _ i: Int) -> Int {
        (Int(p[3 * i]) * 4899 + Int(p[3 * i + 1]) * 9617 + Int(p[3 * i + 2]) * 1868 + 8192) >> 14
    }

    static func contrast(_ p: [UInt8], _ f: Double) -> [UInt8] {
        if f == 1 { return p }
        let n = p.count / 3
        var sum = 0
        for i in 0..<n { sum += grey(p, i) }
        let m = n > 0 ? Double(sum) / Double(n) : 0
        return lut(p, (0..<256).map { v in
            // float32 table plus a scalar (numpy keeps float32).
            let x = Float(Double(v) * f) + Float(m * (1 - f))
            return UInt8(min(max(x, 0), 255))
        })
    }

    static func saturation(_ p: [UInt8], _ f: Double) -> [UInt8] {
        var o = p
        for i in 0..<(p.count / 3) {
            let g = Double(grey(p, i))
            for c in 0..<3 {
                o[3 * i + c] = UInt8(clamping: Int((Double(p[3 * i + c]) * f + g * (1 - f)).rounded(.toNearestOrEven)))
            }
        }
        return o
    }

    static func hue(_ p: [UInt8], _ f: Double) -> [UInt8] {
        if f == 0 { return p }
        // OpenCV's hue in 0…180 (2° a level); the shift as albumentations' table.
        let table: [Int] = (0..<256).map { v in
            var m = (Double(v) + 180 * f).truncatingRemainder(dividingBy: 180)
            if m < 0 { m += 180 }   // np.mod: the divisor's sign
            return Int(m.rounded(.towardZero))
        }
        var o = p
        for i in 0..<(p.count / 3) {
            let r = Double(p[3 * i]) / 255, g = Double(p[3 * i + 1]) / 255, b = Double(p[3 * i + 2]) / 255
            let v = max(r, g, b), mn = min(r, g, b), d = v - mn
            if d == 0 { continue }   // grey: hue has no effect
            let s = (255 * d / v).rounded() / 255   // OpenCV stores S as a byte
            var h: Double
            if v == r { h = 60 * (g - b) / d } else if v == g { h = 120 + 60 * (b - r) / d } else { h = 240 + 60 * (r - g) / d }
            if h < 0 { h += 360 }
            var h8 = Int((h / 2).rounded())
            if h8 >= 180 { h8 -= 180 }
            let shifted = table[h8]
            let hh = Double(shifted) * 2 / 60
            let sector = Int(hh.rounded(.down)) % 6, frac = hh - hh.rounded(.down)
            let pp = v * (1 - s), q = v * (1 - s * frac), t = v * (1 - s * (1 - frac))
            let (rr, gg, bb): (Double, Double, Double)
            switch sector {
            case 0: (rr, gg, bb) = (v, t, pp)
            case 1: (rr, gg, bb) = (q, v, pp)
            case 2: (rr, gg, bb) = (pp, v, t)
            case 3: (rr, gg, bb) = (pp, q, v)
            case 4: (rr, gg, bb) = (t, pp, v)
            default: (rr, gg, bb) = (v, pp, q)
            }
            o[3 * i] = UInt8(clamping: Int((rr * 255).rounded()))
            o[3 * i + 1] = UInt8(clamping: Int((gg * 255).rounded()))
            o[3 * i + 2] = UInt8(clamping: Int((bb * 255).rounded()))
        }
        return o
    }
}
