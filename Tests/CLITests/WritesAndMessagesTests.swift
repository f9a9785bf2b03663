import Foundation
import XCTest
import TestSupport
import RunStore

/// Nothing is written where it must not be (a script line made of a path, another repository's
/// index), and errors name the real cause: a lock that no process can release, an interrupted
/// run, a file that is not a run file's kind.
final class WritesAndMessagesTests: XCTestCase {
    /// `plan --slurm` with a line break in --out: refused before anything is written, so no
    /// line of job.sbatch can be a command made of the path.
    func testPlanRefusesAnOutFolderThatWouldBreakTheScript() throws {
        let suites = try CLI.tinySuites(), root = try CLI.tempFolder("plan-nl")
        let out = root.appendingPathComponent("runs\ntouch \(root.path)/PWNED\n#")
        let r = try TimedRun.run(["plan", "tiny", "--profile", "t", "--suites", suites.path, "--runs", out.path, "--slurm"])
        TimedRun.assertClean(r, "plan --slurm", code: 1, words: ["--runs", "\\x0A"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing written")
        let spaced = root.appendingPathComponent("my runs $(touch PWNED)")
        let ok = try TimedRun.run(["plan", "tiny", "--profile", "t", "--suites", suites.path, "--runs", spaced.path, "--slurm"])
        TimedRun.assertClean(ok, "plan --slurm with spaces", code: 0)
        let script = try String(contentsOf: spaced.appendingPathComponent("tiny/t/slurm/job.sbatch"), encoding: .utf8)
        XCTAssertTrue(script.contains("#SBATCH --output=\"\(spaced.path)/tiny/t/slurm/logs/task-%a.log\""), script)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("PWNED").path))
    }

