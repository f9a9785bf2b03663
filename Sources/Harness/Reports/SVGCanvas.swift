/// A minimal SVG 1.1 writer: elements appended in order, numbers with two fixed decimals,
/// text escaped. Same calls, same bytes.
struct SVGCanvas {
    /// Drawing size in user units (pixels).
    let width: Double
    let height: Double
    private var body: [String] = []

    /// Categorical colours (Tableau 10), one per suite row in order.
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// A coordinate or length as printed: two decimals, no negative zero.
    static func number(_ value: Double) -> String { ReportFormat.fixed(value, 2) }

    /// Escapes text for element content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    private static func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    /// Appends a raw element line (already well-formed).
    mutating func raw(_ element: String) { body.append(element) }

    /// A straight line.
    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                       width: Double = 1, dash: String? = nil) {
        var pairs = [("x1", Self.number(x1)), ("y1", Self.number(y1)), ("x2", Self.number(x2)),
                     ("y2", Self.number(y2)), ("stroke", stroke), ("stroke-width", Self.number(width))]
        if let dash { pairs.append(("stroke-dasharray", dash)) }
        body.append("<line\(Self.attributes(pairs))/>")
    }

    /// An open polyline through `points`.
    mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 1.5, dash: String? = nil) {
        let coordinates = points.map { "\(Self.number($0.0)),\(Self.number($0.1))" }.joined(separator: " ")
        var pairs = [("points", coordinates), ("fill", "none"), ("stroke", stroke), ("stroke-width", Self.number(width))]
        if let dash { pairs.append(("stroke-dasharray", dash)) }
        body.append("<polyline\(Self.attributes(pairs))/>")
    }

    /// A filled rectangle (negative heights are normalised).
    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, opacity: Double = 1) {
        let top = min(y, y + height), tall = abs(height)
        body.append("<rect\(Self.attributes([("x", Self.number(x)), ("y", Self.number(top)), ("width", Self.number(width)), ("height", Self.number(tall)), ("fill", fill), ("fill-opacity", Self.number(opacity))]))/>")
    }

    /// A filled circle.
    mutating func circle(_ cx: Double, _ cy: Double, r: Double, fill: String) {
        body.append("<circle\(Self.attributes([("cx", Self.number(cx)), ("cy", Self.number(cy)), ("r", Self.number(r)), ("fill", fill)]))/>")
    }

    /// A diamond marker centred at (cx, cy).
    mutating func diamond(_ cx: Double, _ cy: Double, size: Double, fill: String) {
        let n = Self.number
        let d = "M \(n(cx)) \(n(cy - size)) L \(n(cx + size)) \(n(cy)) L \(n(cx)) \(n(cy + size)) L \(n(cx - size)) \(n(cy)) Z"
        body.append("<path\(Self.attributes([("d", d), ("fill", fill), ("stroke", "#000000"), ("stroke-width", "0.75")]))/>")
    }

    /// Text; `anchor` is start, middle or end; `rotate` in degrees about the anchor point.
    mutating func text(_ content: String, x: Double, y: Double, anchor: String = "start", size: Double = 12,
                       rotate: Double? = nil, weight: String? = nil) {
        var pairs = [("x", Self.number(x)), ("y", Self.number(y)), ("text-anchor", anchor), ("font-size", Self.number(size))]
        if let rotate { pairs.append(("transform", "rotate(\(Self.number(rotate)) \(Self.number(x)) \(Self.number(y)))")) }
        if let weight { pairs.append(("font-weight", weight)) }
        body.append("<text\(Self.attributes(pairs))>\(Self.escape(content))</text>")
    }

    /// The whole document, with XML declaration, ending in a newline.
    func document(title: String) -> String {
        let size = "width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\""
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" \(size) font-family=\"sans-serif\">",
                     "<title>\(Self.escape(title))</title>",
                     "<rect x=\"0\" y=\"0\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"#ffffff\"/>"]
        lines += body
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A linear map from data values to pixels, with "nice" ticks (1, 2, 5 × 10^k steps).
struct SVGScale {
    /// Data domain.
    let low: Double
    let high: Double
    /// Pixel range (`start` for `low`; may run backwards, as y does).
    let start: Double
    let end: Double
    /// Tick values inside the domain.
    let ticks: [Double]
    /// Decimals for tick labels.
    let digits: Int

    /// A scale whose domain is `[min, max]` widened to whole ticks.
    /// - Parameters:
    ///   - min: Smallest data value.
    ///   - max: Largest data value.
    ///   - start: Pixel for the low end.
    ///   - end: Pixel for the high end.
    ///   - targetTicks: About how many ticks.
    ///   - integer: Ticks on whole numbers only (epochs).
    init(min: Double, max: Double, start: Double, end: Double, targetTicks: Int = 6, integer: Bool = false) {
        precondition(min.isFinite && max.isFinite, "SVGScale: the domain must be finite, got \(min)...\(max)")
        var lo = min, hi = max
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        let raw = (hi - lo) / Double(Swift.max(targetTicks - 1, 1))
        let magnitude = pow10(floorLog10(raw))
        var step = [1.0, 2.0, 5.0, 10.0].map { $0 * magnitude }.first { $0 >= raw * (1 - 1e-9) } ?? 10 * magnitude
        if integer { step = Swift.max(1, step.rounded(.up)) }
        let first = (lo / step).rounded(.down), last = (hi / step).rounded(.up)
        self.low = first * step
        self.high = last * step
        self.start = start
        self.end = end
        self.ticks = stride(from: first, through: last, by: 1).map { $0 * step }
        self.digits = Swift.max(0, -Int(floorLog10(step)))
    }

    /// Pixel position of `value`.
    func callAsFunction(_ value: Double) -> Double {
        start + (value - low) / (high - low) * (end - start)
    }

    /// A tick label.
    func label(_ value: Double) -> String { ReportFormat.fixed(value, digits) }
}

/// ⌊log10(x)⌋ for x > 0, exact on powers of ten.
private func floorLog10(_ x: Double) -> Double {
    var exponent = 0.0
    var value = x
    while value >= 10 { value /= 10; exponent += 1 }
    while value < 1 { value *= 10; exponent -= 1 }
    return exponent
}

/// 10^e for whole e, by repeated multiplication (exact for small e; no libm rounding differences).
private func pow10(_ e: Double) -> Double {
    var out = 1.0
    if e >= 0 { for _ in 0..<Int(e) { out *= 10 } } else { for _ in 0..<Int(-e) { out /= 10 } }
    return out
}
