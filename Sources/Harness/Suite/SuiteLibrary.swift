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

/// Where suite files are looked for, in order: the folder given with `--suites` (a user's own
/// suites, which add to the paper's or override one of the same name), then `$RKAN_SUITES`, then
/// `Suites/` of the working directory, then the paper's suites that this build of rkan-repro
/// came with (the `Suites/` folder of its source tree, or `share/rkan-repro/Suites` beside an
/// installed binary), so an installed `rkan-repro` finds them wherever it is run from.
public struct SuiteSearchPath: Sendable {
    /// Existing folders, in search order, without repeats.
    public let folders: [URL]
    /// Every folder considered, existing or not (for error messages).
    public let considered: [URL]

    public init(explicit: URL?, environment: [String: String] = ProcessInfo.processInfo.environment,
                workingDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true),
                executable: URL = URL(fileURLWithPath: CommandLine.arguments.first ?? "rkan-repro").resolvingSymlinksInPath()) {
        var list: [URL] = []
        if let explicit { list.append(explicit) }
        if let env = environment["RKAN_SUITES"], !env.isEmpty { list.append(URL(fileURLWithPath: env, isDirectory: true)) }
        list.append(workingDirectory.appendingPathComponent("Suites", isDirectory: true))
        list.append(Self.sourceTreeSuites)
        list.append(executable.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/rkan-repro/Suites", isDirectory: true))
        var seen = Set<String>(), considered: [URL] = []
        for u in list {
            let key = u.standardizedFileURL.resolvingSymlinksInPath().path
            if seen.insert(key).inserted { considered.append(u.standardizedFileURL) }
        }
        self.considered = considered
        folders = considered.filter { var dir: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0.path, isDirectory: &dir) && dir.boolValue }
    }

    /// `Suites/` of the source tree this binary was built from (Sources/Harness/Suite/ → ../../../Suites).
    static let sourceTreeSuites = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Suites", isDirectory: true)

    /// Suite names found in any folder, sorted.
    public var names: [String] { Array(Set(folders.flatMap { SuiteLibrary.names(in: $0) })).sorted() }

    /// The first folder holding `<name>.yaml`, nil when none does.
    public func folder(holding name: String) -> URL? {
        folders.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("\(name).yaml").path) }
    }

    /// The folder to read suite `name` from.
    /// - Throws: `SuiteError.fileNotFound` naming every place looked in and the suites found there.
    public func folder(for name: String) throws -> URL {
        if let f = folder(holding: name) { return f }
        throw notFound(name)
    }

    /// The error for a suite found nowhere.
    public func notFound(_ name: String) -> SuiteError {
        let present = names.isEmpty ? "none" : names.joined(separator: ", ")
        return SuiteError(.fileNotFound, file: "\(name).yaml", line: nil, key: "",
                          problem: "no suite named '\(name)' in \(considered.map(\.path).joined(separator: ", "))",
                          hint: "Suites found: \(present); pass --suites DIR (or set RKAN_SUITES) to the folder holding \(name).yaml")
    }
}
