/// An upper bound on how deeply a YAML document nests, read from its text before any parser
/// sees it: YAML's composer and the suite decoders recurse once per level, and a document of
/// a few kilobytes (`[[[[…` or `- - - - …`) can nest thousands of levels and overflow the stack.
///
/// In block context every level needs one more column of indentation or an indicator
/// (`- `, `? `, `: `) on the line; in flow context it needs an open bracket (indicators inside
/// brackets add no level). The bound of a line
/// is therefore its indentation, plus the indicators on it, plus the brackets still open, with
/// quoted scalars and comments skipped. It can only overestimate the true depth.
enum YAMLNesting {
    /// The first line whose bound exceeds `limit`, with that bound; nil when none does.
    static func firstLineBeyond(_ limit: Int, in text: String) -> (line: Int, depth: Int)? {
        var open = 0, lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let chars = Array(line.utf8)
            var i = 0, indent = 0, indicators = 0, deepest = 0
            while i < chars.count && (chars[i] == 0x20 || chars[i] == 0x09) { i += 1; indent += 1 }
            var quote: UInt8? = nil
            var previous: UInt8? = nil
            while i < chars.count {
                let c = chars[i]
                if let q = quote {
                    if q == 0x22 && c == 0x5C { i += 2; previous = nil; continue }   // \" inside double quotes
                    if c == q { quote = nil }
                } else {
                    let atStart = previous == nil || [0x20, 0x09, 0x5B, 0x7B, 0x2C].contains(previous!)
                    switch c {
                    case 0x22 where atStart, 0x27 where atStart: quote = c            // " or ' opening a scalar
                    case 0x23 where atStart: i = chars.count; continue                // # comment
                    case 0x5B, 0x7B: open += 1                                        // [ {
                    case 0x5D, 0x7D: open = max(open - 1, 0)                          // ] }
                    case 0x2D where open == 0, 0x3F where open == 0, 0x3A where open == 0:   // - ? : in block context
                        if i + 1 == chars.count || chars[i + 1] == 0x20 || chars[i + 1] == 0x09 { indicators += 1 }
                    default: break
                    }
                }
                deepest = max(deepest, open)
                previous = c
                i += 1
            }
            let depth = indent + indicators + max(deepest, open)
            if depth > limit { return (lineNumber, depth) }
        }
        return nil
    }
}
