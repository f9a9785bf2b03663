/// Replaces a generated block of a README between `<!-- rkan-repro:SUITE -->` and
/// `<!-- /rkan-repro:SUITE -->`, leaving every other byte as it was.
public enum ReadmeBlock {
    /// The markers a suite's block lives between.
    /// - Parameter suite: Suite name.
    /// - Returns: (start, end) marker comments.
    public static func markers(suite: String) -> (start: String, end: String) {
        ("<!-- rkan-repro:\(suite) -->", "<!-- /rkan-repro:\(suite) -->")
    }

    /// Replaces the block's content.
    ///
    /// The new content is `"\n" + block + "\n"` between the markers (a trailing newline of
    /// `block` is not doubled), so replacing twice with the same block gives the same bytes.
    /// - Parameters:
    ///   - text: The README text.
    ///   - suite: Suite name.
    ///   - block: The new content (markdown).
    /// - Returns: The text with the block replaced.
    /// - Throws: `ReadmeBlockError` when a marker is missing, repeated or out of order.
    public static func replace(in text: String, suite: String, with block: String) throws -> String {
        let (start, end) = markers(suite: suite)
        let starts = ranges(of: start, in: text), ends = ranges(of: end, in: text)
        guard starts.count == 1, ends.count == 1 else {
            let problem: String
            if starts.count > 1 || ends.count > 1 {
                problem = "a marker appears more than once (\(starts.count) start, \(ends.count) end markers)"
            } else if starts.count == 1 {
                problem = "the start marker is there but the end marker '\(end)' is missing"
            } else if ends.count == 1 {
                problem = "the end marker is there but the start marker '\(start)' is missing"
            } else {
                problem = "the markers are missing"
            }
            throw ReadmeBlockError(suite: suite, problem: problem)
        }
        guard starts[0].upperBound <= ends[0].lowerBound else {
            throw ReadmeBlockError(suite: suite, problem: "the end marker comes before the start marker")
        }
        var content = block
        while content.hasSuffix("\n") { content.removeLast() }
        let scalars = text.unicodeScalars
        return String(scalars[..<starts[0].upperBound]) + "\n" + content + "\n" + String(scalars[ends[0].lowerBound...])
    }

    /// Ranges of every occurrence of `needle` (non-overlapping), compared by unicode scalars so
    /// that no byte of the surrounding text is normalised.
    private static func ranges(of needle: String, in text: String) -> [Range<String.Index>] {
        var found: [Range<String.Index>] = []
        let scalars = text.unicodeScalars
        let pattern = Array(needle.unicodeScalars)
        var index = scalars.startIndex
        while index < scalars.endIndex {
            var probe = index, matched = 0
            while matched < pattern.count, probe < scalars.endIndex, scalars[probe] == pattern[matched] {
                probe = scalars.index(after: probe)
                matched += 1
            }
            if matched == pattern.count {
                found.append(index..<probe)
                index = probe
            } else {
                index = scalars.index(after: index)
            }
        }
        return found
    }
}

/// A README lacks usable markers for a suite's block.
public struct ReadmeBlockError: Error, CustomStringConvertible, Equatable {
    /// The suite whose block was to be replaced.
    public var suite: String
    /// What is wrong with the markers.
    public var problem: String
    /// The README the block was to be written into, when known.
    public var file: String?

    public init(suite: String, problem: String, file: String? = nil) {
        self.suite = suite; self.problem = problem; self.file = file
    }

    public var description: String {
        let (start, end) = ReadmeBlock.markers(suite: suite)
        return "\(file.map { "\($0): " } ?? "")README block for suite '\(suite)': \(problem). Add exactly one '\(start)' line and one '\(end)' line "
            + "(in that order) where the generated table should go; everything between them is replaced."
    }
}
