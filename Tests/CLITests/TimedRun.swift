import Foundation
import XCTest

/// Runs the binary with a wall-clock limit: a command that blocks (on a FIFO, a device) is
/// killed at the limit and reported as hung instead of hanging the test suite.
enum TimedRun {
    struct Result {
        var code: Int32
        var killedBySignal: Bool
        var timedOut: Bool
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
    }

    /// Runs `args` (`executable`: the binary by default) in `cwd`, killing it after `limit` seconds.
    /// - Parameter whileRunning: called with the process once it started (e.g. to signal it).
    static func run(_ args: [String], limit: TimeInterval = 20, env: [String: String] = [:], cwd: URL? = nil,
                    whileRunning: ((Process) -> Void)? = nil) throws -> Result {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args
        p.currentDirectoryURL = cwd ?? CLI.root
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        let collected = Collected()
        let group = DispatchGroup()
        for (pipe, isErr) in [(out, false), (err, true)] {
            group.enter()
            DispatchQueue.global().async {
                let d = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.set(d, isErr: isErr)
                group.leave()
            }
        }
        try p.run()
        whileRunning?(p)
        let deadline = Date().addingTimeInterval(limit)
        var timedOut = false
        while p.isRunning {
            if Date() > deadline {
                timedOut = true
                kill(p.processIdentifier, SIGKILL)
                break
            }
            usleep(20_000)
        }
        p.waitUntilExit()
        group.wait()
        return Result(code: p.terminationStatus, killedBySignal: p.terminationReason == .uncaughtSignal && !timedOut,
                      timedOut: timedOut, stdout: collected.text(isErr: false), stderr: collected.text(isErr: true))
    }

    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var data: [Bool: Data] = [:]
        func set(_ d: Data, isErr: Bool) { lock.lock(); data[isErr] = d; lock.unlock() }
        func text(isErr: Bool) -> String { lock.lock(); defer { lock.unlock() }; return String(decoding: data[isErr] ?? Data(), as: UTF8.self) }
    }

    /// The run ended by itself (no signal, no time-out) with a code below 128 and, when it
    /// failed, a message containing every one of `words`.
    static func assertClean(_ r: Result, _ what: String, code: Int32? = nil, words: [String] = [],
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.timedOut, "\(what): hung (killed at the time limit): \(r.stderr.suffix(400))", file: file, line: line)
        XCTAssertFalse(r.killedBySignal, "\(what): killed by a signal: \(r.stderr.suffix(600))", file: file, line: line)
        XCTAssertLessThan(r.code, 128, "\(what): exit \(r.code)", file: file, line: line)
        if let code { XCTAssertEqual(r.code, code, "\(what): \(r.output.suffix(600))", file: file, line: line) }
        if r.code != 0 {
            XCTAssertFalse(r.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(what): failed without a message", file: file, line: line)
        }
        for w in words { XCTAssertTrue(r.output.contains(w), "\(what): no '\(w)' in \(r.output.suffix(800))", file: file, line: line) }
    }
}
