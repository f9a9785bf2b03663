import Foundation
import Yams

/// A YAML node together with what an error about it must name: the file, the dotted key path
/// and the line.
///
/// The suite decoder walks `Yams.Node` trees through this type instead of `YAMLDecoder`, so that
/// every error (unknown key, wrong type, missing key, bad value) carries the exact line.
struct SuiteNode {
    /// The YAML node.
    let node: Node
    /// Dotted key path, e.g. `protocol.optimizer.lr` or `experiments[1]`; empty for the root.
    let path: String
    /// The suite file, for messages.
    let file: String
    /// Line of the key that introduced this node (nil for the root and list items).
    let keyLine: Int?

    /// Line of the value itself, falling back to its key's line.
    var line: Int? { node.mark?.line ?? keyLine }

    /// Builds an error about this node.
    /// - Parameters:
    ///   - kind: What went wrong.
    ///   - problem: What is wrong, as a sentence.
    ///   - hint: How to fix it.
    ///   - line: Line to report; defaults to the value's line.
    /// - Returns: The error, ready to throw.
    func error(_ kind: SuiteError.Kind, _ problem: String, hint: String, line: Int? = nil) -> SuiteError {
        SuiteError(kind, file: file, line: line ?? self.line, key: path, problem: problem, hint: hint)
    }

    /// Throws `invalidValue` unless `condition` holds.
    /// - Parameters:
    ///   - condition: The check.
    ///   - problem: What is wrong when it fails.
    ///   - hint: How to fix it.
    /// - Throws: `SuiteError.invalidValue`.
    func require(_ condition: Bool, _ problem: @autoclosure () -> String, hint: @autoclosure () -> String) throws {
        if !condition { throw error(.invalidValue, problem(), hint: hint()) }
    }

    /// Resolved YAML tag name of a scalar (`tag:yaml.org,2002:int`, ...).
    private var tagName: String { node.tag.description }

    /// Whether this node is YAML `null` (an empty value or `~`).
    var isNull: Bool { node.scalar != nil && tagName == Tag.Name.null.rawValue }

