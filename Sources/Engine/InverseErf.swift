import Foundation

/// erf⁻¹ in Double, for the truncated-normal initializer (`Initializer.truncatedNormal`).
///
/// Giles' single-precision rational approximation ("Approximating the erfinv function", GPU
/// Computing Gems, 2011) as the start, then two Newton steps on `erf(x) − y` (erf from the C
/// library), which bring it to a few ulps; ±1 map to ±∞ and |y| > 1 to NaN.
enum InverseErf {
    /// Φ(x), the standard normal CDF.
    static func normalCDF(_ x: Double) -> Double { (1 + erf(x / 2.0.squareRoot())) / 2 }

    static func value(_ y: Double) -> Double {
        if y.isNaN || abs(y) > 1 { return .nan }
        if y == 1 { return .infinity }
        if y == -1 { return -.infinity }
        var w = -log((1 - y) * (1 + y)), x: Double
        if w < 5 {
            w -= 2.5
            var p = 2.81022636e-08
            for c in [3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                      -0.00417768164, 0.246640727, 1.50140941] { p = c + p * w }
            x = p * y
        } else {
            w = w.squareRoot() - 3
            var p = -0.000200214257
            for c in [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                      0.00943887047, 1.00167406, 2.83297682] { p = c + p * w }
            x = p * y
        }
        for _ in 0..<2 {
            let slope = 2 / Double.pi.squareRoot() * exp(-x * x)
            if slope == 0 { break }
            x -= (erf(x) - y) / slope
        }
        return x
    }
}
