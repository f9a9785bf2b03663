import Foundation

/// A two-sided confidence interval for a mean.
public struct ConfidenceInterval: Equatable, Sendable {
    /// Lower bound.
    public var lower: Double
    /// Upper bound.
    public var upper: Double
    /// Confidence level, e.g. 0.95.
    public var level: Double

    /// Whether `value` lies inside (bounds included).
    public func contains(_ value: Double) -> Bool { lower <= value && value <= upper }
}

/// n, mean, sample standard deviation and a Student-t interval of a sample.
///
/// `std` needs n ≥ 2 and `interval` needs n ≥ 2 (n − 1 ≥ 1 degrees of freedom): with one value
/// there is no spread to estimate, and the report prints "n/a" instead of a fake interval.
public struct SampleSummary: Equatable, Sendable {
    /// Number of values.
    public var n: Int
    /// Mean; nil for an empty sample.
    public var mean: Double?
    /// Sample standard deviation (divisor n − 1); nil for n < 2.
    public var std: Double?
    /// Student-t interval of the mean; nil for n < 2.
    public var interval: ConfidenceInterval?
}

/// One seed's paired comparison: RKAN − baseline.
public struct PairedDelta: Equatable, Sendable {
    /// The seed both runs used.
    public var seed: Int
    /// Baseline value.
    public var baseline: Double
    /// RKAN value.
    public var rkan: Double
    /// `rkan − baseline`.
    public var delta: Double { rkan - baseline }
}

/// Pure statistics for reports: means, spreads, Student-t intervals, paired deltas.
public enum Statistics {
    /// Arithmetic mean; nil for an empty sample.
    public static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Sample standard deviation, √(Σ(x − x̄)² / (n − 1)); nil for n < 2.
    public static func sampleStandardDeviation(_ values: [Double]) -> Double? {
        guard values.count >= 2, let m = mean(values) else { return nil }
        let squares = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        return (squares / Double(values.count - 1)).squareRoot()
    }

    /// Mean, std and the Student-t interval x̄ ± t(1 − α/2, n − 1) · s / √n.
    /// - Parameters:
    ///   - values: The sample.
    ///   - level: Confidence level in (0, 1).
    /// - Returns: The summary; `std` and `interval` nil for n < 2.
    public static func summarize(_ values: [Double], level: Double = 0.95) -> SampleSummary {
        let m = mean(values)
        guard let m, let s = sampleStandardDeviation(values) else {
            return SampleSummary(n: values.count, mean: m, std: nil, interval: nil)
        }
        let t = studentTQuantile(0.5 + level / 2, degreesOfFreedom: Double(values.count - 1))
        let half = t * s / Double(values.count).squareRoot()
        return SampleSummary(n: values.count, mean: m, std: s,
                             interval: ConfidenceInterval(lower: m - half, upper: m + half, level: level))
    }

    /// Pairs values by seed: one delta per seed present on both sides, seeds ascending.
    /// - Parameters:
    ///   - rkan: RKAN value per seed.
    ///   - baseline: Baseline value per seed.
    /// - Returns: The pairs.
    public static func pairedDeltas(rkan: [Int: Double], baseline: [Int: Double]) -> [PairedDelta] {
        rkan.keys.sorted().compactMap { seed in
            guard let r = rkan[seed], let b = baseline[seed] else { return nil }
            return PairedDelta(seed: seed, baseline: b, rkan: r)
        }
    }

    /// Whether a published value lies inside the interval; nil when there is no interval.
    public static func contains(_ summary: SampleSummary, _ published: Double) -> Bool? {
        summary.interval?.contains(published)
    }

    /// Quantile of Student's t distribution: the t with P(T ≤ t) = p.
    ///
    /// Inverts `studentTCDF` by bisection to full Double precision (t(0.975, 1) = 12.7062,
    /// t(0.975, 10) = 2.2281, → 1.95996 as ν → ∞).
    /// - Parameters:
    ///   - p: Probability in (0, 1).
    ///   - degreesOfFreedom: ν > 0.
    /// - Returns: The quantile.
    public static func studentTQuantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0 && p < 1, "studentTQuantile: p must be in (0, 1), got \(p)")
        precondition(nu > 0, "studentTQuantile: degrees of freedom must be > 0, got \(nu)")
        if p == 0.5 { return 0 }
        if p < 0.5 { return -studentTQuantile(1 - p, degreesOfFreedom: nu) }
        var low = 0.0, high = 1.0
        while studentTCDF(high, degreesOfFreedom: nu) < p { high *= 2 }
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if mid == low || mid == high { break }
            if studentTCDF(mid, degreesOfFreedom: nu) < p { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }

    /// Cumulative distribution of Student's t: P(T ≤ t) = 1 − ½ I_x(ν/2, ½), x = ν / (ν + t²), t ≥ 0.
    public static func studentTCDF(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        let tail = 0.5 * regularizedIncompleteBeta(nu / (nu + t * t), a: nu / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// Regularized incomplete beta I_x(a, b) by its continued fraction (modified Lentz),
    /// using I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
    public static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
        if x > (a + 1) / (a + b + 2) {
            return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a)
        }
        return exp(logFront) * betaContinuedFraction(x, a: a, b: b) / a
    }

    /// The continued fraction 1 / (1 + d1 / (1 + d2 / ...)) of the incomplete beta function,
    /// d(2m+1) = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)), d(2m) = m(b−m)x / ((a+2m−1)(a+2m)).
    private static func betaContinuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        d = abs(d) < tiny ? tiny : d
        d = 1 / d
        var result = d
        for m in 1...10_000 {
            let m = Double(m)
            for numerator in [m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                              -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))] {
                d = 1 + numerator * d
                d = abs(d) < tiny ? tiny : d
                c = 1 + numerator / c
                c = abs(c) < tiny ? tiny : c
                d = 1 / d
                result *= d * c
            }
            if abs(d * c - 1) < 1e-16 { break }
        }
        return result
    }
}