    /// Words for what this node is, for "expected X, found Y" messages.
    var found: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case let .scalar(scalar):
            if isNull { return "an empty value" }
            return "'\(scalar.string)'"
        }
    }

    private func wrongType(_ expected: String, hint: String? = nil) -> SuiteError {
        error(.wrongType, "expected \(expected), found \(found)",
              hint: hint ?? "Write \(expected) here")
    }

    /// This node as an integer (YAML int tag only: `15`, not `15.0` nor `"15"`).
    /// - Throws: `SuiteError.wrongType`.
    func int() throws -> Int {
        guard node.scalar != nil, tagName == Tag.Name.int.rawValue, let value = node.int else {
            throw wrongType("an integer", hint: "Write a whole number without quotes, e.g. 15")
        }
        return value
    }

    /// This node as a number (YAML int or float: `0.05`, `5.0e-4`, `2`).
    /// - Throws: `SuiteError.wrongType`.
    func double() throws -> Double {
        guard node.scalar != nil, tagName == Tag.Name.int.rawValue || tagName == Tag.Name.float.rawValue,
              let value = node.float, value.isFinite else {
            throw wrongType("a number", hint: "Write a finite number without quotes, e.g. 0.05 or 5.0e-4")
        }
        return value
    }

    /// This node as a boolean (`true` / `false`).
    /// - Throws: `SuiteError.wrongType`.
    func bool() throws -> Bool {
        guard node.scalar != nil, tagName == Tag.Name.bool.rawValue, let value = node.bool else {
            throw wrongType("true or false")
        }
        return value
    }

    /// This node as text: any non-empty scalar (so `title: 2024` reads as "2024").
    /// - Throws: `SuiteError.wrongType`.
    func string() throws -> String {
        guard let scalar = node.scalar, !isNull, !scalar.string.isEmpty else {
            throw wrongType("a string")
        }
        return scalar.string
    }

    /// This node as one of an enum's names.
    /// - Throws: `SuiteError.wrongType` for a non-scalar, `.invalidValue` for an unknown name.
    func choice<E: RawRepresentable & CaseIterable>(_ type: E.Type) throws -> E where E.RawValue == String {
        let text = try string()
        guard let value = E(rawValue: text) else {
            let names = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(.invalidValue, "'\(text)' is not a known name", hint: "Use one of: \(names)")
        }
        return value
    }

    /// The items of a YAML list, each with its path `path[i]`.
    /// - Throws: `SuiteError.wrongType` unless this node is a list.
    func sequence() throws -> [SuiteNode] {
        guard case let .sequence(items) = node else {
            throw wrongType("a list", hint: "Write a list, e.g. [0, 1, 2] or one '- item' per line")
        }
        return items.enumerated().map { index, item in
            SuiteNode(node: item, path: "\(path)[\(index)]", file: file, keyLine: nil)
        }
    }

    /// This node as a mapping whose keys must all be in `allowed`.
    /// - Parameter allowed: The keys the schema knows here, in documentation order.
    /// - Returns: The entries by key.
    /// - Throws: `SuiteError.wrongType` unless a mapping; `.unknownKey` for a key not in
    ///   `allowed` (at that key's line, listing the allowed keys); `.duplicateKey`.
    func mapping(allowed: [String]) throws -> SuiteMapping {
        guard case let .mapping(pairs) = node else {
            throw wrongType("a mapping", hint: "Write a mapping with keys among: \(allowed.joined(separator: ", "))")
        }
        var entries: [String: SuiteNode] = [:]
        for (keyNode, value) in pairs {
            let keyLine = keyNode.mark?.line
            guard let key = keyNode.scalar?.string else {
                throw error(.wrongType, "a key of this mapping is not a plain name",
                            hint: "Use one of: \(allowed.joined(separator: ", "))", line: keyLine)
            }
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else {
                throw SuiteError(.unknownKey, file: file, line: keyLine, key: childPath,
                                 problem: "unknown key",
                                 hint: "Allowed keys here: \(allowed.joined(separator: ", "))")
            }
            guard entries[key] == nil else {
                throw SuiteError(.duplicateKey, file: file, line: keyLine, key: childPath,
                                 problem: "key given twice", hint: "Keep one '\(key)' in this mapping")
            }
            entries[key] = SuiteNode(node: value, path: childPath, file: file, keyLine: keyLine)
        }
        return SuiteMapping(owner: self, entries: entries)
    }
}

/// The entries of a checked mapping, read by key with typed readers.
struct SuiteMapping {
    /// The mapping node itself (for errors about missing keys).
    let owner: SuiteNode
    /// Entries by key; every key is one the schema allows.
    let entries: [String: SuiteNode]

    /// The value under `key`, or nil when absent or `null`.
    func child(_ key: String) -> SuiteNode? {
        guard let node = entries[key], !node.isNull else { return nil }
        return node
    }

    /// Reads a required key.
    /// - Parameters:
    ///   - key: The key.
    ///   - example: An example value for the hint, e.g. `15`.
    ///   - read: Converts the value (e.g. `{ try $0.int() }`).
    /// - Returns: The converted value.
    /// - Throws: `SuiteError.missingKey` at the mapping's line, or what `read` throws.
    func required<T>(_ key: String, example: String, _ read: (SuiteNode) throws -> T) throws -> T {
        if let empty = entries[key], empty.isNull {
            throw empty.error(.wrongType, "the value is empty", hint: "Write a value, e.g. '\(key): \(example)'")
        }
        guard let node = child(key) else {
            let where_ = owner.path.isEmpty ? "at the top level" : "in '\(owner.path)'"
            let path = owner.path.isEmpty ? key : "\(owner.path).\(key)"
            throw SuiteError(.missingKey, file: owner.file, line: owner.keyLine ?? owner.line, key: path,
                             problem: "required key is missing \(where_)",
                             hint: "Add '\(key): \(example)'")
        }
        return try read(node)
    }

    /// Reads an optional key.
    /// - Parameters:
    ///   - key: The key.
    ///   - read: Converts the value.
    /// - Returns: The converted value, nil when absent or `null`.
    /// - Throws: What `read` throws.
    func optional<T>(_ key: String, _ read: (SuiteNode) throws -> T) throws -> T? {
        guard let node = child(key) else { return nil }
        return try read(node)
    }
}
