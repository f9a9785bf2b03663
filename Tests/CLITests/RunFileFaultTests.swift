import Foundation
import XCTest
import TestSupport
import RunStore
import Harness

/// Fault injection on run files, end to end: a flipped bit in any part, a file copied into
/// another slot, a truncated file. Every reader (run, status, report, check, forward) refuses
/// it with exit 1, names the part, and prints a command that works: it moves the file aside
/// (kept) and retrains. Nothing outside the output folder changes.
final class RunFileFaultTests: XCTestCase {
    override func setUpWithError() throws {
        try Prerequisite.fashionMNIST()
    }

    private func readers(_ root: URL) -> [(String, [String])] {
        let s = Fault.suites(root), o = Fault.out(root).path
        return [
            ("report", ["report", "tiny", "--profile", "t", "--suites", s, "--runs", o, "--out", o + "/r.md"]),
            ("check", ["check", "tiny", "--profile", "t", "--suites", s, "--runs", o, "--baseline", o + "/b.json", "--update-baseline"]),
            ("status", ["status", "tiny", "--profile", "t", "--suites", s, "--out", o]),
            ("run", ["run", "tiny", "--profile", "t", "--suites", s, "--out", o, "--threads", "2"]),
        ]
    }

    func testAFlippedBitInEachPartIsRefusedByEveryReader() throws {
        let parts: [(String, (URL) throws -> Void, String)] = [
            ("weights", { try Fault.flipInGroup($0, "/weights") }, "weights (/weights)"),
            ("optimizer", { try Fault.flipInGroup($0, "/optimizer") }, "optimizer state (/optimizer)"),
            ("state", { try Fault.flipData($0, "/state/epoch") }, "state counters (/state)"),
            ("metrics", { try Fault.flipData($0, "/metrics/val_loss") }, "metrics (/metrics)"),
            ("bench", { try Fault.flipData($0, "/bench/infer_img_s") }, "bench (/bench)"),
            ("attributes", { try Fault.flipText($0, #""experiment":"base""#) }, "root attributes"),
        ]
        for (name, damage, part) in parts {
            let root = try Fault.trainedRoot()
            try damage(Fault.runFile(root))
            let before = Fault.snapshot(root, except: Fault.out(root))
            for (reader, args) in readers(root) where reader != "run" || name == "metrics" || name == "attributes" {
                let r = try CLI.run(args)
                XCTAssertEqual(r.code, 1, "\(name) via \(reader): \(r.stdout) \(r.stderr)")
                let text = r.stdout + r.stderr
                XCTAssertTrue(text.contains(part) && text.contains("--restart base:0"), "\(name) via \(reader): \(text)")
            }
            XCTAssertEqual(Fault.snapshot(root, except: Fault.out(root)), before, "\(name): files outside --out changed")
        }
    }

    func testTheAdvisedCommandMovesTheFileAsideAndRetrains() throws {
        let root = try Fault.trainedRoot()
        let file = Fault.runFile(root)
        try Fault.flipData(file, "/metrics/val_top1")
        let damaged = try Data(contentsOf: file)
        let r = try CLI.run(readers(root)[0].1)
        XCTAssertEqual(r.code, 1, r.stderr)
        let fix = try XCTUnwrap(Fault.advisedCommand(r.stderr), r.stderr)
        XCTAssertTrue(fix.contains("--restart"), "\(fix)")
        let again = try CLI.run(fix + ["--threads", "2"])
        XCTAssertEqual(again.code, 0, again.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path)
        let aside = try XCTUnwrap(names.first { $0.hasPrefix("seed-0.h5.bad-") }, "\(names)")
        XCTAssertEqual(try Data(contentsOf: file.deletingLastPathComponent().appendingPathComponent(aside)), damaged, "kept, not deleted")
        XCTAssertEqual(try RunFile.read(file).attributes.status, .finished)
        XCTAssertEqual(try CLI.run(readers(root)[0].1).code, 0, "the report reads again")
    }

    func testAFileCopiedIntoAnotherSlotIsRefused() throws {
        let root = try Fault.trainedRoot()
        try FileManager.default.removeItem(at: Fault.runFile(root, "base"))
        try FileManager.default.copyItem(at: Fault.runFile(root, "rkan"), to: Fault.runFile(root, "base"))
        for (reader, args) in readers(root) {
            let r = try CLI.run(args)
            XCTAssertEqual(r.code, 1, "\(reader): \(r.stdout) \(r.stderr)")
            XCTAssertTrue((r.stdout + r.stderr).contains("belongs to another run") && (r.stdout + r.stderr).contains(#"experiment "rkan""#),
                          "\(reader): \(r.stdout) \(r.stderr)")
        }
    }

    func testATruncatedFileGetsACommandThatWorks() throws {
        let root = try Fault.trainedRoot()
        let file = Fault.runFile(root)
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count / 2).write(to: file)
        let r = try CLI.run(readers(root)[3].1)
        XCTAssertEqual(r.code, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("truncated"), r.stderr)
        let fix = try XCTUnwrap(Fault.advisedCommand(r.stderr), r.stderr)
        XCTAssertEqual(try CLI.run(fix + ["--threads", "2"]).code, 0)
        XCTAssertEqual(try RunFile.read(file).attributes.status, .finished)
    }

    func testForwardVerifiesARunFileItReadsWeightsFrom() throws {
        let root = try Fault.trainedRoot()
        let file = Fault.runFile(root)
        try Fault.flipInGroup(file, "/weights")
        let input = root.appendingPathComponent("x.h5")
        let f = try HDF5File.create(input.path)
        try f.write([Float](repeating: 0.5, count: 28 * 28), shape: [1, 1, 28, 28], to: "/input")
        try f.close()
        let r = try CLI.run(["forward", "--model", "resnet18(stem=small,width=0.125)", "--classes", "10", "--weights", file.path,
                             "--input", input.path, "--output", root.appendingPathComponent("y.h5").path])
        XCTAssertEqual(r.code, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("weights (/weights)"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("y.h5").path))
    }

    func testAnOldLayoutFileWithACorruptedStringIsAnErrorNotACrash() throws {
        let root = try Fault.trainedRoot()
        let file = Fault.runFile(root)
        try FileManager.default.removeItem(at: file)
        let f = try HDF5File.create(file.path)
        for (k, v) in [("schema", "rkan-repro/1"), ("suite", "tiny"), ("experiment", "base"), ("model", "resnet18"), ("profile", "t"),
                       ("status", "finished"), ("config", "{}"), ("git_commit", "x"), ("blas_core", "x"), ("host", "h"),
                       ("weights_sha256", ""), ("conv_algorithm", "winograd-f2")] {
            try f.setAttribute(k, .string(v), strings: .variable)
        }
        try f.setAttribute("seed", .int64(0))
        try f.setAttribute("threads", .int64(1))
        try f.write([Float(1)], shape: [1], to: "/weights/w")
        try f.close()
        var bytes = [UInt8](try Data(contentsOf: file))
        let gcol = try XCTUnwrap((0...(bytes.count - 4)).first { bytes[$0..<$0 + 4].elementsEqual(Array("GCOL".utf8)) })
        for i in 0..<8 { bytes[gcol + 24 + i] = 0x7F }  // the first heap object's size
        try Data(bytes).write(to: file)
        for (reader, args) in readers(root) {
            let r = try CLI.run(args)
            XCTAssertFalse(r.killedBySignal, "\(reader) crashed: \(r.stderr)")
            XCTAssertEqual(r.code, 1, "\(reader): \(r.stdout) \(r.stderr)")
            XCTAssertTrue((r.stdout + r.stderr).contains("rkan-repro/1 or older") && (r.stdout + r.stderr).contains("--restart base:0"),
                          "\(reader): \(r.stdout) \(r.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: RunLock.path(for: file)), "run left its lock")
    }
}
