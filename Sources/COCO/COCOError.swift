import Foundation

/// Errors raised while reading, checking or evaluating COCO data.
///
/// Every case names the file and, where there is one, the annotation, image or result entry, so
/// the message alone says where to look; `rkan-repro` prints `description` and exits 1.
public enum COCOError: Error, CustomStringConvertible, Equatable {
    /// The JSON text itself is broken (syntax, truncation, nesting, a number out of range).
    /// `offset` is the byte offset of the problem in the file.
    case syntax(file: String, offset: Int, problem: String)
    /// Well-formed JSON whose content breaks the COCO format. `at` names the entry, e.g.
    /// `annotation id 1768` or `images[3]`.
    case format(file: String, at: String, problem: String)
    /// A mask (RLE or polygon) that cannot be used: sizes that do not add up, bad characters.
    case mask(String)
    /// The data folder is not in the official layout.
    case layout(folder: String, problem: String)
    /// A file could not be read or written.
    case io(file: String, reason: String)

    public var description: String {
        switch self {
        case let .syntax(file, offset, problem):
            return "\(file): broken JSON at byte \(offset): \(problem); the file is not a COCO JSON file or was cut short (download or regenerate it)"
        case let .format(file, at, problem):
            return "\(file): \(at): \(problem)"
        case let .mask(problem):
            return problem
        case let .layout(folder, problem):
            return "\(folder): \(problem)"
        case let .io(file, reason):
            return "\(file): \(reason)"
        }
    }
}
