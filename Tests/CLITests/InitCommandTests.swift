import Foundation
import XCTest
import TestSupport
import RunStore

/// `rkan-repro init SPEC --classes N [--in-channels C] --seed S --out W.h5`.
final class InitCommandTests: XCTestCase {
    /// The init file holds exactly the weights a run with that seed starts from: the trainer records
    /// their digest (`/state` extra `init_weights_sha256`) before the first step, and init's file has
    /// the same digest, keys and shapes for the run's model (spec with the profile's width).
    func testInitIsByteIdenticalToEpochZeroOfARun() throws {
        try Prerequisite.fashionMNIST()
        let suites = try CLI.tinySuites(), out = try CLI.tempFolder("init-run")
        let run = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--threads", "2",
                               "--only", "rkan", "--seeds", "0"])
        XCTAssertEqual(run.code, 0, run.stderr)
        let rec = try RunFile.read(out.appendingPathComponent("tiny/t/rkan/seed-0.h5"))
        let extra = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(rec.state.extraJSON.utf8)) as? [String: String])
        let started = try XCTUnwrap(extra["init_weights_sha256"])

        let w = out.appendingPathComponent("init.h5")
        let r = try CLI.run(["init", rec.attributes.model, "--classes", "10", "--in-channels", "1", "--seed", "0", "--out", w.path])
        XCTAssertEqual(r.code, 0, r.stderr)
        let header = try InitFile.readHeader(w)
        XCTAssertEqual(header.weightsSHA256, started, "init's weights are the run's epoch-0 weights")
        XCTAssertEqual(header.model, rec.attributes.model)
        XCTAssertEqual([header.classes, header.inChannels, header.seed], [10, 1, 0])
        let weights = try RunFile.readWeights(w)
        XCTAssertEqual(weights.map(\.key).sorted(), rec.weights.map(\.key).sorted())
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: weights.map { ($0.key, $0.shape) }),
                       Dictionary(uniqueKeysWithValues: rec.weights.map { ($0.key, $0.shape) }))
        XCTAssertNotEqual(rec.attributes.weightsSHA256, started, "training moved the weights")

        let other = try CLI.run(["init", rec.attributes.model, "--classes", "10", "--in-channels", "1", "--seed", "1", "--out", w.path])
        XCTAssertEqual(other.code, 0, "an init file is replaced: \(other.stderr)")
        XCTAssertNotEqual(try InitFile.readHeader(w).weightsSHA256, started, "another seed, other weights")
    }

    /// A file init did not write (here a run file) is kept unless --force; the message names it and the fix.
    func testInitRefusesToReplaceAnotherFileUnlessForced() throws {
        let dir = try CLI.tempFolder("init-keep")
        let precious = dir.appendingPathComponent("weights.h5")
        try Data("not an init file".utf8).write(to: precious)
        let r = try CLI.run(["init", "resnet18(stem=small,width=0.125)+rkan", "--classes", "10", "--seed", "0", "--out", precious.path])
        XCTAssertEqual(r.code, 1)
        XCTAssertTrue(r.stderr.contains(precious.path) && r.stderr.contains("--force"), r.stderr)
        XCTAssertEqual(try Data(contentsOf: precious), Data("not an init file".utf8), "nothing lost")
        let forced = try CLI.run(["init", "resnet18(stem=small,width=0.125)+rkan", "--classes", "10", "--seed", "0",
                                  "--out", precious.path, "--force"])
        XCTAssertEqual(forced.code, 0, forced.stderr)
        XCTAssertEqual(try InitFile.readHeader(precious).model, "resnet18(stem=small,width=0.125)+rkan")
        XCTAssertTrue(forced.stdout.contains("weights_sha256"), forced.stdout)
        let usage = try CLI.run(["init", "resnet18", "--classes", "0", "--seed", "0", "--out", precious.path])
        XCTAssertEqual(usage.code, 64, usage.stderr)
    }

    /// `forward --weights` on an init file checks its weights against `weights_sha256`: a changed
    /// weight byte is an error naming the file, not a plausible forward pass. Huge sizes are refused
    /// before anything is allocated.
    func testInitFileIsVerifiedAndSizesAreBounded() throws {
        let dir = try CLI.tempFolder("init-verify")
        let w = dir.appendingPathComponent("w.h5")
        let spec = "resnet18(stem=small,width=0.125)"
        XCTAssertEqual(try CLI.run(["init", spec, "--classes", "10", "--seed", "0", "--out", w.path]).code, 0)
        // Flip one bit inside the stored values of the largest tensor (found by its bytes).
        let weights = try RunFile.readWeights(w)
        let big = try XCTUnwrap(weights.filter { $0.values.floats != nil }.max { $0.shape.reduce(1, *) < $1.shape.reduce(1, *) })
        let values = try XCTUnwrap(big.values.floats)
        let needle = values.prefix(8).withUnsafeBytes { Data($0) }
        var bytes = try Data(contentsOf: w)
        let at = try XCTUnwrap(bytes.range(of: needle), "the tensor's bytes are stored contiguously").lowerBound
        bytes[at + 1] ^= 0x10
        try bytes.write(to: w)
        XCTAssertThrowsError(try RunFile.readWeights(w)) { error in
            XCTAssertTrue("\(error)".contains("weights (/weights)") && "\(error)".contains("--force"), "\(error)")
        }
        let huge = try CLI.run(["init", spec, "--classes", "1000000000", "--seed", "0", "--out", dir.appendingPathComponent("h.h5").path])
        XCTAssertEqual(huge.code, 1, huge.stderr)
        XCTAssertTrue(huge.stderr.contains("--classes must be from 1 to"), huge.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("h.h5").path))
    }
}
