import Foundation
import XCTest
import TestSupport
import RunStore

/// `run` on a detection suite: the generated shapes data, a tiny Mask R-CNN trained and
/// evaluated, resumed after SIGKILL inside an epoch to the bytes of an uninterrupted run, the
/// same bytes for 1 and 2 threads, non-finite batches skipped and counted, and the start
/// weights' rules.
final class DetectionRunTests: XCTestCase {
    /// A detection suite of two rows (a baseline and its RKAN twin) at 64 px: 3 batches of 4 per
    /// epoch, 2 epochs, 4 validation images, the data made under the run tree.
    private func suites(start: String = "random", extraProfile: String = "") throws -> URL {
        let dir = try makeTempFolder("det-suites")
        let yaml = """
        suite: det
        title: Tiny detection
        source: test
        dataset: {name: coco, resolution: 64}
        protocol:
          epochs: 2
          batch_size: 4
          optimizer: {name: sgd, lr: 0.02, momentum: 0.9, nesterov: true, weight_decay: 1.0e-4}
          schedule: {name: multistep, milestones: [1], gamma: 0.1}
          augment: {hflip: true}
          start: imagenet
        profiles:
          t: {train_subset: 12, test_subset: 4, width: 0.125, start: \(start), shapes: {images: 16, size: 64, seed: 3},
              bench: {warmup: 0, iterations: 1, repeats: 2}\(extraProfile)}
        seeds: [0]
        experiments:
          - {id: base, model: "maskrcnn(resnet18)"}
          - {id: rkan, model: "maskrcnn(resnet18+rkan)", baseline: base}
        """
        try yaml.write(to: dir.appendingPathComponent("det.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    private func run(_ suites: URL, _ out: URL, only: String = "base", threads: Int = 2, _ extra: [String] = [],
                     env: [String: String] = [:]) throws -> CLI.Result {
        try CLI.run(["run", "det", "--profile", "t", "--only", only, "--suites", suites.path, "--runs", out.path, "--threads", "\(threads)"] + extra,
                    env: env)
    }

    private func file(_ out: URL, _ row: String = "base") -> URL { out.appendingPathComponent("det/t/\(row)/seed-0.h5") }

    func testTrainsEvaluatesAndResumesToTheSameBytesForAnyThreadCount() throws {
        let s = try suites()
        let clean = try CLI.tempFolder("det-clean"), crashed = try CLI.tempFolder("det-crashed"), single = try CLI.tempFolder("det-1t")
        let a = try run(s, clean, only: "base,rkan")
        XCTAssertEqual(a.code, 0, a.stderr)
        XCTAssertTrue(a.stderr.contains("making the shapes data set (16 training images of 64×64, seed 3)"), a.stderr)
        XCTAssertTrue(a.stderr.contains("box AP") && a.stderr.contains("mask AP"), a.stderr)
        let ra = try RunFile.read(file(clean))
        XCTAssertEqual(ra.attributes.status, .finished)
        XCTAssertEqual(ra.attributes.model, "maskrcnn(resnet18(width=0.125))")
        XCTAssertEqual(ra.state.epoch, 2)
        XCTAssertEqual(ra.state.step, 6)
        for name in ["train_loss", "train_loss_classifier", "train_loss_box_reg", "train_loss_mask", "train_loss_objectness",
                     "train_loss_rpn_box_reg", "skipped_batches", "lr", "val_bbox_ap", "val_bbox_ap50", "val_segm_ap", "val_segm_ar100",
                     "official_bbox_ap", "official_segm_ap50"] {
            let v = try XCTUnwrap(ra.metrics[name], name)
            XCTAssertEqual(v.count, 2, name)
            XCTAssertTrue(v.allSatisfy { $0.isFinite && ($0 >= 0 || $0 == -1) }, "\(name): \(v)")
        }
        XCTAssertEqual(ra.metrics["skipped_batches"], [0, 0])
        XCTAssertEqual(ra.metrics["lr"], [0.02, 0.002], "MultiStepLR([1], 0.1) per epoch")
        XCTAssertGreaterThan(ra.metrics["train_loss"]![0], 0)
        XCTAssertTrue(ra.state.extraJSON.contains("\"start_weights\":\"random\""), ra.state.extraJSON)
        XCTAssertEqual(ra.bench.first { $0.name == "infer_fps" }?.values.count, 2)
        XCTAssertEqual(ra.bench.first { $0.name == "infer_fps" }?.batch, 1)
        let rk = try RunFile.read(file(clean, "rkan"))
        XCTAssertEqual(rk.bench.first { $0.name == "infer_fps_ratio_vs_baseline" }?.values.count, 2, "the RKAN row times its baseline in alternation")
        XCTAssertTrue(rk.weights.contains { $0.key.hasPrefix("rkan_components.conv_reduce.3.") })
        XCTAssertTrue(rk.weights.contains { $0.key.hasPrefix("backbone.body.layer4.base_layer.0.") })

        // SIGKILL after batch k of epoch 2 with a checkpoint after every batch, then resume.
        let k = Int.random(in: 1...2)
        let killed = try run(s, crashed, ["--checkpoint-every", "0.001s"], env: ["RKAN_CRASH_AFTER_STEPS": String(3 + k)])
        XCTAssertTrue(killed.killedBySignal, "expected a SIGKILL after batch \(k) of epoch 2: \(killed.stderr)")
        let mid = try RunFile.read(file(crashed))
        XCTAssertEqual(mid.attributes.status, .running)
        XCTAssertEqual(mid.state.values["epoch_batches_done"], Int64(k))
        XCTAssertNotNil(mid.state.values["epoch_sum_loss_mask_bits"], "the detector's running loss sums are checkpointed")
        let resumed = try run(s, crashed, ["--checkpoint-every", "0.001s"])
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming after epoch 1 and batch \(k) of 3 of epoch 2"), resumed.stderr)
        let rb = try RunFile.read(file(crashed))
        XCTAssertEqual(ra.weights, rb.weights, "killed after batch \(k) of epoch 2")
        XCTAssertEqual(ra.optimizer, rb.optimizer)
        XCTAssertEqual(ra.state, rb.state)
        var ma = ra.metrics, mb = rb.metrics
        ma["epoch_seconds"] = nil; mb["epoch_seconds"] = nil
        XCTAssertEqual(ma, mb)

        // One thread: the same bytes.
        let one = try run(s, single, threads: 1)
        XCTAssertEqual(one.code, 0, one.stderr)
        let rc = try RunFile.read(file(single))
        XCTAssertEqual(ra.weights, rc.weights, "threads 1 and 2")
        var mc = rc.metrics
        mc["epoch_seconds"] = nil
        XCTAssertEqual(ma, mc)
    }

    func testANonFiniteLossSkipsTheBatchAndCountsIt() throws {
        let s = try suites()
        let out = try CLI.tempFolder("det-nan")
        let r = try run(s, out, env: ["RKAN_INJECT_NAN_AT_STEP": "4"])
        XCTAssertEqual(r.code, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("epoch 2, batch 2: the loss or a gradient is not finite"), r.stderr)
        let rec = try RunFile.read(file(out))
        XCTAssertEqual(rec.attributes.status, .finished)
        XCTAssertEqual(rec.metrics["skipped_batches"], [0, 1])
        XCTAssertEqual(rec.state.step, 6, "a skipped batch still counts as a step: the draws of later steps do not move")
    }

    func testStartWeightsComeFromTheRowsClassifierOrTheRunRefuses() throws {
        let s = try suites(start: "imagenet")
        let data = try CLI.tempFolder("det-start")
        // No start weights and no imagenet runs: refused, saying what to give.
        let refused = try run(s, data)
        XCTAssertNotEqual(refused.code, 0)
        XCTAssertTrue(refused.stderr.contains("--start-weights base=FILE"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file(data).path), "nothing that looks like a run is left")

        // A classifier's init file of the same backbone: accepted, its digest recorded.
        let weights = data.appendingPathComponent("resnet18.h5")
        let made = try CLI.run(["init", "resnet18(width=0.125)", "--classes", "1000", "--seed", "7", "--out", weights.path])
        XCTAssertEqual(made.code, 0, made.stderr)
        let ok = try run(s, data, ["--start-weights", "base=\(weights.path)"])
        XCTAssertEqual(ok.code, 0, ok.stderr)
        let digest = try XCTUnwrap(InitFile.readHeader(weights).weightsSHA256)
        let rec = try RunFile.read(file(data))
        XCTAssertTrue(rec.state.extraJSON.contains("\"start_weights_sha256\":\"\(digest)\""), rec.state.extraJSON)

        // Another backbone's weights: refused, naming what does not fit.
        let other = data.appendingPathComponent("resnet34.h5")
        XCTAssertEqual(try CLI.run(["init", "resnet34(width=0.125)", "--classes", "10", "--seed", "0", "--out", other.path]).code, 0)
        let wrong = try run(s, try CLI.tempFolder("det-wrong"), ["--start-weights", "base=\(other.path)"])
        XCTAssertNotEqual(wrong.code, 0)
        XCTAssertTrue(wrong.stderr.contains("not the classification weights of resnet18(width=0.125)"), wrong.stderr)
        let unknown = try run(s, try CLI.tempFolder("det-unknown"), ["--start-weights", "nope=\(other.path)"])
        XCTAssertNotEqual(unknown.code, 0)
        XCTAssertTrue(unknown.stderr.contains("has no row 'nope'"), unknown.stderr)
    }

    func testDetectionRefusesSeveralRanksAndASuiteWithoutData() throws {
        let s = try suites()
        let ranks = try run(s, try CLI.tempFolder("det-ranks"), ["--ranks", "2"])
        XCTAssertNotEqual(ranks.code, 0)
        XCTAssertTrue(ranks.stderr.contains("BatchNorm statistics synchronised"), ranks.stderr)
        let paper = try CLI.run(["run", "det", "--profile", "paper", "--suites", s.path, "--runs", try CLI.tempFolder("det-paper").path])
        XCTAssertNotEqual(paper.code, 0)
        XCTAssertTrue(paper.stderr.contains("give --data DIR"), paper.stderr)
    }
}
