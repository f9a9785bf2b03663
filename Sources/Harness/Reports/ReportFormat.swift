import Foundation

/// Stable number formatting for reports: fixed decimals, '.' as separator, no negative zero,
/// ',' thousands grouping; the same value always prints the same bytes.
enum ReportFormat {
    /// Placeholder for "no value".
    static let none = "–"

    /// `value` with `digits` decimals; `-0.00` prints as `0.00`.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        let text = String(format: "%.\(digits)f", value)
        if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) {
            return String(text.dropFirst())
        }
        return text
    }

    /// `value` with an explicit sign: `+0.52`, `-1.10`, `0.00`.
    static func signed(_ value: Double, _ digits: Int) -> String {
        let text = fixed(value, digits)
        if text.hasPrefix("-") || text.allSatisfy({ $0 == "0" || $0 == "." }) { return text }
        return "+" + text
    }

    /// An integer with ',' every three digits: `11,173,962`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(character)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// A parameter count in millions to 0.01: `11.17`.
    static func millions(_ value: Int) -> String { fixed(Double(value) / 1e6, 2) }

    /// `mean ± std (n=k)`, `mean (n=1)`, or `–` for no values.
    static func meanStd(_ summary: SampleSummary, _ digits: Int = 2) -> String {
        guard let mean = summary.mean else { return none }
        guard let std = summary.std else { return "\(fixed(mean, digits)) (n=\(summary.n))" }
        return "\(fixed(mean, digits)) ± \(fixed(std, digits)) (n=\(summary.n))"
    }

    /// A signed mean with its interval: `+0.52 [0.10, 0.94] (n=3)`, `+0.52 [n/a] (n=1)`.
    static func delta(_ summary: SampleSummary, _ digits: Int = 2) -> String {
        guard let mean = summary.mean else { return none }
        let interval = summary.interval.map { "[\(signed($0.lower, digits)), \(signed($0.upper, digits))]" } ?? "[n/a]"
        return "\(signed(mean, digits)) \(interval) (n=\(summary.n))"
    }

    /// An optional number with `digits` decimals, or `–`.
    static func optional(_ value: Double?, _ digits: Int) -> String {
        value.map { fixed($0, digits) } ?? none
    }

    /// Text safe inside a markdown table cell ('|' escaped, newlines folded).
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
