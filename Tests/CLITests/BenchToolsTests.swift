import Foundation
import XCTest
import TestSupport

/// The statistics of the benchmark tools (Tools/bench/noise.py: alternated rounds, heavy rounds
/// run again and left out, the speed probe judged against the session's fastest) run their
/// self-test here, so every CI run checks them; the benchmarks themselves need PyTorch and quiet
/// minutes and are never run by the tests.
final class BenchToolsTests: XCTestCase {
    func testNoiseStatisticsSelfTest() throws {
        let python = try H5pyPython.require()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-m", "Tools.bench.noise"]
        p.currentDirectoryURL = CLI.root
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("noise.py self-test: ok"), text)
    }
}
