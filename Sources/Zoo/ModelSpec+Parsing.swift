extension ModelSpec {
    /// Parses a spec string.
    /// - Throws: `SpecError` naming the unknown backbone or option and listing the valid choices.
    public init(parsing text: String) throws {
        let spec = text.trimmingCharacters(in: .whitespaces)
        func fail(_ p: String) -> SpecError { SpecError(spec: spec, problem: p) }
        for d in Detector.allCases where spec.hasPrefix(d.rawValue + "(") {
            _ = try ModelSpec.splitTopLevel(spec, on: "+")   // balanced parentheses
            guard spec.hasSuffix(")") else { throw fail("expected \(d.rawValue)(backbone[(options)][+rkan[(options)]]), with nothing after its ')'") }
            let inner = String(spec.dropFirst(d.rawValue.count + 1).dropLast())
            var b: ModelSpec
            do { b = try ModelSpec(parsing: inner) } catch let e as SpecError { throw fail("its backbone: \(e.problem)") }
            guard b.detector == nil else { throw fail("a detector's backbone cannot itself be a detector") }
            b.detector = d
            self = b
            return
        }
        let parts = try ModelSpec.splitTopLevel(spec, on: "+").map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...2).contains(parts.count), !parts[0].isEmpty else {
            throw fail("expected backbone[(options)][+rkan[(options)]]")
        }
        let (bName, bOpts) = try ModelSpec.splitCall(parts[0], spec: spec)
        guard let backbone = Backbone(rawValue: bName) else {
            throw fail("unknown backbone '\(bName)'; valid backbones: \(Backbone.allCases.map(\.rawValue).joined(separator: ", ")); a detector wraps one: \(Detector.allCases.map { "\($0.rawValue)(backbone…)" }.joined(separator: ", "))")
        }
        self.init(backbone: backbone)
        for (k, v) in bOpts {
            switch k {
            case "stem":
                guard let s = Stem(rawValue: v) else { throw fail("stem must be one of \(Stem.allCases.map(\.rawValue).joined(separator: ", ")), got '\(v)'") }
                stem = s
            case "width":
                guard let w = Double(v), w > 0, w <= 4 else { throw fail("width must be a number in (0, 4], got '\(v)'") }
                width = w
            default:
                throw fail("unknown backbone option '\(k)'; valid options: stem=standard|small, width=<multiplier> (classes and in_channels come from the dataset)")
            }
        }
        guard parts.count == 2 else { return }
        let (rName, rOpts) = try ModelSpec.splitCall(parts[1], spec: spec)
        guard rName == "rkan" else { throw fail("unknown extension '\(rName)'; the only one is 'rkan'") }
        var r = RKANOptions()
        for (k, v) in rOpts {
            switch k {
            case "stages":
                let st = v.split(separator: "/").map { Int($0) }
                guard !st.isEmpty, st.allSatisfy({ $0 != nil && (1...4).contains($0!) }) else {
                    throw fail("stages must be stage numbers 1–4 separated by '/', e.g. 4 or 3/4, got '\(v)'")
                }
                r.stages = Array(Set(st.map { $0! })).sorted()
            case "reduce":
                guard let x = Int(v), (1...64).contains(x) else { throw fail("reduce must be an integer in 1…64, got '\(v)'") }
                r.reduce = x
            case "inv":
                guard let x = Int(v), (1...16).contains(x) else { throw fail("inv must be an integer in 1…16, got '\(v)'") }
                r.inv = x
            case "kan":
                guard let x = RKANOptions.KANType(rawValue: v) else {
                    throw fail("kan must be one of \(RKANOptions.KANType.allCases.map(\.rawValue).joined(separator: ", ")), got '\(v)'")
                }
                r.kan = x
            case "degree":
                // `A/B`: kan_conv1 / kan_conv2; one number D (the syntax before 3/2 became the default)
                // keeps its old meaning, both convs of degree D.
                let d = v.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
                guard (1...2).contains(d.count), d.allSatisfy({ $0 != nil && (1...8).contains($0!) }) else {
                    throw fail("degree must be A/B (kan_conv1 / kan_conv2, each 1…8, default 3/2) or one degree D for both, got '\(v)'")
                }
                (r.degree, r.degree2) = (d[0]!, d.last!!)
            case "mech":
                guard let x = RKANOptions.Mechanism(rawValue: v) else {
                    throw fail("mech must be one of \(RKANOptions.Mechanism.allCases.map(\.rawValue).joined(separator: ", ")), got '\(v)'")
                }
                r.mech = x
            default:
                throw fail("unknown rkan option '\(k)'; valid options: stages, reduce, inv, kan, degree, mech")
            }
        }
        rkan = r
    }

    /// Splits on `sep` outside parentheses.
    static func splitTopLevel(_ s: String, on sep: Character) throws -> [String] {
        var parts: [String] = [], cur = "", depth = 0
        for ch in s {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1; if depth < 0 { throw SpecError(spec: s, problem: "unbalanced ')'") } }
            if ch == sep && depth == 0 { parts.append(cur); cur = "" } else { cur.append(ch) }
        }
        if depth != 0 { throw SpecError(spec: s, problem: "unbalanced '('") }
        parts.append(cur)
        return parts
    }

    /// `name(k=v,k=v)` → (name, [(k, v)]).
    static func splitCall(_ s: String, spec: String) throws -> (String, [(String, String)]) {
        guard let open = s.firstIndex(of: "(") else { return (s, []) }
        guard s.hasSuffix(")") else { throw SpecError(spec: spec, problem: "text after ')' in '\(s)'") }
        let name = String(s[..<open]).trimmingCharacters(in: .whitespaces)
        let inner = s[s.index(after: open)..<s.index(before: s.endIndex)]
        var opts: [(String, String)] = []
        var seen = Set<String>()
        for item in inner.split(separator: ",", omittingEmptySubsequences: true) {
            let kv = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else {
                throw SpecError(spec: spec, problem: "option '\(item)' is not of the form key=value")
            }
            guard seen.insert(kv[0]).inserted else { throw SpecError(spec: spec, problem: "option '\(kv[0])' given twice") }
            opts.append((kv[0], kv[1]))
        }
        return (name, opts)
    }
}

import Foundation
