import Foundation
import XCTest
import Engine
import Zoo
import RunStore
import TestSupport
@testable import Harness

/// The golden digests of `Reports/baselines/portable-digests.json`: with the portable OpenBLAS
/// core (Haswell) a seed gives the same bytes on every x86-64-v3 CPU, so these digests hold on
/// every such machine: the weights of the Fashion-MNIST smoke profile (both rows, seed 0) and
/// eval-mode logits of three specs on a fixed input.
///
/// The file changes only when the arithmetic changes on purpose (the commit says why). To
/// re-record: `RKAN_RECORD_DIGESTS=1 swift test … --filter PortableDigestTests` (it rewrites the
/// file), then review the diff.
final class PortableDigestTests: XCTestCase {
    static let file = CLI.root.appendingPathComponent("Reports/baselines/portable-digests.json")
    static let childVariable = "RKAN_TEST_PORTABLE_CHILD"
    static let specs = ["resnet18(stem=small,width=0.25)", "resnet18(stem=small,width=0.25)+rkan", "resnet50(width=0.25)+rkan(inv=4)"]
    static var recording: Bool { ProcessInfo.processInfo.environment["RKAN_RECORD_DIGESTS"] == "1" }

    override func setUpWithError() throws {
        try XCTSkipUnless(CPUFeatures.current.isV3, "this CPU lacks AVX2 + FMA (x86-64-v3), which the portable OpenBLAS core (Haswell) needs")
    }

    /// The file as a JSON object (empty when recording a new one).
    static func load() throws -> [String: Any] {
        if recording && !FileManager.default.fileExists(atPath: file.path) { return [:] }
        let data = try XCTUnwrap(try? Data(contentsOf: file), "\(file.path) is missing or unreadable")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(file.path) is not a JSON object")
    }

    static func store(_ key: String, _ value: [String: Any]) throws {
        var all = (try? load()) ?? [:]
        all[key] = value
        all["blas_core"] = BLASCore.portable.rawValue
        all["conv_algorithm"] = ConvAlgorithm.standard.rawValue
        all["winograd_gemm"] = WinogradGEMM.standard.rawValue
        all["recorded_on"] = "\(MachineInfo.cpuModel()) (\(CPUFeatures.current.level))"
        let data = try JSONSerialization.data(withJSONObject: all, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: file)
    }

    func testSmokeProfileWeightsMatchTheGoldenDigests() throws {
        try Prerequisite.fashionMNIST()
        XCTAssertTrue(Self.recording || FileManager.default.fileExists(atPath: Self.file.path), "\(Self.file.path) is missing")
        let out = try CLI.tempFolder("portable")
        let r = try CLI.run(["run", "fashion-mnist", "--profile", "smoke", "--seeds", "0", "--blas-core", "portable",
                             "--out", out.path, "--threads", "2"],
                            env: ["OPENBLAS_CORETYPE": "", "RKAN_BLAS_CORE": "", "RKAN_CONV_ALGO": "", "RKAN_WINO_GEMM": ""])
        XCTAssertEqual(r.code, 0, r.stderr)
        var got: [String: String] = [:]
        for id in ["resnet18", "rkanet18"] {
            let rec = try RunFile.read(out.appendingPathComponent("fashion-mnist/smoke/\(id)/seed-0.h5"))
            XCTAssertEqual(rec.attributes.blasCore, "Haswell", "\(id) ran on another core")
            XCTAssertEqual(rec.attributes.winogradGEMM, "own", "\(id) ran another Winograd GEMM than the default of AVX2 + FMA CPUs")
            got[id] = rec.attributes.weightsSHA256
        }
        if Self.recording {
            return try Self.store("smoke", ["suite": "fashion-mnist", "profile": "smoke", "seed": 0, "weights_sha256": got])
        }
        let smoke = try XCTUnwrap(try Self.load()["smoke"] as? [String: Any], "no \"smoke\" in \(Self.file.path)")
        XCTAssertEqual(smoke["weights_sha256"] as? [String: String], got,
                       "smoke weights differ from the portable digests on this \(MachineInfo.cpuModel()): either the arithmetic changed (re-record and say why) or the portable core is not portable")
    }

    func testForwardLogitsMatchTheGoldenDigests() throws {
        if !ChildTest.isChild(Self.childVariable) {
            // OpenBLAS reads OPENBLAS_CORETYPE at load: compute in a child running Haswell.
            let r = try ChildTest.run("CLITests.PortableDigestTests/testForwardLogitsMatchTheGoldenDigests",
                                      env: ["OPENBLAS_CORETYPE": BLASCore.portable.rawValue, Self.childVariable: "1", "RKAN_CONV_ALGO": "",
                                                 "RKAN_WINO_GEMM": ""])
            XCTAssertEqual(r.code, 0, ChildTest.failures(r.output))
            XCTAssertTrue(r.output.contains("Executed 1 test"), "the child ran no test:\n\(r.output.suffix(2000))")
            return
        }
        XCTAssertEqual(BLAS.coreName, BLASCore.portable.rawValue)
        XCTAssertEqual(WinogradGEMM.standard, .own)
        var got: [String: String] = [:]
        for spec in Self.specs { got[spec] = try Self.logitsDigest(spec) }
        if Self.recording {
            return try Self.store("forward", ["classes": 10, "input": "testValues(4 · 32 · 32 · 3, seed: 1) (TestSupport) as NHWC (4, 32, 32, 3)",
                                              "init_seed": 0, "mode": "eval", "logits_sha256": got])
        }
        let forward = try XCTUnwrap(try Self.load()["forward"] as? [String: Any], "no \"forward\" in \(Self.file.path)")
        XCTAssertEqual(forward["logits_sha256"] as? [String: String], got,
                       "logits differ from the portable digests on this \(MachineInfo.cpuModel())")
    }

    /// SHA-256 of the little-endian float32 eval logits of `spec` (seed 0, 10 classes) on the fixed input.
    static func logitsDigest(_ spec: String) throws -> String {
        let model = try Model(spec, classes: 10)
        model.initialize(seed: 0)
        let shape = [4, 32, 32, 3]
        let x = Tensor(shape: shape, values: testValues(shape.reduce(1, *), seed: 1).map(Float.init))
        let logits = try model.forward(x, mode: .eval).array
        var h = SHA256()
        logits.withUnsafeBytes { h.update($0) }
        return SHA256.hexString(h.finalize())
    }
}
