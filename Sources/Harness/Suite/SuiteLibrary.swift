import Foundation

/// The folder of suite files (`Suites/<name>.yaml`).
public enum SuiteLibrary {
    /// Names of the suites in a folder (file names without `.yaml`), sorted.
    /// - Parameter folder: The suites folder.
    /// - Returns: The names; empty when the folder is missing.
    public static func names(in folder: URL) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// Loads `folder/<name>.yaml` strictly.
    /// - Parameters:
    ///   - name: Suite name, e.g. `fashion-mnist`.
    ///   - folder: The suites folder.
    /// - Returns: The suite.
    /// - Throws: `SuiteError.fileNotFound` listing the suites present; any decoding error;
    ///   `.invalidValue` when the file's `suite:` differs from its name.
    public static func find(_ name: String, in folder: URL) throws -> Suite {
        if let problem = RunName.problem(name) {
            throw SuiteError(.invalidValue, file: folder.path, line: nil, key: "",
                             problem: "suite name '\(name)' \(problem)", hint: RunName.hint)
        }
        let url = folder.appendingPathComponent("\(name).yaml")
        guard FileManager.default.fileExists(atPath: url.path) else {
            let present = names(in: folder)
            let list = present.isEmpty ? "none" : present.joined(separator: ", ")
            throw SuiteError(.fileNotFound, file: url.path, line: nil, key: "",
                             problem: "no suite named '\(name)'",
                             hint: "Suites in \(folder.path): \(list); add \(name).yaml there to define it")
        }
        let suite = try Suite.load(from: url)
        guard suite.suite == name else {
            throw SuiteError(.invalidValue, file: url.path, line: suite.origin.lines["suite"], key: "suite",
                             problem: "the file declares suite '\(suite.suite)' but is named \(name).yaml",
                             hint: "Make 'suite:' equal the file name without .yaml")
        }
        return suite
    }
}