    /// `run` in another git repository records rkan-repro's own commit and leaves that
    /// repository's .git untouched.
    func testTheCommitIsRkanReprosAndNoOtherRepositoryIsWritten() throws {
        try Prerequisite.fashionMNIST()
        let other = try CLI.tempFolder("other-repo")
        func git(_ args: [String], in dir: URL) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["git", "-C", dir.path] + args
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = FileHandle.nullDevice
            try p.run()
            let d = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "git \(args)")
            return String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try git(["init", "-q"], in: other)
        try "a\n".write(to: other.appendingPathComponent("f.txt"), atomically: true, encoding: .utf8)
        _ = try git(["add", "f.txt"], in: other)
        _ = try git(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "x"], in: other)
        // An index that git status would refresh (a file whose stat data changed, same content).
        usleep(1_100_000)
        try "a\n".write(to: other.appendingPathComponent("f.txt"), atomically: false, encoding: .utf8)
        let index = other.appendingPathComponent(".git/index")
        let before = try Data(contentsOf: index)
        let beforeTime = try FileManager.default.attributesOfItem(atPath: index.path)[.modificationDate] as? Date
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("commit-out")
        let r = try TimedRun.run(["run", "tiny", "--profile", "t", "--only", "base", "--suites", suites.path, "--out", out.path, "--threads", "2"],
                                 limit: 300, cwd: other)
        TimedRun.assertClean(r, "run in another repository", code: 0)
        XCTAssertEqual(try Data(contentsOf: index), before, "the other repository's index is unchanged")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: index.path)[.modificationDate] as? Date, beforeTime)
        let commit = try RunFile.readAttributes(out.appendingPathComponent("tiny/t/base/seed-0.h5")).gitCommit
        let ours = try git(["rev-parse", "--short=12", "HEAD"], in: CLI.root)
        XCTAssertTrue(commit.hasPrefix(ours), "run file says \(commit), rkan-repro's checkout is at \(ours)")
        XCTAssertFalse(commit.hasPrefix(try git(["rev-parse", "--short=12", "HEAD"], in: other)))
    }

    /// Locks no process can release are errors naming the lock, not a silent skip with exit 0;
    /// a lock with pid 0 is stale.
    func testLocksThatCannotBeReleasedAreNamed() throws {
        try Prerequisite.fashionMNIST()
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("locks")
        let lock = out.appendingPathComponent("tiny/t/base/seed-0.h5.lock")
        try FileManager.default.createDirectory(at: lock, withIntermediateDirectories: true)
        let args = ["run", "tiny", "--profile", "t", "--only", "base", "--suites", suites.path, "--out", out.path, "--threads", "2"]
        TimedRun.assertClean(try TimedRun.run(args, limit: 300), "a .lock folder", code: 1, words: [lock.path, "a folder", "rm -r"])
        let status = try TimedRun.run(["status", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path])
        TimedRun.assertClean(status, "status with a .lock folder", words: ["the lock is a folder", "no process can take or release"])
        try FileManager.default.removeItem(at: lock)
        let host = ProcessInfo.processInfo.hostName
        try "{\"host\":\"\(host)\",\"pid\":0,\"started\":\"2020-01-01T00:00:00Z\"}\n".write(to: lock, atomically: true, encoding: .utf8)
        let r = try TimedRun.run(args, limit: 300)
        TimedRun.assertClean(r, "a lock of pid 0", code: 0, words: ["taken over"])
        XCTAssertEqual(try RunFile.readAttributes(out.appendingPathComponent("tiny/t/base/seed-0.h5")).status, .finished)
        let slurmRow = try CLI.tinySuites(extra: "  - {id: slurm, model: \"resnet18(stem=small)\"}")
        let text = try String(contentsOf: slurmRow.appendingPathComponent("tiny.yaml"), encoding: .utf8)
        XCTAssertTrue(text.contains("id: slurm"))
        TimedRun.assertClean(try TimedRun.run(["status", "tiny", "--profile", "t", "--suites", slurmRow.path]), "row slurm", code: 1,
                             words: ["tiny.yaml:", "'slurm'", "reserved"])
    }

    /// SIGTERM and SIGINT end `run` with a line saying it was interrupted and how to resume.
    func testAnInterruptedRunSaysHowToResume() throws {
        try Prerequisite.fashionMNIST()
        for sig in [SIGTERM, SIGINT] {
            let suites = try CLI.tinySuites(), out = try CLI.tempFolder("interrupt")
            // The crash hook stops the process (SIGSTOP) after 4 steps; the test then sends the
            // signal and lets it run on, as a scheduler's or a user's signal arrives mid-run.
            let file = out.appendingPathComponent("tiny/t/base/seed-0.h5")
            let r = try TimedRun.run(["run", "tiny", "--profile", "t", "--only", "base", "--suites", suites.path, "--out", out.path, "--threads", "2"],
                                     limit: 300, env: ["RKAN_CRASH_AFTER_STEPS": "4", "RKAN_CRASH_SIGNAL": "STOP", "RKAN_BLAS_CORE": "portable"]) { p in
                let deadline = Date().addingTimeInterval(280)
                while Date() < deadline {
                    if let s = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/stat", encoding: .utf8),
                       let state = s.split(separator: ")").last?.split(separator: " ").first, state == "T" { break }
                    usleep(50_000)
                }
                kill(p.processIdentifier, sig)
                kill(p.processIdentifier, SIGCONT)
            }
            XCTAssertFalse(r.timedOut)
            XCTAssertTrue(r.stderr.contains("interrupted by \(sig == SIGTERM ? "SIGTERM" : "SIGINT")"), r.stderr.suffix(600).description)
            XCTAssertTrue(r.stderr.contains("Resume with: rkan-repro run tiny --profile t"), r.stderr.suffix(600).description)
            XCTAssertTrue(r.stderr.contains("--blas-core portable"), "the core the checkpoint needs: \(r.stderr.suffix(600))")
            XCTAssertEqual(try RunFile.readAttributes(file).status, .running, "the checkpoint is kept")
            XCTAssertFalse(FileManager.default.fileExists(atPath: file.path + ".lock"), "the lock is released")
        }
    }

    /// `forward` with an input of 0 images says so instead of asking for a smaller N.
    func testForwardWithNoImagesSaysSo() throws {
        let root = try CLI.tempFolder("fwd-empty")
        let weights = root.appendingPathComponent("w.h5"), input = root.appendingPathComponent("x.h5")
        let spec = "resnet18(stem=small,width=0.125)"
        TimedRun.assertClean(try TimedRun.run(["init", spec, "--classes", "10", "--in-channels", "1", "--seed", "0", "--out", weights.path]), "init", code: 0)
        let f = try HDF5File.create(input.path)
        try f.write([Float](), shape: [0, 1, 28, 28], to: "/input")
        try f.close()
        let r = try TimedRun.run(["forward", "--model", spec, "--classes", "10", "--weights", weights.path, "--input", input.path,
                                  "--output", root.appendingPathComponent("y.h5").path])
        TimedRun.assertClean(r, "forward N=0", code: 1, words: ["N of /input", "at least 1"])
        XCTAssertFalse(r.stderr.contains("smaller"), r.stderr)
    }
}
