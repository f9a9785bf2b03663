/// A built report: the markdown file's text and the table a README shows of it.
public struct SuiteReport: Equatable, Sendable {
    /// The whole report, ending with a newline.
    public var markdown: String
    /// The header table (suite, profile, seeds, machine, CPU, commit, date, command), as lines.
    public var summaryTable: [String]
}
