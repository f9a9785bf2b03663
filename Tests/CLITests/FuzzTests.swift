import Foundation
import XCTest
import TestSupport
import Datasets

/// A bounded, deterministic fuzz pass over the inputs a user controls: suite files, run files,
/// dataset files and command-line values. Each case mutates a valid input with a seeded
/// generator and runs the binary with a time limit; every run must end by itself with an exit
/// code below 128 and, when it fails, a message. The whole pass stops after `budget` seconds
/// (the cases run in a fixed order, so a failure names a case that reproduces).
final class FuzzTests: XCTestCase {
    /// Seconds for the whole pass (the CI bound is 60).
    static let budget: TimeInterval = 40
    /// Seconds one command may take before it counts as hung.
    static let perCommand: TimeInterval = 15

    /// SplitMix64: a tiny seeded generator (the cases do not depend on Swift's random source).
    struct Mutator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }

        static let tokens = ["[", "]", "{", "}", "- ", ": ", "\n", "  ", "'", "\"", "&a ", "*a", "!!binary ", "? ", "#",
                             "9223372036854775807", "-1", "1e308", "-.inf", ".nan", "~", "\t", "\u{0}", "0x7f", "1e-300",
                             "epochs: 99999999999", "alpha: 1.0e-9", "pad_crop: 4097", "resnet18(width=1e9)", "\u{FEFF}"]

        /// A few bit flips, deletions, duplications, token insertions or truncations.
        mutating func mutate(_ bytes: [UInt8], structural: Bool) -> [UInt8] {
            var b = bytes
            for _ in 0...below(3) {
                guard !b.isEmpty else { return Array(Self.tokens[below(Self.tokens.count)].utf8) }
                let at = below(b.count)
                switch below(structural ? 6 : 4) {
                case 0: b[at] ^= UInt8(1 << below(8))
                case 1: b.removeSubrange(at..<min(b.count, at + 1 + below(64)))
                case 2: b = Array(b.prefix(at))
                case 3: for i in at..<min(b.count, at + 1 + below(16)) { b[i] = UInt8(truncatingIfNeeded: next()) }
                case 4: b.insert(contentsOf: Array(pick(Self.tokens).utf8), at: at)
                default: let end = min(b.count, at + 1 + below(200)); b.insert(contentsOf: Array(b[at..<end]), at: below(b.count))
                }
            }
            return b
        }
    }

    private var started = Date()
    private var cases = 0
    private var timeLeft: Bool { Date().timeIntervalSince(started) < Self.budget }

    private func check(_ args: [String], _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try TimedRun.run(args, limit: Self.perCommand)
        TimedRun.assertClean(r, what, file: file, line: line)
        cases += 1
    }

    func testFuzzSuitesRunFilesDatasetsAndOptions() throws {
        try Prerequisite.fashionMNIST()
        let root = try Fault.trainedRoot()   // trained before the clock starts
        started = Date()
        var m = Mutator(state: 0x5EED_0028)
        let suiteText = Array(try Data(contentsOf: URL(fileURLWithPath: Fault.suites(root)).appendingPathComponent("tiny.yaml")))
        let runFile = Fault.runFile(root)
        let runBytes = Array(try Data(contentsOf: runFile))
        let fm = "/usr/share/datasets/fashion-mnist/"
        let labels = Array(try Gzip.decompress(contentsOf: URL(fileURLWithPath: fm + "t10k-labels-idx1-ubyte.gz")))
        let images = Array(try Gzip.decompress(contentsOf: URL(fileURLWithPath: fm + "t10k-images-idx3-ubyte.gz")))
        let values = ["-1", "0", "1", "9223372036854775807", "99999999999999999999", "", " ", "nan", "1e308", "../x", "a,b,,", "0,0",
                      "\n", "$(x)", "resnet18(width=0)", "resnet18(width=1e9)", "resnet18+rkan(stages=0/9)", "resnet18(", "+rkan",
                      "resnet18+rkan(degree=99/99)", "resnet18(stem=small)+rkan(inv=0)", "densenet121(width=1e-9)", "-", "--", "0,-0",
                      "2147483648", "t", "default", "paper", "/dev/zero", "/tmp"]
        var round = 0
        while timeLeft {
            round += 1
            // Suite files: plan and status parse, resolve and read the run tree.
            let dir = try CLI.tempFolder("fuzz-suite")
            try Data(m.mutate(suiteText, structural: true)).write(to: dir.appendingPathComponent("tiny.yaml"))
            try check(["plan", "tiny", "--profile", "t", "--suites", dir.path], "round \(round): plan on a mutated suite")
            guard timeLeft else { break }
            try check(["status", "tiny", "--profile", "t", "--suites", dir.path, "--out", Fault.out(root).path], "round \(round): status on a mutated suite")
            guard timeLeft else { break }
            // Run files: status and report read and verify them (a damaged file is an error, never a crash).
            let copy = try CLI.tempFolder("fuzz-run")
            let out = copy.appendingPathComponent("out")
            let target = out.appendingPathComponent("tiny/t/base/seed-0.h5")
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(m.mutate(runBytes, structural: false)).write(to: target)
            try check(["status", "tiny", "--profile", "t", "--only", "base", "--suites", Fault.suites(root), "--out", out.path],
                      "round \(round): status on a mutated run file")
            guard timeLeft else { break }
            try check(["report", "tiny", "--profile", "t", "--only", "base", "--suites", Fault.suites(root), "--runs", out.path,
                       "--out", copy.appendingPathComponent("r.md").path], "round \(round): report on a mutated run file")
            guard timeLeft else { break }
            // Dataset files: a mutated test split (headers and payload), the train split linked.
            let data = try CLI.tempFolder("fuzz-data"), folder = data.appendingPathComponent("fashion-mnist")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for n in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"] {
                try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent(n).path, withDestinationPath: fm + n)
            }
            let mutateLabels = round % 2 == 0
            let header = m.mutate(Array((mutateLabels ? labels : images).prefix(64)), structural: false)
            let body = Array((mutateLabels ? labels : images).dropFirst(64))
            try Data(Gzip.compress(mutateLabels ? header + body : labels)).write(to: folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
            try Data(Gzip.compress(mutateLabels ? images : header + body)).write(to: folder.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
            try check(["data", "check", "fashion-mnist", "--data", data.path], "round \(round): data check on a mutated IDX file")
            guard timeLeft else { break }
            // Command-line values.
            let v = m.pick(values), w = m.pick(values)
            let commands: [[String]] = [
                ["models", v, "--classes", w], ["models", "resnet18", "--size", v], ["models", v, "--in-channels", w],
                ["plan", "tiny", "--profile", v, "--suites", Fault.suites(root), "--seeds", w],
                ["status", "tiny", "--profile", "t", "--suites", Fault.suites(root), "--only", v, "--seeds", w, "--out", Fault.out(root).path],
                ["init", v, "--classes", w, "--seed", "0", "--out", copy.appendingPathComponent("i.h5").path],
                ["check", "tiny", "--profile", v, "--suites", Fault.suites(root), "--runs", Fault.out(root).path, "--baseline", w],
                ["list", v, "--suites", Fault.suites(root)],
            ]
            try check(commands[round % commands.count], "round \(round): options \(commands[round % commands.count])")
        }
        XCTAssertGreaterThan(cases, 10, "the pass ran too few cases in \(Self.budget) s")
        print("fuzz: \(cases) commands in \(round) rounds, \(Int(Date().timeIntervalSince(started))) s")
    }
}
