import Foundation

/// An error in a suite file: it names the file, the line and the key, and says how to fix it.
///
/// The description is one paragraph, e.g.
/// `Suites/cifar100.yaml:12: key 'protocol.optimizer.nestrov': unknown key. Allowed keys here:
/// name, lr, momentum, nesterov, weight_decay, betas.`
public struct SuiteError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// What went wrong; tests and callers switch on this rather than on the message.
    public enum Kind: String, Equatable, Sendable {
        /// The text is not valid YAML.
        case syntax
        /// A mapping holds a key the schema does not know.
        case unknownKey
        /// A mapping holds the same key twice.
        case duplicateKey
        /// A required key is absent.
        case missingKey
        /// A value has the wrong YAML type (e.g. a string where a number belongs).
        case wrongType
        /// A value has the right type but is out of range or not one of the allowed names.
        case invalidValue
        /// Two experiments share an id.
        case duplicateExperiment
        /// An experiment's `baseline` names no experiment of the suite (or an unfit one).
        case badReference
        /// A profile was requested that the suite does not define.
        case unknownProfile
        /// The injected model-spec validator rejected an experiment's `model`.
        case invalidModel
        /// No suite file of that name exists, or it cannot be read.
        case fileNotFound
    }

    /// What went wrong.
    public var kind: Kind
    /// The suite file (as given to the decoder).
    public var file: String
    /// 1-based line in `file`, nil where no line applies (e.g. a missing file).
    public var line: Int?
    /// Dotted path of the key, e.g. `experiments[1].model`; empty for the whole document.
    public var key: String
    /// What is wrong, as a sentence.
    public var problem: String
    /// How to fix it, as a sentence.
    public var hint: String

    /// Creates an error.
    /// - Parameters:
    ///   - kind: What went wrong.
    ///   - file: The suite file.
    ///   - line: 1-based line, nil where none applies.
    ///   - key: Dotted path of the offending key.
    ///   - problem: What is wrong.
    ///   - hint: How to fix it.
    public init(_ kind: Kind, file: String, line: Int?, key: String, problem: String, hint: String) {
        self.kind = kind
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
        self.hint = hint
    }

    /// One paragraph: `FILE:LINE: key 'KEY': problem. hint.`
    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        let subject = key.isEmpty ? "" : " key '\(key)':"
        return "\(place):\(subject) \(sentence(problem)) \(sentence(hint))"
    }

    public var errorDescription: String? { description }

    private func sentence(_ text: String) -> String {
        guard let last = text.last else { return text }
        return ".!?".contains(last) ? text : text + "."
    }
}
