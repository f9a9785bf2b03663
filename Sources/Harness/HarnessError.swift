/// User-facing errors of the harness: each is one paragraph naming the file or setting and the fix.
public enum HarnessError: Error, CustomStringConvertible {
    case incompatibleRunFile(path: String, detail: String)
    case badConfig(what: String, detail: String)
    case dataMissing(dataset: String, detail: String)
    case unsupported(what: String, detail: String)
    case io(path: String, detail: String)
    /// A run file that cannot be used (damaged, of another run, of an older layout): `detail`
    /// says what is wrong with it, `fix` is a command that moves it aside and retrains it.
    case badRunFile(detail: String, fix: String)
    /// A run file made with another configuration than the suite asks for now (a row's model, a
    /// profile's epochs or lr edited since): its results are not results of the current row.
    /// `differences` names each setting with its value in the file and in the suite.
    case staleRunFile(path: String, differences: [String], fix: String)

    public var description: String {
        switch self {
        case let .incompatibleRunFile(path, detail): return "run file \(path) cannot be resumed: \(detail)."
        case let .badConfig(what, detail): return "\(what): \(detail)."
        case let .dataMissing(dataset, detail): return "data for \(dataset) not found: \(detail)"
        case let .unsupported(what, detail): return "\(what) is not supported: \(detail)"
        case let .io(path, detail): return "\(path): \(detail)"
        case let .staleRunFile(path, differences, fix):
            return "run file \(path) was made with another configuration than the suite asks for now (\(differences.joined(separator: "; "))), "
                + "so its results are not results of this row. Retrain it with the current suite: `\(fix)` (moves the file aside to "
                + "seed-S.h5.bad-TIME, keeping it), or restore the suite to what the run was made with"
        case let .badRunFile(detail, fix): return "\(detail). To do that: `\(fix)` (moves the file aside to seed-S.h5.bad-TIME, keeping it, and retrains that run)"
        }
    }
}
