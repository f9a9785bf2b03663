import Foundation

/// Runs a program to its end with stdout and stderr on one pipe (in the order written).
/// - Parameters:
///   - executable: the program.
///   - arguments: its arguments.
///   - environment: its whole environment (nil: this process's).
/// - Returns: the exit status and everything it printed.
/// - Throws: when the program cannot be started.
public func runCapturingOutput(_ executable: URL, _ arguments: [String],
                               environment: [String: String]? = nil) throws -> (code: Int32, output: String) {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    if let environment { p.environment = environment }
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
