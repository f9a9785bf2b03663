import Foundation

/// The file `rkan-repro init` writes: a model's initial weights, in the run files' `/weights`
/// layout so that PyTorch (`h5py`) and `rkan-repro forward --weights` read it the same way.
///
/// ```
/// /                 attributes schema ("rkan-repro-init/1"), model (canonical spec), classes,
///                   in_channels, seed, weights_sha256
/// /weights/<key>    float32 (int64 for num_batches_tracked), PyTorch keys, shapes and order
/// ```
public enum InitFile {
    public static let schema = "rkan-repro-init/1"

    /// What the root attributes say.
    public struct Header: Equatable, Sendable {
        public var model: String
        public var classes: Int
        public var inChannels: Int
        public var seed: Int
        public var weightsSHA256: String
        public init(model: String, classes: Int, inChannels: Int, seed: Int, weightsSHA256: String = "") {
            self.model = model; self.classes = classes; self.inChannels = inChannels; self.seed = seed
            self.weightsSHA256 = weightsSHA256
        }
    }

    /// Writes the file atomically (temporary file, fsync, rename), replacing any file at `url`:
    /// the caller decides whether that is allowed (see `isInitFile`).
    /// - Returns: the weights digest (`WeightsDigest`), also stored as `weights_sha256`.
    /// - Throws: `RunStoreError.cannotWrite`, `.invalidValue` (a bad key), `.hdf5`.
    @discardableResult
    public static func write(_ header: Header, weights: [WeightEntry], to url: URL) throws -> String {
        let digest = WeightsDigest.sha256(of: weights)
        try AtomicFile.write(to: url) { file in
            let values: [(String, HDF5AttributeValue)] = [
                ("schema", .string(schema)), ("model", .string(header.model)), ("classes", .int64(Int64(header.classes))),
                ("in_channels", .int64(Int64(header.inChannels))), ("seed", .int64(Int64(header.seed))),
                ("weights_sha256", .string(digest)),
            ]
            for (name, value) in values { try file.setAttribute(name, value) }
            try RunLayout.writeEntries(weights, group: RunLayout.weights, to: file)
        }
        return digest
    }

    /// Reads the root attributes of an init file.
    /// - Throws: `RunStoreError.missingFile`, `.unreadable`, `.wrongSchema` (not an init file),
    ///   `.missingObject` / `.wrongType` (an attribute is absent or of another type).
    public static func readHeader(_ url: URL) throws -> Header {
        let file = try HDF5File.openReadOnly(url.path)
        defer { try? file.close() }
        let found = try file.attribute("schema")?.stringValue
        guard found == schema else {
            throw RunStoreError.wrongSchema(path: url.path, found: found ?? "none (no schema attribute)", expected: schema)
        }
        func value(_ name: String) throws -> HDF5AttributeValue {
            guard let v = try file.attribute(name) else { throw RunStoreError.missingObject(path: url.path, object: "root attribute \(name)") }
            return v
        }
        func int(_ name: String) throws -> Int {
            guard let v = try value(name).int64Value else {
                throw RunStoreError.wrongType(path: url.path, object: "root attribute \(name)", expected: "an int64", found: "\(try value(name))")
            }
            return Int(v)
        }
        func string(_ name: String) throws -> String {
            guard let v = try value(name).stringValue else {
                throw RunStoreError.wrongType(path: url.path, object: "root attribute \(name)", expected: "a string", found: "\(try value(name))")
            }
            return v
        }
        return Header(model: try string("model"), classes: try int("classes"), inChannels: try int("in_channels"),
                      seed: try int("seed"), weightsSHA256: try string("weights_sha256"))
    }

    /// Whether `url` holds a file this command wrote (so that replacing it loses nothing that
    /// `init` cannot make again).
    public static func isInitFile(_ url: URL) -> Bool { (try? readHeader(url)) != nil }
}
