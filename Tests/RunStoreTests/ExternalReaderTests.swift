import Foundation
import RunStore
import XCTest
import TestSupport

/// Files written here must be readable by the standard HDF5 tools: h5dump (the C library's
/// own reader) and h5py (what PyTorch-side scripts use; `H5pyPython` picks the interpreter). Both are installed by
/// scripts/setup.sh; h5dump is skipped when absent, h5py fails (users rely on it).
final class ExternalReaderTests: XCTestCase {
    private static let checker = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tools/runfile/check_runfile.py").path

    /// Runs Tools/runfile/check_runfile.py on `url` and decodes its JSON.
    private func h5pyView(_ url: URL) throws -> [String: Any] {
        let result = try H5pyPython.run(try H5pyPython.require(), [Self.checker, url.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    func testH5dumpReadsARunFile() throws {
        let probe = runTool("h5dump", ["--version"])
        try Prerequisite.require(probe?.status == 0, "h5dump", fix: "run scripts/setup.sh (installs hdf5-tools)")
        let url = Samples.folder().appendingPathComponent("run.h5")
        try RunFile.write(Samples.record(), to: url)
        let dump = try XCTUnwrap(runTool("h5dump", ["-A", url.path]))  // header and attributes
        XCTAssertEqual(dump.status, 0, dump.stderr)
        for part in ["DATASET \"resnet.conv1.weight\"", "H5T_IEEE_F32LE", "( 4, 3, 3, 3 )",
                     "DATASET \"resnet.bn1.num_batches_tracked\"", "H5T_STD_I64LE", "\"rkan-repro/2\"", "STRPAD H5T_STR_NULLPAD", "ATTRIBUTE \"sha256_metrics\"",
                     "GROUP \"optimizer\"", "GROUP \"rng\"", "H5T_STD_U64LE"] {
            XCTAssertTrue(dump.stdout.contains(part), "h5dump output lacks \(part)")
        }
        let values = try XCTUnwrap(runTool("h5dump", ["-d", "/weights/resnet.bn1.num_batches_tracked", url.path]))
        XCTAssertEqual(values.status, 0, values.stderr)
        XCTAssertTrue(values.stdout.contains("(0): 42"), values.stdout)
    }

    func testH5pyReadsARunFile() throws {
        let url = Samples.folder().appendingPathComponent("run.h5")
        let record = Samples.record()
        let digest = try RunFile.write(record, to: url)
        let view = try h5pyView(url)

        // Root attributes: strings are fixed-length (h5py gives bytes), numbers int64.
        let attrs = try XCTUnwrap(view["attrs"] as? [String: [String: Any]])
        for (name, value) in [("schema", "rkan-repro/2"), ("suite", "cifar100"), ("model", record.attributes.model),
                              ("config", record.attributes.config), ("status", "running"), ("weights_sha256", digest)] {
            XCTAssertEqual(attrs[name]?["type"] as? String, "bytes_", name)
            XCTAssertEqual(attrs[name]?["value"] as? String, value, name)
        }
        XCTAssertEqual(attrs["seed"]?["type"] as? String, "int64")
        XCTAssertEqual(attrs["seed"]?["value"] as? Int, 3)
        XCTAssertEqual(attrs["threads"]?["value"] as? Int, 2)

        // Every tensor with its PyTorch shape and dtype.
        let objects = try XCTUnwrap(view["objects"] as? [String: [String: Any]])
        for w in record.weights {
            let o = objects["/weights/\(w.key)"]
            XCTAssertEqual(o?["shape"] as? [Int], w.shape, w.key)
            XCTAssertEqual(o?["dtype"] as? String, w.values.floats != nil ? "float32" : "int64", w.key)
        }
        XCTAssertEqual(objects["/optimizer/momentum.resnet.conv1.weight"]?["shape"] as? [Int], [4, 3, 3, 3])
        XCTAssertEqual(objects["/metrics/val_top1"]?["shape"] as? [Int], [2])
        XCTAssertEqual(objects["/metrics/val_top1"]?["dtype"] as? String, "float64")
        XCTAssertEqual(objects["/state/epoch"]?["shape"] as? [Int], [])
        XCTAssertEqual(objects["/state/rng/shuffle"]?["dtype"] as? String, "uint64")
        let bench = objects["/bench/train_img_s"]?["attrs"] as? [String: [String: Any]]
        XCTAssertEqual(bench?["batch"]?["value"] as? Int, 128)
        XCTAssertEqual(bench?["size"]?["value"] as? Int, 32)

        // hashlib recomputes the same weights digest from what h5py read.
        XCTAssertEqual(view["weights_sha256"] as? String, digest)
        // ... and every part digest of ContentDigest, an independent implementation of its encoding.
        let content = try XCTUnwrap(view["content_sha256"] as? [String: String])
        XCTAssertEqual(content.count, RunPart.allCases.count)
        for part in RunPart.allCases {
            XCTAssertEqual(content[part.rawValue], attrs[part.attributeName]?["value"] as? String, part.rawValue)
        }
        // The seal, checked with ranges h5py finds itself: every dataset's stored bytes are covered.
        let seal = try XCTUnwrap(view["seal"] as? [String: Bool])
        XCTAssertEqual(seal, ["sealed": true, "ranges_match": true, "intact": true])
    }

    func testH5pyReadsStringAttributesAsStr() throws {
        let url = Samples.folder().appendingPathComponent("strings.h5")
        let f = try HDF5File.create(url.path)
        try f.setAttribute("plain", .string("résumé ✓"), strings: .variable)
        try f.setAttribute("empty", .string(""), strings: .variable)
        try f.setAttribute("list", .strings(["a", "bé"]), strings: .variable)
        try f.close()
        // The helper runs outside XCTUnwrap: an error thrown inside its autoclosure (a skip
        // included) would be recorded as a failure, not as what it is.
        let view = try h5pyView(url)
        let attrs = try XCTUnwrap(view["attrs"] as? [String: [String: Any]])
        XCTAssertEqual(attrs["plain"]?["type"] as? String, "str")
        XCTAssertEqual(attrs["plain"]?["value"] as? String, "résumé ✓")
        XCTAssertEqual(attrs["empty"]?["type"] as? String, "str")
        XCTAssertEqual(attrs["empty"]?["value"] as? String, "")
        XCTAssertEqual(attrs["list"]?["value"] as? [String], ["a", "bé"])
    }
}
