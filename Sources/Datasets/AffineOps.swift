import Foundation

/// The geometric operations of AutoAugment and RandAugment (shear, translate, rotate) on 8-bit
/// HWC images, as torchvision's `affine`/`rotate` do them on tensors: nearest neighbour, fill 0,
/// same size out as in.
///
/// torchvision builds the inverse affine matrix in double (`_get_inverse_affine_matrix`, centre
/// relative to the image centre), rounds it to float32 and samples with `grid_sample`
/// (`align_corners=False`). For output pixel (x, y) the base grid point is
/// `(x − W/2 + 0.5, y − H/2 + 0.5)`; the source is `g = θ·(bx, by, 1) / (W/2, H/2)` in
/// normalised coordinates, unnormalised as `(g + 1)·(size/2) − 0.5` and rounded half to even;
/// a source outside the image gives 0. All of it is float32 in the same order, so the chosen
/// source pixels are the same as PyTorch's.
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
    public static func shearXMatrix(_ m: Double, height: Int, width: Int) -> [Double] {
        inverseMatrix(center: (-Double(width) * 0.5, -Double(height) * 0.5), angle: 0, translate: (0, 0), scale: 1,
                      shear: (degrees(atan(m)), 0))
    }

    /// `_apply_op("ShearY", m)`: `affine(shear=[0, degrees(atan(m))], center=[0, 0])`.
    public static func shearYMatrix(_ m: Double, height: Int, width: Int) -> [Double] {
        inverseMatrix(center: (-Double(width) * 0.5, -Double(height) * 0.5), angle: 0, translate: (0, 0), scale: 1,
                      shear: (0, degrees(atan(m))))
    }

    /// `_apply_op("TranslateX"/"TranslateY", m)`: `affine(translate=[int(m), 0])` (or `[0, int(m)]`).
    public static func translateMatrix(dx: Int, dy: Int) -> [Double] {
        inverseMatrix(center: (0, 0), angle: 0, translate: (Double(dx), Double(dy)), scale: 1, shear: (0, 0))
    }

    /// `rotate(img, angle)` about the image centre (counter-clockwise degrees).
    public static func rotateMatrix(_ angle: Double) -> [Double] {
        inverseMatrix(center: (0, 0), angle: -angle, translate: (0, 0), scale: 1, shear: (0, 0))
    }

    /// Warps an image by an inverse affine matrix, nearest neighbour, zero fill.
    /// - Parameters:
    ///   - out: `(height, width, channels)` bytes; must not overlap `inp`.
    ///   - inp: `(height, width, channels)` bytes.
    ///   - matrix: 6 coefficients from `inverseMatrix` (rounded to float32 here, as torchvision does).
    public static func warp(_ out: UnsafeMutablePointer<UInt8>, _ inp: UnsafePointer<UInt8>,
                            height: Int, width: Int, channels: Int, matrix: [Double]) {
        precondition(matrix.count == 6, "warp: 6 coefficients, got \(matrix.count)")
        let t = matrix.map { Float($0) }
        let sx = Float(0.5 * Double(width)), sy = Float(0.5 * Double(height))
        // rescaled_theta = θᵀ / (W/2, H/2): column j divided by s_j.
        let r00 = t[0] / sx, r10 = t[1] / sx, r20 = t[2] / sx
        let r01 = t[3] / sy, r11 = t[4] / sy, r21 = t[5] / sy
        let halfW = Float(Double(width) / 2), halfH = Float(Double(height) / 2)
        let x0 = Float(0.5 - 0.5 * Double(width)), y0 = Float(0.5 - 0.5 * Double(height))
        let c = channels
        for y in 0..<height {
            let by = y0 + Float(y)
            for x in 0..<width {
                let bx = x0 + Float(x)
                let gx = (bx * r00 + by * r10) + r20
                let gy = (bx * r01 + by * r11) + r21
                let ix = ((gx + 1) * halfW - 0.5).rounded(.toNearestOrEven)
                let iy = ((gy + 1) * halfH - 0.5).rounded(.toNearestOrEven)
                let d = out + (y * width + x) * c
                if ix >= 0 && ix < Float(width) && iy >= 0 && iy < Float(height) {
                    let s = inp + (Int(iy) * width + Int(ix)) * c
                    for k in 0..<c { d[k] = s[k] }
                } else {
                    for k in 0..<c { d[k] = 0 }
                }
            }
        }
    }
}
