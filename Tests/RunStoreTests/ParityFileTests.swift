import Foundation
import RunStore
import XCTest
import TestSupport

/// The `forward` command's files: input written by PyTorch scripts (h5py), output read back.
final class ParityFileTests: XCTestCase {
    func testInputWrittenByH5py() throws {
        let python = try H5pyPython.require()
        let url = Samples.folder().appendingPathComponent("x.h5")
        let script = """
        import h5py, numpy as np, sys
        with h5py.File(sys.argv[1], "w") as f:
            f["input"] = (np.arange(2*3*4*5, dtype=np.float32) * 0.5 - 7).reshape(2, 3, 4, 5)
            f["labels"] = np.array([3, 0], dtype=np.int64)
            f.attrs["label_smoothing"] = 0.1
            f.attrs["note"] = np.bytes_("fixed ascii")
            f.attrs["tag"] = "héllo"
        """
        let result = try H5pyPython.run(python, ["-c", script, url.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let input = try ParityFile.readInput(url, requireLabels: true)
        XCTAssertEqual(input.input.shape, [2, 3, 4, 5])
        XCTAssertEqual(input.input.values, (0..<120).map { Float($0) * 0.5 - 7 })
        XCTAssertEqual(input.labels, [3, 0])
        XCTAssertEqual(input.labelSmoothing, 0.1)
        // h5py's fixed-length bytes attribute reads back as a string.
        XCTAssertEqual(try HDF5File.openReadOnly(url.path).attribute("note"), .string("fixed ascii"))
        // h5py's str attributes are variable-length: read only when asked (files of other tools).
        XCTAssertEqual(try HDF5File.openReadOnly(url.path).attribute("tag", allowVariableLength: true), .string("héllo"))
        XCTAssertThrowsError(try HDF5File.openReadOnly(url.path).attribute("tag"))
    }

    func testInputWithoutLabels() throws {
        let url = Samples.folder().appendingPathComponent("x.h5")
        let f = try HDF5File.create(url.path)
        try f.write([Float](repeating: 1, count: 12), shape: [1, 3, 2, 2], to: "/input")
        try f.close()
        let input = try ParityFile.readInput(url)
        XCTAssertNil(input.labels)
        XCTAssertNil(input.labelSmoothing)
        let error = assertRunStoreError(try ParityFile.readInput(url, requireLabels: true), "labels required")
        XCTAssertTrue(error?.description.contains("/labels") ?? false)
    }

    func testInputOfWrongRankIsRejected() throws {
        let url = Samples.folder().appendingPathComponent("x.h5")
        let f = try HDF5File.create(url.path)
        try f.write([Float](repeating: 1, count: 6), shape: [2, 3], to: "/input")
        try f.close()
        XCTAssertEqual(assertRunStoreError(try ParityFile.readInput(url), "2-D input"),
                       .wrongType(path: url.path, object: "/input", expected: "shape (N, C, H, W)", found: "shape [2, 3]"))
    }

    func testOutputRoundTrip() throws {
        let url = Samples.folder().appendingPathComponent("out/y.h5")
        let grads = [WeightEntry(key: "conv1.weight", shape: [2, 1, 1, 1], floats: [0.25, -0.5]),
                     WeightEntry(key: "fc.bias", shape: [3], floats: [1, 2, 3])]
        let output = ParityOutput(logits: ShapedArray(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]), loss: 1.25, grads: grads)
        try ParityFile.writeOutput(output, to: url)
        let f = try HDF5File.openReadOnly(url.path)
        XCTAssertEqual(try f.read(Float.self, at: "/logits"), output.logits)
        XCTAssertEqual(try f.datasetInfo("/loss").shape, [])
        XCTAssertEqual(try f.readScalar(Float.self, at: "/loss"), 1.25)
        XCTAssertEqual(try f.members(of: "/grads"), ["conv1.weight", "fc.bias"])
        XCTAssertEqual(try f.read(Float.self, at: "/grads/conv1.weight"), ShapedArray(shape: [2, 1, 1, 1], values: [0.25, -0.5]))
    }
}
