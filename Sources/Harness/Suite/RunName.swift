/// The one rule for names that become folder names under `--out` and `Reports/`: the suite
/// name (file name and the YAML's `suite:`), profile names and experiment ids.
///
/// A name is 1 to 100 characters of ASCII letters, digits, `-`, `_` and `.`, and does not start
/// with `.`: so it is never `.`, `..`, a hidden file, an absolute path or a path with `/`, and
/// every path built from it stays inside its output folder.
public enum RunName {
    /// The longest name accepted.
    public static let maxLength = 100

    /// Why `name` cannot be a folder name, or nil when it can.
    /// - Parameter name: a suite name, profile name or experiment id.
    /// - Returns: the problem as a phrase (`"contains '/'"`), nil for a valid name.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.count > maxLength { return "is longer than \(maxLength) characters" }
        if name.hasPrefix(".") { return "starts with '.'" }
        if let bad = name.unicodeScalars.first(where: { !allowed($0) }) {
            return "contains '\(bad.escaped(asASCII: true))', which is unfit for a folder name"
        }
        return nil
    }

    /// The fix, for messages (`hint` starts with a capital, for suite-file errors).
    public static let rule = "use 1 to \(maxLength) ASCII letters, digits, '-', '_' and '.', not starting with '.'"
    public static let hint = "Use 1 to \(maxLength) ASCII letters, digits, '-', '_' and '.', not starting with '.'"

    /// Throws `HarnessError.badConfig` naming `what` (e.g. `suite name`) unless `name` is valid.
    public static func check(_ name: String, what: String) throws {
        if let p = problem(name) {
            throw HarnessError.badConfig(what: "\(what) '\(name)'", detail: "it \(p); \(rule)")
        }
    }

    private static func allowed(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".": return true
        default: return false
        }
    }
}
