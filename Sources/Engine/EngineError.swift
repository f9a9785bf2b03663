/// Errors raised by the engine for bad arguments (shape mismatches and the like).
///
/// Each names the op and the shapes involved, so the message alone says what went wrong.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// `op` received tensors whose shapes do not fit together.
    case shapeMismatch(op: String, detail: String)
    /// An option of `op` is out of range (e.g. channels not divisible by groups).
    case invalidArgument(op: String, detail: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, detail): return "\(op): shape mismatch: \(detail)"
        case let .invalidArgument(op, detail): return "\(op): invalid argument: \(detail)"
        }
    }
}

/// Formats a shape the way PyTorch prints it: `[2, 3, 32, 32]`.
@inlinable public func shapeString(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
