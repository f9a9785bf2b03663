import Foundation
import XCTest
import TestSupport
import RunStore
import Datasets

/// No input kills the process with a signal or hangs it: a folder or a FIFO where a file
/// belongs, a suite nested thousands of levels deep, values that overflow later, dataset headers
/// whose sizes overflow. Each ends with an exit code below 128 and a message naming the file or
/// option.
final class CrashAndHangTests: XCTestCase {
    private func mkfifo(_ url: URL) {
        XCTAssertEqual(Glibc.mkfifo(url.path, 0o644), 0, "mkfifo \(url.path)")
    }

    /// Every command that reads a run file, with a folder and then a FIFO in its place.
    func testAFolderOrFIFOInPlaceOfARunFile() throws {
        try Prerequisite.fashionMNIST()
        let root = try Fault.trainedRoot()
        let file = Fault.runFile(root), o = Fault.out(root).path, s = Fault.suites(root)
        let commands: [(String, [String])] = [
            ("status", ["status", "tiny", "--profile", "t", "--suites", s, "--out", o]),
            ("report", ["report", "tiny", "--profile", "t", "--suites", s, "--runs", o, "--out", root.appendingPathComponent("r.md").path]),
            ("check", ["check", "tiny", "--profile", "t", "--suites", s, "--runs", o, "--baseline", root.appendingPathComponent("b.json").path, "--update-baseline"]),
            ("run", ["run", "tiny", "--profile", "t", "--suites", s, "--out", o, "--only", "base", "--threads", "2"]),
        ]
        for kind in ["folder", "FIFO"] {
            try FileManager.default.removeItem(at: file)
            if kind == "folder" { try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false) } else { mkfifo(file) }
            for (name, args) in commands {
                let r = try TimedRun.run(args)
                TimedRun.assertClean(r, "\(name) with a \(kind) as run file", code: 1, words: [file.path, kind == "folder" ? "a folder" : "FIFO"])
                XCTAssertFalse(r.output.contains("truncated"), "\(name): a \(kind) is not a truncated file: \(r.output.suffix(400))")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.path + ".lock"), "no lock left")
    }

    func testForwardAndInitWithAFolderOrFIFO() throws {
        let root = try CLI.tempFolder("fwd-kinds")
        let weights = root.appendingPathComponent("w.h5"), input = root.appendingPathComponent("x.h5")
        let spec = "resnet18(stem=small,width=0.125)"
        let made = try TimedRun.run(["init", spec, "--classes", "10", "--in-channels", "1", "--seed", "0", "--out", weights.path])
        TimedRun.assertClean(made, "init", code: 0)
        let f = try HDF5File.create(input.path)
        try f.write([Float](repeating: 0.5, count: 28 * 28), shape: [1, 1, 28, 28], to: "/input")
        try f.close()
        let folder = root.appendingPathComponent("dir.h5"), fifo = root.appendingPathComponent("fifo.h5")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        mkfifo(fifo)
        for bad in [folder, fifo] {
            let what = bad == folder ? "a folder" : "FIFO"
            let out = root.appendingPathComponent("y.h5").path
            let base = ["forward", "--model", spec, "--classes", "10"]
            TimedRun.assertClean(try TimedRun.run(base + ["--weights", bad.path, "--input", input.path, "--output", out]),
                                 "forward --weights \(what)", code: 1, words: [bad.path, what])
            TimedRun.assertClean(try TimedRun.run(base + ["--weights", weights.path, "--input", bad.path, "--output", out]),
                                 "forward --input \(what)", code: 1, words: [bad.path, what])
            TimedRun.assertClean(try TimedRun.run(base + ["--weights", weights.path, "--input", input.path, "--output", bad.path]),
                                 "forward --output \(what)", code: 1, words: [bad.path])
            TimedRun.assertClean(try TimedRun.run(["init", spec, "--classes", "10", "--seed", "0", "--out", bad.path]),
                                 "init --out \(what)", code: 1, words: [bad.path])
        }
        var isFolder: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) && isFolder.boolValue, "the folder is left alone")
    }

    /// A suite file that is a FIFO or a device (reading /dev/zero never ends), by symlink.
    func testASuiteThatIsAFIFOOrADevice() throws {
        for target in ["fifo", "/dev/zero", "/dev/null"] {
            let dir = try CLI.tempFolder("suite-kind")
            let yaml = dir.appendingPathComponent("tiny.yaml")
            if target == "fifo" { mkfifo(yaml) } else { try FileManager.default.createSymbolicLink(atPath: yaml.path, withDestinationPath: target) }
            let r = try TimedRun.run(["status", "tiny", "--profile", "t", "--suites", dir.path, "--out", dir.appendingPathComponent("o").path])
            TimedRun.assertClean(r, "suite \(target)", code: 1, words: ["tiny.yaml"])
            XCTAssertFalse(r.output.contains("permission"), "not a permission problem: \(r.output)")
            XCTAssertTrue(r.output.contains(target == "fifo" ? "FIFO" : "device"), r.output)
        }
    }

    /// 5000 levels of flow brackets, of block sequences, and of mixed nesting (a few KB each).
    func testDeeplyNestedSuitesAreRefused() throws {
        let bodies = ["suite: tiny\nx: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n",
                      "suite: tiny\nx:\n" + String(repeating: "- ", count: 5000) + "1\n",
                      "suite: tiny\nx: " + String(repeating: "{a: ", count: 3000) + "1" + String(repeating: "}", count: 3000) + "\n",
                      "suite: tiny\nx: " + String(repeating: "[{a: ", count: 2000) + "\n"]
        for (i, body) in bodies.enumerated() {
            let dir = try CLI.tempFolder("deep")
            try body.write(to: dir.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
            for cmd in ["status", "plan", "run"] {
                let r = try TimedRun.run([cmd, "tiny", "--profile", "t", "--suites", dir.path] + (cmd == "plan" ? [] : ["--out", dir.appendingPathComponent("o").path]))
                TimedRun.assertClean(r, "\(cmd) on nesting \(i)", code: 1, words: ["tiny.yaml:", "nests"])
            }
        }
        let list = try CLI.tempFolder("deep-list")
        try bodies[0].write(to: list.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
        TimedRun.assertClean(try TimedRun.run(["list", "--suites", list.path]), "list")
    }

    /// Values the decoder used to accept and that overflowed later (a trap and a stale lock).
    func testValuesNearIntMaxAreRefusedWhereTheyAreDecoded() throws {
        let cases = [("epochs: 3", "epochs: 9223372036854775000", "epochs"),
                     ("pad_crop: 2", "pad_crop: 9223372036854775000", "pad_crop"),
                     ("t: {train_subset: 192", "t: {epochs: 9223372036854775807, train_subset: 192", "epochs"),
                     ("t: {train_subset: 192", "t: {train_subset: 9223372036854775807", "train_subset"),
                     ("augment: {hflip: true, pad_crop: 2}", "augment: {hflip: true, randaugment: {n: 9223372036854775807, m: 9}}", "n"),
                     ("augment: {hflip: true, pad_crop: 2}", "augment: {hflip: true, cutmix: {p: 1.0, alpha: 1.0e-300}}", "alpha"),
                     ("schedule: {name: warmup_cosine, warmup_epochs: 1, min_lr: 1.0e-5}",
                      "schedule: {name: multistep, milestones: [1, 9223372036854775807]}", "milestones")]
        for (old, new, key) in cases {
            let dir = try CLI.tinySuites()
            let yaml = dir.appendingPathComponent("tiny.yaml")
            let text = try String(contentsOf: yaml, encoding: .utf8)
            XCTAssertTrue(text.contains(old), old)
            try text.replacingOccurrences(of: old, with: new).write(to: yaml, atomically: true, encoding: .utf8)
            let out = dir.appendingPathComponent("o")
            let r = try TimedRun.run(["run", "tiny", "--profile", "t", "--suites", dir.path, "--out", out.path, "--only", "base"])
            TimedRun.assertClean(r, new, code: 1, words: ["tiny.yaml:", key])
            let locks = (FileManager.default.enumerator(atPath: out.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".lock") }
            XCTAssertEqual(locks, [], "no lock left: \(new)")
        }
    }

    /// CutMix and MixUp with a tiny α (Beta(α, α) draws underflow to 0/0) train to a finished run.
    func testTinyMixAlphaTrainsWithoutATrapOrAFalseDivergence() throws {
        try Prerequisite.fashionMNIST()
        for mix in ["cutmix: {p: 1.0, alpha: 1.0e-4}", "mixup: {p: 1.0, alpha: 1.0e-5}"] {
            let dir = try CLI.tinySuites()
            let yaml = dir.appendingPathComponent("tiny.yaml")
            try (try String(contentsOf: yaml, encoding: .utf8))
                .replacingOccurrences(of: "augment: {hflip: true, pad_crop: 2}", with: "augment: {hflip: true, pad_crop: 2, \(mix)}")
                .replacingOccurrences(of: "epochs: 3", with: "epochs: 1").replacingOccurrences(of: "warmup_epochs: 1", with: "warmup_epochs: 0")
                .write(to: yaml, atomically: true, encoding: .utf8)
            let out = dir.appendingPathComponent("o")
            let r = try TimedRun.run(["run", "tiny", "--profile", "t", "--suites", dir.path, "--out", out.path, "--only", "base", "--threads", "2"],
                                     limit: 300)
            TimedRun.assertClean(r, mix, code: 0)
            XCTAssertFalse(r.stderr.contains("diverged"), r.stderr)
            XCTAssertEqual(try RunFile.readAttributes(out.appendingPathComponent("tiny/t/base/seed-0.h5")).status, .finished, mix)
        }
    }

    /// IDX headers whose dimensions multiply past Int.max, and a test split of 0 images.
    func testIDXHeadersAndEmptySplits() throws {
        try Prerequisite.fashionMNIST()
        let names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        func dataFolder(_ replace: [String: [UInt8]]) throws -> URL {
            let data = try CLI.tempFolder("idx")
            let folder = data.appendingPathComponent("fashion-mnist")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for n in names {
                let bytes: Data
                if let r = replace[n] { bytes = Data(Gzip.compress(r)) } else {
                    bytes = try Data(contentsOf: URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist/\(n)"))
                }
                try bytes.write(to: folder.appendingPathComponent(n))
            }
            return data
        }
        var overflow: [UInt8] = [0, 0, 8, 3]
        for d in [UInt32.max, UInt32.max, UInt32.max] { overflow += [UInt8(d >> 24), UInt8(d >> 16 & 0xff), UInt8(d >> 8 & 0xff), UInt8(d & 0xff)] }
        overflow += [UInt8](repeating: 7, count: 100)
        let empty = IDX.encode(dims: [0, 28, 28], payload: []), emptyLabels = IDX.encode(dims: [0], payload: [])
        var labels = try Gzip.decompress(contentsOf: URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"))
        labels[8 + 17] = 200   // sample 17 of a 10-class dataset
        let suites = try CLI.tinySuites()
        for (what, replace, words) in [("overflowing dims", ["train-images-idx3-ubyte.gz": overflow], ["train-images-idx3-ubyte.gz", "dimensions"]),
                                       ("empty test split", ["t10k-images-idx3-ubyte.gz": empty, "t10k-labels-idx1-ubyte.gz": emptyLabels], ["0 images"]),
                                       ("a label outside the classes", ["t10k-labels-idx1-ubyte.gz": labels], ["sample 17", "label 200"])] {
            let data = try dataFolder(replace)
            let out = data.appendingPathComponent("o")
            let r = try TimedRun.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--data", data.path], limit: 120)
            TimedRun.assertClean(r, "run, \(what)", code: 1, words: words)
            let files = (FileManager.default.enumerator(atPath: out.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".h5") }
            XCTAssertEqual(files, [], "\(what): no run file")
            let check = try TimedRun.run(["data", "check", "fashion-mnist", "--data", data.path])
            TimedRun.assertClean(check, "data check, \(what)", code: 1, words: words)
        }
    }
}
