import Foundation
import XCTest
import TestSupport
import Engine
import Datasets
@testable import Harness

/// Values and files that used to crash, hang, write where they must not, or mislead, checked
/// below the command line: nesting bounds, Beta draws of a tiny α, the Slurm script's quoting,
/// the README update through a symlink, the commit read from the binary's own checkout, and the
/// run-file configuration comparison.
final class HostileValueTests: XCTestCase {
    func testNestingBoundRefusesDeepDocumentsAndPassesEverySuite() throws {
        XCTAssertNotNil(YAMLNesting.firstLineBeyond(128, in: "x: " + String(repeating: "[", count: 200)))
        XCTAssertNotNil(YAMLNesting.firstLineBeyond(128, in: "x:\n" + String(repeating: "- ", count: 200) + "1"))
        XCTAssertNotNil(YAMLNesting.firstLineBeyond(128, in: "x:\n" + String(repeating: " ", count: 300) + "y: 1"))
        // Brackets and indicators inside quotes and comments are text, not nesting.
        XCTAssertNil(YAMLNesting.firstLineBeyond(128, in: "note: '" + String(repeating: "[", count: 300) + "'\n# " + String(repeating: "{", count: 300)))
        XCTAssertNil(YAMLNesting.firstLineBeyond(128, in: "x: {" + (0..<200).map { "k\($0): 1" }.joined(separator: ", ") + "}"),
                     "keys of one flow mapping are one level")
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Suites")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        XCTAssertFalse(files.isEmpty)
        for f in files {
            let text = try String(contentsOf: folder.appendingPathComponent(f), encoding: .utf8)
            XCTAssertNil(YAMLNesting.firstLineBeyond(Suite.maxNesting, in: text), f)
            XCTAssertNil(YAMLNesting.firstLineBeyond(32, in: text), "\(f): real suites nest far below the limit")
        }
        XCTAssertThrowsError(try Suite.decode(yaml: "suite: x\nprotocol: " + String(repeating: "[", count: 5000), file: "deep.yaml")) { e in
            XCTAssertTrue("\(e)".contains("deep.yaml:2") && "\(e)".contains("nests"), "\(e)")
        }
    }

    /// λ ~ Beta(α, α) never NaN for α down to the decoder's 1e-6 (both Gamma draws underflow to
    /// 0 below α ≈ 0.01); for ordinary α the draws are the bytes of a / (a + b) as before.
    func testBetaDrawsOfATinyAlphaAreNumbersAndOrdinaryOnesUnchanged() {
        for alpha in [1e-6, 1e-5, 1e-4, 1e-3, 0.01] {
            for i in 0..<200 {
                var d = RandomDraws(Philox(seed: 7, purpose: .mix, index: UInt64(i)))
                let l = d.beta(alpha)
                XCTAssertTrue(l.isFinite && l >= 0 && l <= 1, "α \(alpha) draw \(i): \(l)")
                _ = BatchMixer.CutBox(lambda: l, height: 28, width: 28, centerY: 3, centerX: 5)   // Int(NaN) trapped here
            }
        }
        for alpha in [0.2, 1.0, 2.5] {
            for i in 0..<200 {
                var a = RandomDraws(Philox(seed: 3, purpose: .mix, index: UInt64(i))), b = a
                let new = a.beta(alpha)
                func gamma(_ al: Double) -> Double {   // the plain formula
                    if al < 1 { return gamma(al + 1) * pow(max(b.uniform(), 1e-300), 1 / al) }
                    return b.gamma(al)
                }
                let x = gamma(alpha), y = gamma(alpha)
                XCTAssertEqual(new.bitPattern, (x / (x + y)).bitPattern, "α \(alpha) draw \(i)")
            }
        }
    }

    private func plan(out: String, cwd: String = "/home/me/rkan", suites: String = "/home/me/rkan/Suites", binary: String = "/opt/rkan-repro") throws -> SlurmPlan {
        let suite = try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml")
        return SlurmPlan(suite: "demo", profile: "smoke", runs: try suite.runs(profile: "smoke", seeds: [0]), binary: URL(fileURLWithPath: binary),
                         out: URL(fileURLWithPath: out, isDirectory: true), suitesFolder: URL(fileURLWithPath: suites, isDirectory: true),
                         dataFolder: nil, workingDirectory: URL(fileURLWithPath: cwd, isDirectory: true), resources: SlurmResources())
    }

