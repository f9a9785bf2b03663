import Foundation
import Yams
import Datasets
import Engine

/// A suite file: one table of the paper (or the embedded Fashion-MNIST default) as experiments,
/// a training protocol and scaled profiles. See docs/design.md "Suite files".
///
/// Decoding is strict: `Suite.decode(yaml:file:)` rejects unknown keys, wrong
/// types, missing keys, duplicate experiment ids and dangling baseline references with a
/// `SuiteError` naming file, line and key. `Codable` (snake_case keys) is for writing the
/// decoded suite back out, e.g. as JSON into run files.
public struct Suite: Codable, Equatable, Sendable {
    /// Suite name; equals the file name without `.yaml`.
    public var suite: String
    /// Human title, e.g. "CIFAR-100 (128×128)".
    public var title: String
    /// Where the protocol and published values come from.
    public var source: String
    /// Dataset name and native resolution.
    public var dataset: SuiteDataset
    /// The published protocol (profile `paper`).
    public var `protocol`: TrainingProtocol
    /// Scaled profiles by name (`paper` is implicit and reserved).
    public var profiles: [String: SuiteProfile]
    /// Seeds every experiment runs with (unless a profile overrides them).
    public var seeds: [Int]
    /// Rows of the table, in the order the report prints them.
    public var experiments: [SuiteExperiment]
    /// Notebook eras by name, each row's provenance (empty: the suite declares none).
    public var eras: [String: SuiteEra] = [:]
    /// Where the suite came from (file and lines), for later error messages; not encoded.
    public var origin = SuiteOrigin()

    /// The implicit profile that runs the protocol unchanged.
    public static let paperProfile = "paper"

    enum CodingKeys: String, CodingKey {
        case suite, title, source, dataset, `protocol`, eras, profiles, seeds, experiments
    }

    /// Profile names a caller may request: `paper` plus the file's, sorted.
    public var profileNames: [String] { [Suite.paperProfile] + profiles.keys.sorted() }

    /// The experiment with this id.
    public func experiment(_ id: String) -> SuiteExperiment? { experiments.first { $0.id == id } }

    /// Decodes a suite from YAML text, strictly: model specs are parsed by the Zoo's parser and
    /// the dataset by `DatasetName`, each error wrapped with file, line and key.
    /// - Parameters:
    ///   - yaml: The file's text.
    ///   - file: The file's path, used in error messages.
    /// - Returns: The suite.
    /// - Throws: `SuiteError`.
    public static func decode(yaml: String, file: String) throws -> Suite {
        if let (line, depth) = YAMLNesting.firstLineBeyond(maxNesting, in: yaml) {
            throw SuiteError(.syntax, file: file, line: line, key: "",
                             problem: "the document nests about \(depth) levels deep here, more than the \(maxNesting) a suite may use "
                                + "(counting indentation columns, open brackets and '- ', ': ', '? ' indicators)",
                             hint: "Suites need fewer than 10 levels: remove the nesting")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw SuiteError(.syntax, file: file, line: error.mark?.line, key: "",
                             problem: "not valid YAML (\(error.problemText))",
                             hint: "Fix the YAML syntax at this line (indentation, ':' after keys, closing brackets)")
        }
        guard let root else {
            throw SuiteError(.missingKey, file: file, line: 1, key: "", problem: "the file is empty",
                             hint: "Write a suite mapping with keys: \(SuiteSchema.top.joined(separator: ", "))")
        }
        let node = SuiteNode(node: root, path: "", file: file, keyLine: nil)
        return try Suite(node: node)
    }

    /// The deepest nesting a suite may use (`YAMLNesting`): the decoders recurse once per level,
    /// so an unbounded depth would exhaust the stack.
    static let maxNesting = 128

    /// The largest suite file accepted, in bytes (the paper's suites are under 20 KB).
    static let maxFileBytes = 4 << 20

    /// Loads and decodes a suite file.
    /// - Parameters:
    ///   - url: The YAML file.
    /// - Returns: The suite.
    /// - Throws: `SuiteError` (`.fileNotFound` when unreadable).
    public static func load(from url: URL) throws -> Suite {
        let data: Data
        do {
            data = try InputFile.read(url.path, limit: maxFileBytes)
        } catch let failure as InputFile.Failure {
            throw SuiteError(.fileNotFound, file: url.path, line: nil, key: "",
                             problem: "cannot read the suite file: \(failure.reason)",
                             hint: "Pass a regular YAML file (suites live in Suites/<name>.yaml)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            let (offset, line) = firstInvalidUTF8(data)
            throw SuiteError(.syntax, file: url.path, line: line, key: "",
                             problem: "the file is not UTF-8 text (byte 0x\(String(data[offset], radix: 16, uppercase: true)) at byte offset \(offset) is not valid UTF-8)",
                             hint: "Save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)")
        }
        return try decode(yaml: text, file: url.path)
    }

    /// Byte offset and 1-based line of the first byte that breaks UTF-8 (the start of the
    /// first invalid sequence).
    static func firstInvalidUTF8(_ data: Data) -> (offset: Int, line: Int) {
        let bytes = [UInt8](data)
        var i = 0, line = 1
        while i < bytes.count {
            let b = bytes[i]
            let n = b < 0x80 ? 1 : b & 0xE0 == 0xC0 ? 2 : b & 0xF0 == 0xE0 ? 3 : b & 0xF8 == 0xF0 ? 4 : 0
            if n == 0 || i + n > bytes.count || String(bytes: bytes[i..<i + n], encoding: .utf8) == nil { return (i, line) }
            if b == 0x0A { line += 1 }
            i += n
        }
        return (max(bytes.count - 1, 0), line)
    }
}

/// The dataset a suite trains on.
public struct SuiteDataset: Codable, Equatable, Sendable {
    /// The dataset (`fashion-mnist`, `cifar100`, ...), with its classes, channels and pipeline.
    public var name: DatasetName
    /// Input resolution of the protocol in pixels (nil: the dataset's native size).
    public var resolution: Int?

    /// Creates a dataset reference.
    public init(name: DatasetName, resolution: Int? = nil) {
        self.name = name
        self.resolution = resolution
    }
}

/// Where a suite was read from: the file and the line of selected keys.
public struct SuiteOrigin: Equatable, Sendable {
    /// The file as given to the decoder (empty for a suite built in code).
    public var file = ""
    /// Line of a key by dotted path: `profiles`, `profiles.smoke`, `experiments[1]`,
    /// `experiments[1].model`, `seeds`.
    public var lines: [String: Int] = [:]

    /// Creates an empty origin.
    public init() {}
}

extension YamlError {
    /// Where libyaml stopped, when it says.
    var mark: Mark? {
        switch self {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _): return mark
        default: return nil
        }
    }

    /// libyaml's problem text without the echoed document.
    var problemText: String {
        switch self {
        case let .scanner(context, problem, _, _), let .parser(context, problem, _, _),
             let .composer(context, problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        default: return String(describing: self)
        }
    }
}
