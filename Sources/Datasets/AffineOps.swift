import Foundation

/// The geometric operations of AutoAugment and RandAugment (shear, translate, rotate) on 8-bit
/// HWC images, as torchvision runs them on PIL images: nearest neighbour, fill 0, same size out
/// as in, byte for byte.
///
/// torchvision's `affine` on a PIL image builds the inverse matrix in double
/// (`_get_inverse_affine_matrix`, centre in pixel coordinates: `(0, 0)` for the shears of
/// `_apply_op`, the image centre `(W/2, H/2)` otherwise) and calls
/// `Image.transform(size, AFFINE, matrix, NEAREST, fillcolor=0)`; `rotate` calls PIL's
/// `Image.rotate`, which builds its own matrix. PIL (`ImagingTransformAffine`) then maps output
/// pixel (x, y) to input `(a·(x + ½) + b·(y + ½) + c, d·(x + ½) + e·(y + ½) + f)`:
/// - when `b = d = 0` (translations), in double with running sums (`ImagingScaleAffine`),
///   the source index `int(v)` (−1 below 0);
/// - otherwise in 16.16 fixed point (`affine_fixed`): each coefficient `floor(v·65536 + 0.5)`,
///   running integer sums, the source index `sum >> 16`.
/// Pixels whose source falls outside the image keep the fill (0).
public enum AffineOps {
    /// torchvision's `_get_inverse_affine_matrix(center, angle, translate, scale, shear)` (degrees).
    /// - Returns: the 6 coefficients `[a, b, c, d, e, f]` mapping output to input coordinates.
    public static func inverseMatrix(center: (Double, Double), angle: Double, translate: (Double, Double),
                                     scale: Double, shear: (Double, Double)) -> [Double] {
        let degToRad = Double.pi / 180.0
        let rot = angle * degToRad, sx = shear.0 * degToRad, sy = shear.1 * degToRad
        let (cx, cy) = center, (tx, ty) = translate
        let a = cos(rot - sy) / cos(sy)
        let b = -cos(rot - sy) * tan(sx) / cos(sy) - sin(rot)
        let c = sin(rot - sy) / cos(sy)
        let d = -sin(rot - sy) * tan(sx) / cos(sy) + cos(rot)
        var m = [d, -b, 0.0, -c, a, 0.0].map { $0 / scale }
        m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
        m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
        m[2] += cx
        m[5] += cy
        return m
    }

    /// Python's `math.degrees`.
    @inline(__always) static func degrees(_ x: Double) -> Double { x * (180.0 / Double.pi) }

    /// `_apply_op("ShearX", m)`: `affine(shear=[degrees(atan(m)), 0], center=[0, 0])`.
    public static func shearXMatrix(_ m: Double) -> [Double] {
        inverseMatrix(center: (0, 0), angle: 0, translate: (0, 0), scale: 1, shear: (degrees(atan(m)), 0))
    }

    /// `_apply_op("ShearY", m)`: `affine(shear=[0, degrees(atan(m))], center=[0, 0])`.
    public static func shearYMatrix(_ m: Double) -> [Double] {
        inverseMatrix(center: (0, 0), angle: 0, translate: (0, 0), scale: 1, shear: (0, degrees(atan(m))))
    }

    /// `_apply_op("TranslateX"/"TranslateY", m)`: `affine(translate=[int(m), 0])` (or `[0, int(m)]`)
    /// about the image centre.
    public static func translateMatrix(dx: Int, dy: Int, height: Int, width: Int) -> [Double] {
        inverseMatrix(center: (Double(width) * 0.5, Double(height) * 0.5), angle: 0,
                      translate: (Double(dx), Double(dy)), scale: 1, shear: (0, 0))
    }

    /// Python's `x % y` on floats (the result takes the sign of `y`).
    static func pythonMod(_ x: Double, _ y: Double) -> Double {
        var r = fmod(x, y)
        if r != 0 { if (y < 0) != (r < 0) { r += y } } else { r = copysign(0, y) }
        return r
    }

    /// Python's `round(x, 15)`: the nearest 15-decimal number (exact binary value, ties to even),
    /// read back as the nearest double — what glibc's `%.15f` and `strtod` do.
    static func round15(_ x: Double) -> Double {
        var buf = [CChar](repeating: 0, count: 64)
        _ = withVaList([x]) { vsnprintf(&buf, buf.count, "%.15f", $0) }
        return strtod(buf, nil)
    }

