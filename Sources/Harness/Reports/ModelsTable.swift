import Foundation
import Engine
import Zoo

/// `rkan-repro models`: parameters (all used, and thop's convention), MACs and the published
/// count with a match mark (equal when rounded to 0.01M).
public enum ModelsTable {
    public struct Row: Codable, Equatable {
        public var id: String?
        public var spec: String
        public var classes: Int
        public var size: Int
        public var params: Int
        public var paramsThop: Int
        public var macs: Int
        public var paperParamsM: Double?
        public var match: Bool?
        /// Why the row could not be built (e.g. a backbone not implemented yet).
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case id, spec, classes, size, params, macs, match, error
            case paramsThop = "params_thop", paperParamsM = "paper_params_m"
        }
    }

    /// Rows for a suite (first target names a suite file) or for the given specs.
    public static func rows(targets: [String], classes: Int?, size: Int?, inChannels: Int, suitesFolder: URL) throws -> [Row] {
        if targets.count == 1, SuiteLibrary.names(in: suitesFolder).contains(targets[0]) {
            let suite = try SuiteLibrary.find(targets[0], in: suitesFolder)
            let dataset = suite.dataset.name
            let n = classes ?? (dataset.isDetection ? DetectorBuild.cocoClasses : dataset.classes)
            let s = size ?? suite.dataset.resolution ?? dataset.nativeSize
            try SizeLimits.checkModelInput(classes: n, inChannels: dataset.channels, batch: 1, side: s,
                                           names: ("--classes", "--in-channels", "batch", "--size"))
            return suite.experiments.map { e in
                var r: Row
                do { r = try row(spec: e.model, classes: n, size: s, inChannels: dataset.channels) } catch {
                    r = Row(id: e.id, spec: e.model.description, classes: n, size: s, params: 0, paramsThop: 0, macs: 0, error: "\(error)")
                    r.paperParamsM = e.paper?.paramsM
                    return r
                }
                r.id = e.id
                r.paperParamsM = e.paper?.paramsM
                r.match = r.paperParamsM.map { rounded(r.paramsThop) == $0 }
                return r
            }
        }
        return try targets.map { try row(spec: ModelSpec(parsing: $0), classes: classes ?? 1000, size: size ?? 224, inChannels: inChannels) }
    }

    static func row(spec: ModelSpec, classes: Int, size: Int, inChannels: Int) throws -> Row {
        try SizeLimits.checkModelInput(classes: classes, inChannels: inChannels, batch: 1, side: size,
                                       names: ("--classes", "--in-channels", "batch", "--size"))
        if spec.detector != nil {
            // A detector: every trainable tensor, as `sum(p.numel() for p in model.parameters())` of
            // torchvision's MaskRCNN around the same backbone (RKAN_RCNN's own parameters() also
            // holds an unused copy of the backbone and the unused stages' RKAN modules; the COCO
            // table publishes no count). Its MACs are not computed (they depend on the proposals).
            let d = try DetectorBuild.make(spec, size: size, classes: classes, context: EngineContext())
            return Row(id: nil, spec: spec.description, classes: classes, size: size, params: d.store.parameterCount,
                       paramsThop: d.store.parameterCount, macs: 0, paperParamsM: nil, match: nil)
        }
        let m = try Model(spec: spec, classes: classes, inChannels: inChannels)
        return Row(id: nil, spec: m.spec.description, classes: classes, size: size, params: m.parameterCount,
                   paramsThop: m.thopParameterCount, macs: try m.macs(size: size), paperParamsM: nil, match: nil)
    }

    /// Millions rounded to two decimals, as the paper prints them.
    static func rounded(_ n: Int) -> Double { (Double(n) / 1e4).rounded() / 100 }

    public static func render(targets: [String], classes: Int?, size: Int?, inChannels: Int, json: Bool,
                              suitesFolder: URL) throws -> (text: String, allMatch: Bool) {
        let rows = try rows(targets: targets, classes: classes, size: size, inChannels: inChannels, suitesFolder: suitesFolder)
        let allMatch = rows.allSatisfy { ($0.match ?? true) && $0.error == nil }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            return (try rows.map { String(decoding: try e.encode($0), as: UTF8.self) }.joined(separator: "\n"), allMatch)
        }
        return (markdown(rows), allMatch)
    }

    public static func markdown(_ rows: [Row]) -> String {
        var out = "| row | spec | classes | input | params | params (thop) | M (thop) | published M | match | GMACs |\n"
        out += "|---|---|---:|---:|---:|---:|---:|---:|:-:|---:|\n"
        var notes: [String] = []
        for r in rows {
            if let e = r.error {
                out += "| \(r.id ?? "–") | `\(r.spec)` | \(r.classes) | \(r.size)×\(r.size) | – | – | – | \(r.paperParamsM.map { String(format: "%.2f", $0) } ?? "–") | ✗ | – |\n"
                notes.append("\(r.id ?? r.spec): \(e)")
                continue
            }
            let pub = r.paperParamsM.map { String(format: "%.2f", $0) } ?? "–"
            let mark = r.match.map { $0 ? "✓" : "✗" } ?? "–"
            out += "| \(r.id ?? "–") | `\(r.spec)` | \(r.classes) | \(r.size)×\(r.size) | \(r.params) | \(r.paramsThop) | "
            let macs = r.spec.hasPrefix("maskrcnn(") ? "–" : String(format: "%.3f", Double(r.macs) / 1e9)
            out += String(format: "%.2f", rounded(r.paramsThop)) + " | \(pub) | \(mark) | " + macs + " |\n"
        }
        if !notes.isEmpty { out += "\nNot built:\n" + notes.map { "- \($0)" }.joined(separator: "\n") + "\n" }
        return out
    }
}
