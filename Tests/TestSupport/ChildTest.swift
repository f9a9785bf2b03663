import Foundation

/// Runs one test of this test binary again in a child process with extra environment: for
/// settings a library reads once at load, such as `OPENBLAS_CORETYPE` (the kernel family
/// OpenBLAS runs). The child is the same `.xctest` executable with the test's name as filter.
public enum ChildTest {
    public struct Result {
        public var code: Int32
        public var output: String
    }

    /// Whether this process is such a child (it has `variable` set).
    public static func isChild(_ variable: String) -> Bool {
        !(ProcessInfo.processInfo.environment[variable] ?? "").isEmpty
    }

    /// Runs `test` ("Module.Class/testMethod") in a child with `env` added; stdout and stderr
    /// together in `output`.
    public static func run(_ test: String, env: [String: String]) throws -> Result {
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        let r = try runCapturingOutput(URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]), [test], environment: e)
        return Result(code: r.code, output: r.output)
    }

    /// The lines of a child's output worth showing in a failure (XCTest's failures and errors).
    public static func failures(_ output: String) -> String {
        output.split(separator: "\n").filter { $0.contains("error") || $0.contains("failed") }.prefix(12).joined(separator: "\n")
    }
}