    /// Every value job.sbatch embeds is quoted where it is a shell word or refused where it
    /// cannot be carried; a hostile path never becomes a command.
    func testSlurmScriptQuotesOrRefusesEveryEmbeddedValue() throws {
        for bad in ["/tmp/a\ntouch /tmp/pwned", "/tmp/a\rb", "/tmp/a\"b", "/tmp/a\\b", "/tmp/a%jb"] {
            XCTAssertThrowsError(try plan(out: bad).validate(), bad.debugDescription) { e in XCTAssertTrue("\(e)".contains("--runs"), "\(e)") }
            XCTAssertThrowsError(try plan(out: "/tmp/ok", cwd: bad).validate(), bad.debugDescription) { e in
                XCTAssertTrue("\(e)".contains("working directory"), "\(e)")
            }
        }
        XCTAssertThrowsError(try plan(out: "/tmp/ok", suites: "/tmp/s\n$(reboot)").validate())
        // Spaces, quotes, $(), backticks and ; are carried, quoted, and never run.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sbatch-\(getpid())-\(UUID().uuidString.prefix(6))")
        let hostile = "x y 'q' $(touch PWNED1) `touch PWNED2` ; touch PWNED3"
        let out = dir.appendingPathComponent("out \(hostile)"), cwd = dir.appendingPathComponent("cwd \(hostile)")
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        let fake = dir.appendingPathComponent("bin \(hostile)")
        try "#!/bin/sh\nfor a in \"$@\"; do printf '%s|' \"$a\"; done\n".write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        let p = try plan(out: out.path, cwd: cwd.path, suites: dir.appendingPathComponent("suites \(hostile)").path, binary: fake.path)
        XCTAssertNoThrow(try p.validate())
        try SlurmSubmission.write(p)
        let script = try String(contentsOf: URL(fileURLWithPath: p.scriptPath), encoding: .utf8)
        for line in script.split(separator: "\n") where line.hasPrefix("#SBATCH") && line.contains(dir.path) {
            XCTAssertTrue(line.contains("=\"") && line.hasSuffix("\""), "a directive with spaces is in double quotes: \(line)")
        }
        for line in script.split(separator: "\n") where line.contains("PWNED") && !line.hasPrefix("#") {
            XCTAssertTrue(line.hasPrefix("exec ") || line.hasPrefix("plan="), "a hostile value outside a comment, a directive or a quoted word: \(line)")
        }
        var env = ProcessInfo.processInfo.environment
        env["SLURM_ARRAY_TASK_ID"] = "0"
        let r = try runCapturingOutput(URL(fileURLWithPath: "/bin/bash"), [p.scriptPath], environment: env)
        XCTAssertEqual(r.code, 0, r.output)
        XCTAssertTrue(r.output.contains("|--runs|\(out.path)|") && r.output.contains("|--suites|\(dir.path)/suites \(hostile)|"), r.output)
        for name in ["PWNED1", "PWNED2", "PWNED3"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name) was created: a value ran as a command")
            XCTAssertFalse(FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/" + name), "\(name) was created")
        }
    }

