import Foundation
import XCTest
import TestSupport
import RunStore
import Engine

/// `rkan-repro run` end to end on real Fashion-MNIST (tiny profile): same seed → same bytes,
/// and SIGKILL + rerun → the same bytes as an uninterrupted run.
final class RunDeterminismTests: XCTestCase {
    override func setUpWithError() throws {
        try Prerequisite.fashionMNIST()
    }

    private func runTiny(_ suites: URL, out: URL, env: [String: String] = [:]) throws -> CLI.Result {
        try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--threads", "2"], env: env)
    }

    private func file(_ out: URL, _ id: String) -> URL {
        out.appendingPathComponent("tiny/t/\(id)/seed-0.h5")
    }

    /// Deterministic content of a run file: weights, optimizer state, state and metrics except timings.
    private func content(_ url: URL) throws -> (RunRecord, [String: [Double]]) {
        let r = try RunFile.read(url)
        var m = r.metrics
        m["epoch_seconds"] = nil
        return (r, m)
    }

    func testSameSeedTwiceGivesIdenticalWeights() throws {
        let suites = try CLI.tinySuites()
        let a = try CLI.tempFolder("a"), b = try CLI.tempFolder("b")
        let ra = try runTiny(suites, out: a), rb = try runTiny(suites, out: b)
        XCTAssertEqual(ra.code, 0, ra.stderr)
        XCTAssertEqual(rb.code, 0, rb.stderr)
        for id in ["base", "rkan"] {
            let (x, mx) = try content(file(a, id)), (y, my) = try content(file(b, id))
            XCTAssertEqual(x.attributes.status, .finished)
            XCTAssertEqual(x.weights, y.weights, "\(id): weights differ between two identical runs")
            XCTAssertEqual(x.attributes.weightsSHA256, y.attributes.weightsSHA256)
            XCTAssertEqual(x.optimizer, y.optimizer)
            XCTAssertEqual(mx, my)
            XCTAssertEqual(x.metrics["val_top1"]?.count, 3, "one value per epoch")
        }
        // A second run into the same folder finds everything finished and changes nothing.
        let before = try Data(contentsOf: file(a, "rkan"))
        let again = try runTiny(suites, out: a)
        XCTAssertEqual(again.code, 0)
        XCTAssertTrue(again.stderr.contains("already finished"), again.stderr)
        XCTAssertEqual(try Data(contentsOf: file(a, "rkan")), before)
    }

    func testOneAndTwoThreadsGiveIdenticalWeights() throws {
        let suites = try CLI.tinySuites()
        let one = try CLI.tempFolder("t1"), two = try CLI.tempFolder("t2")
        for (out, t) in [(one, "1"), (two, "2")] {
            let r = try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--threads", t])
            XCTAssertEqual(r.code, 0, r.stderr)
        }
        for id in ["base", "rkan"] {
            XCTAssertEqual(try RunFile.read(file(one, id)).weights, try RunFile.read(file(two, id)).weights,
                           "\(id): 1-thread and 2-thread runs differ")
        }
    }

    func testSIGKILLMidEpochThenRerunGivesTheSameBytes() throws {
        let suites = try CLI.tinySuites()
        let clean = try CLI.tempFolder("clean"), crashed = try CLI.tempFolder("crashed")
        XCTAssertEqual(try runTiny(suites, out: clean).code, 0)
        // 3 steps per epoch: step 5 is mid-epoch 2 of `base`; step 13 is mid-epoch 2 of `rkan`.
        for crashAt in [5, 13] {
            let r = try runTiny(suites, out: crashed, env: ["RKAN_CRASH_AFTER_STEPS": String(crashAt - (crashAt > 9 ? 9 : 0))])
            XCTAssertTrue(r.killedBySignal, "expected the run to be killed (crash at \(crashAt)): \(r.stderr)")
        }
        let resumed = try runTiny(suites, out: crashed)
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming after epoch"), resumed.stderr)
        for id in ["base", "rkan"] {
            let (x, mx) = try content(file(clean, id)), (y, my) = try content(file(crashed, id))
            XCTAssertEqual(x.weights, y.weights, "\(id): resumed weights differ from an uninterrupted run")
            XCTAssertEqual(x.optimizer, y.optimizer)
            XCTAssertEqual(x.state.step, y.state.step)
            XCTAssertEqual(mx, my)
        }
    }

    /// The conv algorithm is recorded, changes the bytes, and a checkpoint resumes only with the
    /// algorithm that wrote it (anything else could not give the uninterrupted run's bytes).
    func testConvAlgorithmIsRecordedAndResumeRefusesAnother() throws {
        let suites = try CLI.tinySuites()
        let wino = try CLI.tempFolder("wino"), plain = try CLI.tempFolder("im2col"), crashed = try CLI.tempFolder("mixed")
        let standard = ConvAlgorithm.standard.rawValue
        XCTAssertEqual(try runTiny(suites, out: wino, env: ["RKAN_CONV_ALGO": standard]).code, 0)
        XCTAssertEqual(try runTiny(suites, out: plain, env: ["RKAN_CONV_ALGO": "im2col"]).code, 0)
        let (w, p) = (try RunFile.read(file(wino, "base")), try RunFile.read(file(plain, "base")))
        XCTAssertEqual(w.attributes.convAlgorithm, standard)
        XCTAssertEqual(p.attributes.convAlgorithm, "im2col")
        XCTAssertNotEqual(w.attributes.weightsSHA256, p.attributes.weightsSHA256, "the tiny models have Winograd-eligible convs")

        let crash = try runTiny(suites, out: crashed, env: ["RKAN_CRASH_AFTER_STEPS": "5"])   // the default
        XCTAssertTrue(crash.killedBySignal, crash.stderr)
        let refused = try runTiny(suites, out: crashed, env: ["RKAN_CONV_ALGO": "im2col"])
        XCTAssertNotEqual(refused.code, 0)
        XCTAssertTrue(refused.stderr.contains("RKAN_CONV_ALGO=\(standard)") && refused.stderr.contains("seed-0.h5"), refused.stderr)
        let typo = try runTiny(suites, out: crashed, env: ["RKAN_CONV_ALGO": "winograd"])
        XCTAssertEqual(typo.code, 1)
        XCTAssertTrue(typo.stderr.contains("RKAN_CONV_ALGO") && typo.stderr.contains(standard), typo.stderr)
        let resumed = try runTiny(suites, out: crashed, env: ["RKAN_CONV_ALGO": standard])
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        XCTAssertEqual(try RunFile.read(file(crashed, "base")).weights, w.weights)
    }

