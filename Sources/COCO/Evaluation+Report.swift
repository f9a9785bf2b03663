import Foundation

extension COCOEvaluator.Evaluation {
    /// The summary as pycocotools' `summarize()` prints it (three decimals), one line per stat,
    /// then per-category AP and AR@100 when `perClass` (names from `categories`).
    public func text(perClass: Bool, categories: [Instances.Category]) -> String {
        let rows: [(Bool, String, String, Int)] = [
            (true, "0.50:0.95", "all", 100), (true, "0.50", "all", 100), (true, "0.75", "all", 100),
            (true, "0.50:0.95", "small", 100), (true, "0.50:0.95", "medium", 100), (true, "0.50:0.95", "large", 100),
            (false, "0.50:0.95", "all", 1), (false, "0.50:0.95", "all", 10), (false, "0.50:0.95", "all", 100),
            (false, "0.50:0.95", "small", 100), (false, "0.50:0.95", "medium", 100), (false, "0.50:0.95", "large", 100),
        ]
        var lines = ["iou type: \(iouType.rawValue)"]
        for (i, (ap, iou, area, maxDets)) in rows.enumerated() {
            let title = ap ? "Average Precision  (AP)" : "Average Recall     (AR)"
            let iouField = iou.padding(toLength: 9, withPad: " ", startingAt: 0)
            let areaField = String(repeating: " ", count: max(0, 6 - area.count)) + area
            let detField = String(repeating: " ", count: max(0, 3 - String(maxDets).count)) + String(maxDets)
            lines.append(" \(title) @[ IoU=\(iouField) | area=\(areaField) | maxDets=\(detField) ] = \(String(format: "%0.3f", stats[i]))")
        }
        if perClass {
            var names: [Int64: String] = [:]
            for c in categories { names[c.id] = c.name }
            lines.append("per category (area all, maxDets 100):")
            lines.append("  id  name                       AP       AR100")
            for row in perCategory {
                let name = (names[row.categoryID] ?? "").padding(toLength: 24, withPad: " ", startingAt: 0)
                let id = String(row.categoryID)
                lines.append(String(repeating: " ", count: max(0, 4 - id.count)) + id + "  " + name + "  "
                             + String(format: "%7.3f  %7.3f", row.ap, row.ar100))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The summary as JSON, full precision: `stats` (the twelve in pycocotools' order),
    /// `named` (the same by name) and, when `perClass`, `per_class`.
    public func json(perClass: Bool, categories: [Instances.Category]) -> String {
        func num(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(format: "%.1f", v) : "\(v)" }
        var names: [Int64: String] = [:]
        for c in categories { names[c.id] = c.name }
        var s = "{\"iou_type\": \"\(iouType.rawValue)\", \"stats\": [\(stats.map(num).joined(separator: ", "))], \"named\": {"
        s += zip(COCOEvaluator.statNames, stats).map { "\"\($0)\": \(num($1))" }.joined(separator: ", ") + "}"
        if perClass {
            s += ", \"per_class\": [" + perCategory.map { row in
                "{\"category_id\": \(row.categoryID), \"name\": \(jsonString(names[row.categoryID] ?? "")), \"ap\": \(num(row.ap)), \"ar100\": \(num(row.ar100))}"
            }.joined(separator: ", ") + "]"
        }
        return s + "}"
    }
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}
