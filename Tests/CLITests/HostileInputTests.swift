import Foundation
import XCTest
import TestSupport
import RunStore

/// Hostile options, suite files and file systems: each ends in exit 64 (usage) or 1 with a
/// message naming the cause and the fix, never a crash (signal) or a stale lock, and writes
/// nothing outside the output folder.
final class HostileInputTests: XCTestCase {
    private func assertRefused(_ args: [String], code: Int32, words: [String], cwd: URL? = nil,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CLI.run(args, cwd: cwd)
        XCTAssertFalse(r.killedBySignal, "crashed: \(args) \(r.stderr.suffix(600))", file: file, line: line)
        XCTAssertEqual(r.code, code, "\(args): \(r.stdout) \(r.stderr.suffix(600))", file: file, line: line)
        for w in words { XCTAssertTrue((r.stdout + r.stderr).contains(w), "\(args): no '\(w)' in \(r.stderr)", file: file, line: line) }
    }

    func testNegativeNumbersAreUsageErrorsAndLeaveNoLock() throws {
        let root = try CLI.tempFolder("neg"), suites = try CLI.tinySuites(), out = root.appendingPathComponent("out")
        try assertRefused(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--seeds=-5"], code: 64, words: ["--seeds", "-5"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing written, no lock")
        try assertRefused(["status", "tiny", "--profile", "t", "--suites", suites.path, "--seeds=-1"], code: 64, words: ["--seeds"])
        try assertRefused(["plan", "tiny", "--profile", "t", "--suites", suites.path, "--seeds=-1"], code: 64, words: ["--seeds"])
        try assertRefused(["models", "resnet18", "--classes=-3"], code: 64, words: ["--classes"])
        try assertRefused(["models", "resnet18", "--size", "0"], code: 64, words: ["--size must be ≥ 1"])
        try assertRefused(["bench", "resnet18", "--warmup=-1"], code: 64, words: ["--warmup"])
        try assertRefused(["bench", "resnet18", "--batch", "0"], code: 64, words: ["--batch must be ≥ 1"])
        try assertRefused(["run", "tiny", "--profile", "t", "--suites", suites.path, "--restart", "base"], code: 64, words: ["--restart"])
    }

    func testHugeSizesAreRefusedBeforeAllocation() throws {
        try assertRefused(["models", "resnet18", "--size", "100000"], code: 1, words: ["--size", "4096"])
        try assertRefused(["models", "resnet18", "--classes", "2000000000"], code: 1, words: ["--classes", "100000"])
        try assertRefused(["bench", "resnet18", "--size", "100000", "--batch", "1"], code: 1, words: ["--size", "4096"])
        try assertRefused(["bench", "resnet18", "--size", "4096", "--batch", "60000"], code: 1, words: ["--batch", "memory"])
        let suites = try CLI.tinySuites(extra: "").appendingPathComponent("tiny.yaml")
        let text = try String(contentsOf: suites, encoding: .utf8).replacingOccurrences(of: "dataset: {name: fashion-mnist}",
                                                                                       with: "dataset: {name: fashion-mnist, resolution: 100000}")
        try text.write(to: suites, atomically: true, encoding: .utf8)
        try assertRefused(["run", "tiny", "--profile", "t", "--suites", suites.deletingLastPathComponent().path,
                           "--out", try CLI.tempFolder("o").path], code: 1, words: ["tiny.yaml:", "resolution", "4096"])
    }

    func testHugeForwardInputIsRefused() throws {
        let python = try H5pyPython.require()
        let root = try CLI.tempFolder("fwd")
        let input = root.appendingPathComponent("x.h5"), weights = root.appendingPathComponent("w.h5")
        // Declared 1×3×50000×50000 float32 (30 GB), never written: the file stays tiny.
        let script = "import h5py,sys; f=h5py.File(sys.argv[1],'w'); f.create_dataset('input',shape=(1,3,50000,50000),dtype='f4'); "
            + "g=h5py.File(sys.argv[2],'w'); g.create_group('weights')"
        let made = try H5pyPython.run(python, ["-c", script, input.path, weights.path])
        XCTAssertEqual(made.status, 0, made.stderr)
        try assertRefused(["forward", "--model", "resnet18", "--classes", "10", "--weights", weights.path, "--input", input.path,
                           "--output", root.appendingPathComponent("y.h5").path], code: 1, words: ["/input", "50000"])
        try assertRefused(["forward", "--model", "resnet18", "--classes", "1000000000", "--weights", weights.path, "--input", input.path,
                           "--output", root.appendingPathComponent("y.h5").path], code: 1, words: ["--classes"])
    }