    /// PIL's `Image.rotate(angle)` matrix (counter-clockwise degrees, about `(W/2, H/2)`, no
    /// translation): `[round(cos θ, 15), round(sin θ, 15), ·, round(−sin θ, 15), round(cos θ, 15), ·]`
    /// with `θ = −radians(angle % 360)`, the centre moved as `Image.rotate` moves it.
    public static func rotateMatrix(_ angle: Double, height: Int, width: Int) -> [Double] {
        let theta = -(pythonMod(angle, 360) * (Double.pi / 180.0))
        var m = [round15(cos(theta)), round15(sin(theta)), 0.0, round15(-sin(theta)), round15(cos(theta)), 0.0]
        let cx = Double(width) / 2, cy = Double(height) / 2
        let x = -cx - 0, y = -cy - 0
        (m[2], m[5]) = (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
        m[2] += cx
        m[5] += cy
        return m
    }

    /// torchvision `rotate(img, angle)` on a PIL image: `Image.rotate`, with its shortcuts for
    /// 0° (copy), 180° and, on square images, 90°/270° (exact transposes).
    /// - Parameters:
    ///   - out: `(height, width, channels)` bytes; must not overlap `inp`.
    ///   - inp: `(height, width, channels)` bytes.
    public static func rotate(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                              height: Int, width: Int, channels: Int, angle: Double) {
        let a = pythonMod(angle, 360), c = channels
        func copy(_ y: Int, _ x: Int, from sy: Int, _ sx: Int) {
            (out + (y * width + x) * c).update(from: inp + (sy * width + sx) * c, count: c)
        }
        if a == 0 { out.update(from: inp, count: height * width * c); return }
        if a == 180 {
            for y in 0..<height { for x in 0..<width { copy(y, x, from: height - 1 - y, width - 1 - x) } }
            return
        }
        if (a == 90 || a == 270) && height == width {
            // ROTATE_90 (counter-clockwise): out(y, x) = in(x, W − 1 − y); ROTATE_270: in(H − 1 − x, y).
            for y in 0..<height {
                for x in 0..<width {
                    if a == 90 { copy(y, x, from: x, width - 1 - y) } else { copy(y, x, from: height - 1 - x, y) }
                }
            }
            return
        }
        transform(out, inp, height: height, width: width, channels: channels,
                  matrix: rotateMatrix(angle, height: height, width: width))
    }

    /// PIL's `Image.transform(size, AFFINE, matrix, NEAREST, fillcolor=0)` with the output the size
    /// of the input (`ImagingTransformAffine`).
    /// - Parameters:
    ///   - out: `(height, width, channels)` bytes; must not overlap `inp`.
    ///   - inp: `(height, width, channels)` bytes.
    ///   - matrix: 6 coefficients mapping output to input coordinates.
    public static func transform(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                                 height: Int, width: Int, channels: Int, matrix a: [Double]) {
        precondition(a.count == 6, "transform: 6 coefficients, got \(a.count)")
        let c = channels
        out.update(repeating: 0, count: height * width * c)
        @inline(__always) func put(_ y: Int, _ x: Int, _ sy: Int, _ sx: Int) {
            (out + (y * width + x) * c).update(from: inp + (sy * width + sx) * c, count: c)
        }
        /// PIL's `COORD`: −1 below 0, else truncation.
        @inline(__always) func coord(_ v: Double) -> Int { v < 0 ? -1 : Int(v) }
        if a[1] == 0 && a[3] == 0 {
            // ImagingScaleAffine: a column table, then rows, both as running double sums.
            var xin = [Int](repeating: -1, count: width)
            var xo = a[2] + a[0] * 0.5
            for x in 0..<width {
                let v = coord(xo)
                if v >= 0 && v < width { xin[x] = v }
                xo += a[0]
            }
            var yo = a[5] + a[4] * 0.5
            for y in 0..<height {
                let yi = coord(yo)
                if yi >= 0 && yi < height { for x in 0..<width where xin[x] >= 0 { put(y, x, yi, xin[x]) } }
                yo += a[4]
            }
            return
        }
        func fits(_ x: Int, _ y: Int) -> Bool {
            abs(Double(x) * a[0] + Double(y) * a[1] + a[2]) < 32768 && abs(Double(x) * a[3] + Double(y) * a[4] + a[5]) < 32768
        }
        if fits(0, 0) && fits(width, height) && fits(0, height) && fits(width, 0) {
            // affine_fixed: 16.16 fixed point.
            func fix(_ v: Double) -> Int { let s = v * 65536.0 + 0.5; return s < 0 ? Int(floor(s)) : Int(s) }
            let a0 = fix(a[0]), a1 = fix(a[1]), a3 = fix(a[3]), a4 = fix(a[4])
            var a2 = fix(a[2] + a[0] * 0.5 + a[1] * 0.5), a5 = fix(a[5] + a[3] * 0.5 + a[4] * 0.5)
            for y in 0..<height {
                var xx = a2, yy = a5
                for x in 0..<width {
                    let xi = xx >> 16
                    if xi >= 0 && xi < width {
                        let yi = yy >> 16
                        if yi >= 0 && yi < height { put(y, x, yi, xi) }
                    }
                    xx += a0; yy += a3
                }
                a2 += a1; a5 += a4
            }
            return
        }
        // Coordinates beyond the fixed-point range: PIL's double version.
        var xo = a[2] + a[1] * 0.5 + a[0] * 0.5, yo = a[5] + a[4] * 0.5 + a[3] * 0.5
        for y in 0..<height {
            var xx = xo, yy = yo
            for x in 0..<width {
                let xi = coord(xx)
                if xi >= 0 && xi < width {
                    let yi = coord(yy)
                    if yi >= 0 && yi < height { put(y, x, yi, xi) }
                }
                xx += a[0]; yy += a[3]
            }
            xo += a[1]; yo += a[4]
        }
    }
}
