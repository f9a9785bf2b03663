/// User-facing errors of the harness: each is one paragraph naming the file or setting and the fix.
public enum HarnessError: Error, CustomStringConvertible {
    case incompatibleRunFile(path: String, detail: String)
    case badConfig(what: String, detail: String)
    case dataMissing(dataset: String, detail: String)
    case unsupported(what: String, detail: String)
    case io(path: String, detail: String)

    public var description: String {
        switch self {
        case let .incompatibleRunFile(path, detail): return "run file \(path) cannot be resumed: \(detail)."
        case let .badConfig(what, detail): return "\(what): \(detail)."
        case let .dataMissing(dataset, detail): return "data for \(dataset) not found: \(detail)"
        case let .unsupported(what, detail): return "\(what) is not supported: \(detail)"
        case let .io(path, detail): return "\(path): \(detail)"
        }
    }
}
