import Foundation

/// The input of the `forward` parity command (docs/design.md, CLI): `/input` float32 (N,C,H,W),
/// for `--grad` also `/labels` int64 (N) and an optional root attribute `label_smoothing`.
public struct ParityInput: Equatable, Sendable {
    /// Images in PyTorch's NCHW layout.
    public var input: ShapedArray<Float>
    /// Class indices (N), when the file has them.
    public var labels: [Int64]?
    /// Label smoothing ε, when the file sets it.
    public var labelSmoothing: Double?

    public init(input: ShapedArray<Float>, labels: [Int64]? = nil, labelSmoothing: Double? = nil) {
        self.input = input; self.labels = labels; self.labelSmoothing = labelSmoothing
    }
}

/// What the `forward` command writes: `/logits` (N, classes), with `--grad` also `/loss`
/// (scalar, mean cross-entropy) and `/grads/<key>` for every parameter.
public struct ParityOutput: Equatable, Sendable {
    public var logits: ShapedArray<Float>
    public var loss: Float?
    /// Gradients in PyTorch's keys, shapes and element order.
    public var grads: [WeightEntry]

    public init(logits: ShapedArray<Float>, loss: Float? = nil, grads: [WeightEntry] = []) {
        self.logits = logits; self.loss = loss; self.grads = grads
    }
}

/// Reads and writes the files of the `forward` parity interface with PyTorch. These files
/// have no schema: a PyTorch script writes the input with h5py and reads the output.
public enum ParityFile {
    /// Reads `/input`, and `/labels` and `label_smoothing` when present.
    /// - Parameters:
    ///   - url: the input file.
    ///   - requireLabels: throw when `/labels` is absent (for `--grad`).
    /// - Returns: the input.
    /// - Throws: `RunStoreError.missingObject` (no `/input`, or no `/labels` when required),
    ///   `.wrongType` (`/input` not float, not 4-D; labels not integer, not (N)).
    public static func readInput(_ url: URL, requireLabels: Bool = false) throws -> ParityInput {
        let file = try HDF5File.openReadOnly(url.path)
        let input = try file.read(Float.self, at: "/input")
        guard input.shape.count == 4 else {
            throw RunStoreError.wrongType(path: url.path, object: "/input", expected: "shape (N, C, H, W)",
                                          found: "shape \(input.shape)")
        }
        var result = ParityInput(input: input)
        if try file.exists("/labels") {
            let labels = try file.read(Int64.self, at: "/labels")
            guard labels.shape == [input.shape[0]] else {
                throw RunStoreError.wrongType(path: url.path, object: "/labels", expected: "shape (\(input.shape[0]))",
                                              found: "shape \(labels.shape)")
            }
            result.labels = labels.values
        } else if requireLabels {
            throw RunStoreError.missingObject(path: url.path, object: "/labels (int64 (N), needed for --grad)")
        }
        if let smoothing = try file.attribute("label_smoothing") {
            guard let value = smoothing.doubleValue else {
                throw RunStoreError.wrongType(path: url.path, object: "root attribute label_smoothing",
                                              expected: "a number", found: "\(smoothing)")
            }
            result.labelSmoothing = value
        }
        try file.close()
        return result
    }

    /// Writes `/logits`, `/loss` (when set) and `/grads/<key>` atomically.
    /// - Parameters:
    ///   - output: what the pass produced.
    ///   - url: the output file (its folder is created).
    /// - Throws: `RunStoreError.cannotWrite`, `.invalidValue` (bad keys), `.hdf5`.
    public static func writeOutput(_ output: ParityOutput, to url: URL) throws {
        try AtomicFile.write(to: url) { file in
            try file.write(output.logits, to: "/logits")
            if let loss = output.loss { try file.writeScalar(loss, to: "/loss") }
            if !output.grads.isEmpty { try RunLayout.writeEntries(output.grads, group: "/grads", to: file) }
        }
    }
}