    func testReadmeUpdateWritesThroughASymlinkAndKeepsTheMode() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("docs"), withIntermediateDirectories: true)
        let real = dir.appendingPathComponent("docs/README.md"), link = dir.appendingPathComponent("README.md")
        try "intro\n<!-- rkan-repro:s -->\nold\n<!-- /rkan-repro:s -->\nend\n".write(to: real, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(real.path, 0o640), 0)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "docs/README.md")
        try ReadmeUpdater.update(readme: link, suite: "s", block: "new table")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link.path), "docs/README.md", "the link stays a link")
        XCTAssertTrue(try String(contentsOf: real, encoding: .utf8).contains("\nnew table\n"), "the target holds the new block")
        var st = stat()
        XCTAssertEqual(stat(real.path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o640, "the mode is kept")
        // Marker errors name the README and say which marker is missing.
        try "<!-- rkan-repro:s -->\nno end\n".write(to: real, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ReadmeUpdater.update(readme: link, suite: "s", block: "x")) { e in
            XCTAssertTrue("\(e)".contains(link.path) && "\(e)".contains("end marker") && "\(e)".contains("is missing"), "\(e)")
            XCTAssertFalse("\(e)".contains("the markers are missing"), "\(e)")
        }
        let fifo = dir.appendingPathComponent("fifo.md")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        XCTAssertThrowsError(try ReadmeUpdater.update(readme: fifo, suite: "s", block: "x")) { e in
            XCTAssertTrue("\(e)".contains("FIFO"), "\(e)")
        }
    }

    /// The commit comes from the files of the binary's own checkout (a worktree's `.git` file,
    /// loose and packed refs), never from the current directory.
    func testCommitIsReadFromTheCheckoutFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gitfiles-\(getpid())-\(UUID().uuidString.prefix(6))")
        let main = dir.appendingPathComponent("main/.git"), wt = dir.appendingPathComponent("wt")
        let sha1 = String(repeating: "a1", count: 20), sha2 = String(repeating: "b2", count: 20)
        try FileManager.default.createDirectory(at: main.appendingPathComponent("worktrees/wt"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: wt.appendingPathComponent(".build/release"), withIntermediateDirectories: true)
        try "gitdir: \(main.path)/worktrees/wt\n".write(to: wt.appendingPathComponent(".git"), atomically: true, encoding: .utf8)
        try "ref: refs/heads/feature\n".write(to: main.appendingPathComponent("worktrees/wt/HEAD"), atomically: true, encoding: .utf8)
        try "../..\n".write(to: main.appendingPathComponent("worktrees/wt/commondir"), atomically: true, encoding: .utf8)
        try "# pack-refs\n\(sha2) refs/heads/feature\n".write(to: main.appendingPathComponent("packed-refs"), atomically: true, encoding: .utf8)
        let exe = wt.appendingPathComponent(".build/release/rkan-repro")
        XCTAssertEqual(MachineInfo.checkoutRoot(containing: exe)?.standardizedFileURL.path, wt.standardizedFileURL.path)
        XCTAssertEqual(MachineInfo.headCommit(wt), sha2)
        try FileManager.default.createDirectory(at: main.appendingPathComponent("refs/heads"), withIntermediateDirectories: true)
        try "\(sha1)\n".write(to: main.appendingPathComponent("refs/heads/feature"), atomically: true, encoding: .utf8)
        XCTAssertEqual(MachineInfo.headCommit(wt), sha1, "a loose ref wins over the packed one")
        XCTAssertNil(MachineInfo.checkoutRoot(containing: URL(fileURLWithPath: "/usr/bin/env")).flatMap { MachineInfo.headCommit($0) })
    }

    func testConfigDifferencesNameEachSetting() {
        let a = #"{"model":"resnet18","training":{"epochs":2,"optimizer":{"lr":0.05}},"seed":0}"#
        let b = #"{"model":"resnet34","training":{"epochs":5,"optimizer":{"lr":0.05}},"seed":0}"#
        XCTAssertEqual(RunFileAccess.configDifferences(recorded: a, wanted: b),
                       ["model: resnet18 in the file, resnet34 in the suite", "training.epochs: 2 in the file, 5 in the suite"])
        XCTAssertEqual(RunFileAccess.configDifferences(recorded: "{", wanted: b), ["the recorded configuration is not readable JSON"])
    }

    /// Tiny ImageNet with a wnids.txt of 201 classes and a train subset: an error naming the
    /// split and the class counts, where the subset used to fail a precondition.
    func testMoreClassesThanTheDatasetIsAnErrorBeforeTheSubset() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tin-\(getpid())-\(UUID().uuidString.prefix(6))")
        let root = dir.appendingPathComponent("tiny-imagenet-200")
        let image = Data(JPEG.encode([UInt8](repeating: 40, count: 64 * 64 * 3), width: 64, height: 64, components: 3, quality: 90))
        let wnids = (0..<201).map { String(format: "n%05d", $0) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("val/images"), withIntermediateDirectories: true)
        try wnids.joined(separator: "\n").write(to: root.appendingPathComponent("wnids.txt"), atomically: true, encoding: .utf8)
        for w in wnids {
            let folder = root.appendingPathComponent("train/\(w)/images")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try image.write(to: folder.appendingPathComponent("\(w)_0.JPEG"))
        }
        try "v0.JPEG\tn00000\t0\t0\t1\t1\n".write(to: root.appendingPathComponent("val/val_annotations.txt"), atomically: true, encoding: .utf8)
        try image.write(to: root.appendingPathComponent("val/images/v0.JPEG"))
        XCTAssertThrowsError(try TrainingData.load(dataset: .tinyImageNet, folder: dir, imageSize: 64, trainSubset: 100, testSubset: nil,
                                                   workers: 0, subsetSeed: 0)) { e in
            XCTAssertTrue("\(e)".contains("201 classes") && "\(e)".contains("200"), "\(e)")
        }
    }
}