    func testAFileSizeLimitIsAnErrorNotACrash() throws {
        try Prerequisite.fashionMNIST()
        let root = try CLI.tempFolder("fsize"), suites = try CLI.tinySuites(), out = root.appendingPathComponent("out")
        // ulimit -f (1 KiB blocks in bash): the lock fits, a run file (about 300 KB) does not.
        let cmd = "ulimit -f 64; exec \"$0\" \"$@\""
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", cmd, CLI.binary.path, "run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path,
                       "--only", "base", "--threads", "2"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit, "killed by a signal: \(text.suffix(800))")
        XCTAssertEqual(p.terminationStatus, 1, text)
        XCTAssertTrue(text.contains("File too large"), text)
        let left = (FileManager.default.enumerator(atPath: out.path)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp-") || $0.hasSuffix(".lock") }
        XCTAssertEqual(left, [], "no temporary file or lock is left")
    }

    func testAFullDiskIsAnErrorNotACrash() throws {
        try Prerequisite.fashionMNIST()
        let disk = try CLI.tempFolder("full")
        // A 600 KiB tmpfs: the lock fits, a run file (about 1.5 MB) does not. Needs root.
        let mounted = (try? CLI.runProcess("/usr/bin/env", ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", disk.path])) == 0
        try Prerequisite.require(mounted, "a tmpfs mount (needs root)", fix: "run the tests as root, as CI does")
        defer { _ = try? CLI.runProcess("/usr/bin/env", ["umount", disk.path]) }
        let out = disk.appendingPathComponent("runs")
        let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", try CLI.tinySuites().path, "--out", out.path,
                             "--only", "base", "--threads", "2"])
        XCTAssertFalse(r.killedBySignal, "crashed (HDF5 shutdown after ENOSPC): \(r.stderr.suffix(800))")
        XCTAssertEqual(r.code, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("No space left on device") && r.stderr.contains("free disk space"), r.stderr)
        let left = (FileManager.default.enumerator(atPath: out.path)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp-") || $0.hasSuffix(".lock") }
        XCTAssertEqual(left, [], "no temporary file or lock is left")
    }

    func testNamesThatBecomePathsAreChecked() throws {
        let root = try CLI.tempFolder("paths")
        let suites = root.appendingPathComponent("suites"), out = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: suites, withIntermediateDirectories: true)
        let tiny = try String(contentsOf: try CLI.tinySuites().appendingPathComponent("tiny.yaml"), encoding: .utf8)
        // suite: ../x in root/x.yaml, reached as suites/../x.yaml.
        try tiny.replacingOccurrences(of: "suite: tiny", with: "suite: ../x").write(to: root.appendingPathComponent("x.yaml"), atomically: true, encoding: .utf8)
        let before = Fault.snapshot(root, except: out)
        try assertRefused(["run", "../x", "--profile", "t", "--suites", suites.path, "--out", out.path], code: 64, words: ["'../x'"])
        try assertRefused(["report", "../x", "--profile", "t", "--suites", suites.path, "--runs", out.path,
                           "--out", out.appendingPathComponent("r.md").path], code: 64, words: ["'../x'"])
        try tiny.replacingOccurrences(of: "id: base", with: "id: ..").replacingOccurrences(of: "baseline: base", with: "baseline: ..")
            .write(to: suites.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
        try assertRefused(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path], code: 1, words: ["tiny.yaml:", "id '..'"])
        XCTAssertEqual(Fault.snapshot(root, except: out), before.merging([suites.appendingPathComponent("tiny.yaml").path:
            try Data(contentsOf: suites.appendingPathComponent("tiny.yaml"))]) { $1 })
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("x").path), "nothing written outside --out")
    }

    func testOutputsAreNeverAnInput() throws {
        try Prerequisite.fashionMNIST()
        let root = try Fault.trainedRoot()
        let file = Fault.runFile(root), o = Fault.out(root).path, s = Fault.suites(root)
        let link = root.appendingPathComponent("link.h5")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: file)
        let original = try Data(contentsOf: file)
        let input = root.appendingPathComponent("x.h5")
        let f = try HDF5File.create(input.path)
        try f.write([Float](repeating: 0.5, count: 28 * 28), shape: [1, 1, 28, 28], to: "/input")
        try f.close()
        try assertRefused(["forward", "--model", "resnet18(stem=small,width=0.125)", "--classes", "10", "--weights", file.path,
                           "--input", input.path, "--output", link.path], code: 1, words: ["--output", "--weights file"])
        try assertRefused(["report", "tiny", "--profile", "t", "--suites", s, "--runs", o, "--out", link.path], code: 1, words: ["--out", "run file"])
        let baseline = root.appendingPathComponent("b.json")
        XCTAssertEqual(try CLI.run(["check", "tiny", "--profile", "t", "--suites", s, "--runs", o, "--baseline", baseline.path, "--update-baseline"]).code, 0)
        let recorded = try Data(contentsOf: baseline)
        try assertRefused(["check", "tiny", "--profile", "t", "--suites", s, "--runs", o, "--baseline", baseline.path, "--junit", baseline.path],
                          code: 1, words: ["--junit", "baseline"])
        XCTAssertEqual(try Data(contentsOf: file), original, "the run file is unchanged")
        XCTAssertEqual(try Data(contentsOf: baseline), recorded, "the baseline is unchanged")
    }
}
