import Foundation
import XCTest
import TestSupport
import RunStore

/// `run --checkpoint-every`: a run SIGKILLed inside an epoch resumes from its last mid-epoch
/// checkpoint to the bytes of an uninterrupted run, and the mid-epoch file never reads as finished.
final class MidEpochCheckpointTests: XCTestCase {
    /// The tiny Fashion-MNIST suite with 2 epochs of 6 batches (192 images in batches of 32).
    private func suites() throws -> URL {
        let dir = try CLI.tinySuites()
        let yaml = dir.appendingPathComponent("tiny.yaml")
        let text = try String(contentsOf: yaml, encoding: .utf8)
            .replacingOccurrences(of: "epochs: 3", with: "epochs: 2").replacingOccurrences(of: "batch_size: 64", with: "batch_size: 32")
        try text.write(to: yaml, atomically: true, encoding: .utf8)
        return dir
    }

    private func run(_ suites: URL, _ out: URL, _ extra: [String] = [], env: [String: String] = [:]) throws -> CLI.Result {
        try CLI.run(["run", "tiny", "--profile", "t", "--only", "base", "--suites", suites.path, "--out", out.path, "--threads", "2"] + extra,
                    env: env)
    }

    func testSIGKILLAtARandomBatchOfEpoch2ResumesToTheUninterruptedBytes() throws {
        try Prerequisite.fashionMNIST()
        let suites = try suites()
        let clean = try CLI.tempFolder("mid-clean"), crashed = try CLI.tempFolder("mid-crashed")
        let file = { (out: URL) in out.appendingPathComponent("tiny/t/base/seed-0.h5") }
        let uninterrupted = try run(suites, clean)   // the default interval: no mid-epoch save in a run this short
        XCTAssertEqual(uninterrupted.code, 0, uninterrupted.stderr)

        // A checkpoint after every batch (each takes longer than 1 ms), killed after batch k of epoch 2.
        let k = Int.random(in: 1...5)
        let killed = try run(suites, crashed, ["--checkpoint-every", "0.001s"], env: ["RKAN_CRASH_AFTER_STEPS": String(6 + k)])
        XCTAssertTrue(killed.killedBySignal, "expected a SIGKILL after batch \(k) of epoch 2: \(killed.stderr)")

        // The file is a running checkpoint of epoch 1 plus k batches: never finished, one epoch of metrics.
        let mid = try RunFile.read(file(crashed))
        XCTAssertEqual(mid.attributes.status, .running, "k = \(k)")
        XCTAssertEqual(mid.state.epoch, 1)
        XCTAssertEqual(mid.state.step, 6 + k)
        XCTAssertEqual(mid.state.values["epoch_batches_done"], Int64(k))
        XCTAssertEqual(mid.metrics["val_top1"]?.count, 1)
        XCTAssertTrue(mid.bench.isEmpty)
        let status = try CLI.run(["status", "tiny", "--profile", "t", "--only", "base", "--suites", suites.path, "--out", crashed.path])
        XCTAssertTrue(status.stdout.contains("running"), status.stdout + status.stderr)
        XCTAssertFalse(status.stdout.contains("finished"), status.stdout)

        let resumed = try run(suites, crashed, ["--checkpoint-every", "0.001s"])
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming after epoch 1 and batch \(k) of 6 of epoch 2"), resumed.stderr)
        let a = try RunFile.read(file(clean)), b = try RunFile.read(file(crashed))
        XCTAssertEqual(b.attributes.status, .finished)
        XCTAssertEqual(a.attributes.weightsSHA256, b.attributes.weightsSHA256, "killed after batch \(k) of epoch 2")
        XCTAssertEqual(a.weights, b.weights)
        XCTAssertEqual(a.optimizer, b.optimizer)
        XCTAssertEqual(a.state, b.state, "an epoch-end state: no mid-epoch values left")
        var ma = a.metrics, mb = b.metrics
        ma["epoch_seconds"] = nil
        mb["epoch_seconds"] = nil
        XCTAssertEqual(ma, mb, "the resumed epoch's training loss and accuracy count every batch once")
    }

    func testBadIntervalIsAUsageError() throws {
        let suites = try CLI.tinySuites()
        for bad in ["10", "5d", "-1m", "soon"] {
            let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", try CLI.tempFolder("bad").path,
                                 "--checkpoint-every=\(bad)"])
            XCTAssertEqual(r.code, 64, "\(bad): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("--checkpoint-every") && r.stderr.contains("'\(bad)'") && r.stderr.contains("10m"), r.stderr)
        }
    }
}