    /// The Winograd GEMM is recorded (`winograd_gemm`), changes the bytes, and a checkpoint resumes
    /// only with the GEMM that wrote it; `bench` names the one it ran.
    func testWinogradGEMMIsRecordedAndResumeRefusesAnother() throws {
        let suites = try CLI.tinySuites()
        let own = try CLI.tempFolder("own-gemm"), blas = try CLI.tempFolder("openblas-gemm"), crashed = try CLI.tempFolder("gemm-crash")
        let standard = WinogradGEMM.standard.rawValue, other = WinogradGEMM.standard == .own ? "openblas" : "own"
        XCTAssertEqual(try runTiny(suites, out: own, env: ["RKAN_WINO_GEMM": "own"]).code, 0)
        XCTAssertEqual(try runTiny(suites, out: blas, env: ["RKAN_WINO_GEMM": "openblas"]).code, 0)
        let (o, b) = (try RunFile.read(file(own, "base")), try RunFile.read(file(blas, "base")))
        XCTAssertEqual(o.attributes.winogradGEMM, "own")
        XCTAssertEqual(b.attributes.winogradGEMM, "openblas")
        XCTAssertNotEqual(o.attributes.weightsSHA256, b.attributes.weightsSHA256, "the tiny models have Winograd-eligible convs")

        // The default: unset, whatever the caller's shell exports.
        let crash = try runTiny(suites, out: crashed, env: ["RKAN_CRASH_AFTER_STEPS": "5", "RKAN_WINO_GEMM": ""])
        XCTAssertTrue(crash.killedBySignal, crash.stderr)
        let refused = try runTiny(suites, out: crashed, env: ["RKAN_WINO_GEMM": other])
        XCTAssertEqual(refused.code, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("RKAN_WINO_GEMM=\(standard)") && refused.stderr.contains("seed-0.h5"), refused.stderr)
        let typo = try runTiny(suites, out: crashed, env: ["RKAN_WINO_GEMM": "fast"])
        XCTAssertEqual(typo.code, 1)
        XCTAssertTrue(typo.stderr.contains("RKAN_WINO_GEMM") && typo.stderr.contains("openblas, own"), typo.stderr)
        let resumed = try runTiny(suites, out: crashed, env: ["RKAN_WINO_GEMM": ""])
        XCTAssertEqual(resumed.code, 0, resumed.stderr)
        XCTAssertEqual(try RunFile.read(file(crashed, "base")).weights, (standard == "own" ? o : b).weights)

        let bench = try CLI.run(["bench", "resnet18(stem=small,width=0.25)", "--batch", "2", "--size", "16", "--mode", "infer",
                                 "--warmup", "0", "--iterations", "1", "--repeats", "1", "--threads", "1", "--json"],
                                env: ["RKAN_WINO_GEMM": "openblas"])
        XCTAssertEqual(bench.code, 0, bench.stderr)
        XCTAssertTrue(bench.stdout.contains("OpenBLAS GEMM"), bench.stdout)
    }

    func testRunFileOpensInH5py() throws {
        let python = try H5pyPython.require()
        let suites = try CLI.tinySuites()
        let out = try CLI.tempFolder("h5py")
        XCTAssertEqual(try CLI.run(["run", "tiny", "--profile", "t", "--suites", suites.path, "--out", out.path, "--only", "rkan"]).code, 0)
        let script = """
        import h5py, sys
        f = h5py.File(sys.argv[1], "r")
        w = f["weights"]
        assert w["resnet.conv1.weight"].shape == (8, 1, 3, 3), w["resnet.conv1.weight"].shape
        assert w["resnet.fc.weight"].shape == (10, 64)
        assert w["kan_conv1.3.convs.0.conv.polynomial_weight"].shape == (1, 9, 4)
        assert w["kan_conv2.3.convs.0.conv.polynomial_weight"].shape == (1, 9, 3)
        assert w["kan_conv2.3.convs.0.conv.scaler"].shape == (1, 9)
        assert w["kan_conv2.3.convs.0.conv.base_linear.weight"].shape == (1, 9)
        assert w["conv_reduce.3.weight"].shape == (16, 32, 1, 1)
        assert w["resnet.layer4.1.bn2.num_batches_tracked"][()] == 9
        assert w["resnet.layer4.1.bn2.num_batches_tracked"].dtype == "int64"
        assert all(len(f["metrics"][k]) == 3 for k in ["train_loss", "val_top1", "val_top5", "lr"])
        assert f.attrs["status"] == b"finished" and f.attrs["schema"] == b"rkan-repro/2"
        print("ok")
        """
        let r = try H5pyPython.run(python, ["-c", script, out.appendingPathComponent("tiny/t/rkan/seed-0.h5").path])
        XCTAssertEqual(r.status, 0, r.stderr)
    }
}

extension CLI {
    static func runProcess(_ exe: String, _ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }
}
