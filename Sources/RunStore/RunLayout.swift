/// The mapping between `RunRecord` and HDF5 objects (group names, attribute names, types).
/// Used by `RunFile`; all functions assume the file is open (for writing where they write).
enum RunLayout {
    static let weights = "/weights"
    static let optimizer = "/optimizer"
    static let state = "/state"
    static let metrics = "/metrics"
    static let bench = "/bench"

    // MARK: Root attributes

    /// The root attributes of `a` as stored, in writing order (the digests come on top).
    static func attributeList(_ a: RunAttributes) -> [(String, HDF5AttributeValue)] {
        [
            ("schema", .string(a.schema)), ("suite", .string(a.suite)), ("experiment", .string(a.experiment)),
            ("model", .string(a.model)), ("seed", .int64(Int64(a.seed))), ("profile", .string(a.profile)),
            ("config", .string(a.config)), ("git_commit", .string(a.gitCommit)),
            ("blas_core", .string(a.blasCore)), ("threads", .int64(Int64(a.threads))),
            ("host", .string(a.host)), ("status", .string(a.status.rawValue)),
            ("conv_algorithm", .string(a.convAlgorithm)), ("winograd_gemm", .string(a.winogradGEMM)),
            ("ranks", .int64(Int64(a.ranks))),
            ("train_img_s", .double(a.trainImagesPerSecond)), ("scaling_efficiency", .double(a.scalingEfficiency)),
        ]
    }

    /// Writes `attributes` and the per-part digests (fixed-length strings: see `HDF5StringStorage`).
    static func writeAttributes(_ attributes: [(String, HDF5AttributeValue)], digests: [RunPart: String],
                                to file: HDF5File) throws {
        for (name, value) in attributes { try file.setAttribute(name, value) }
        for part in RunPart.allCases { try file.setAttribute(part.attributeName, .string(digests[part] ?? "")) }
    }

    /// Every root attribute as stored, in name order. The schema is checked first, and a
    /// variable-length `schema` (files written before `rkan-repro/2`) is reported as the older
    /// schema without being read.
    static func readAttributeList(from file: HDF5File) throws -> [(String, HDF5AttributeValue)] {
        let expected = RunAttributes.currentSchema
        let schema: HDF5AttributeValue?
        do { schema = try file.attribute("schema") } catch RunStoreError.wrongType {
            throw RunStoreError.wrongSchema(path: file.path, found: "rkan-repro/1 or older (variable-length strings, no content digests)",
                                            expected: expected)
        }
        guard let schema else {
            throw RunStoreError.wrongSchema(path: file.path, found: "none (no schema attribute)", expected: expected)
        }
        guard schema.stringValue == expected else {
            throw RunStoreError.wrongSchema(path: file.path, found: schema.stringValue ?? "\(schema)", expected: expected)
        }
        return try file.attributeNames().map { name in
            guard let value = try file.attribute(name) else {
                throw RunStoreError.unreadable(path: file.path, detail: "root attribute \(name) is listed but cannot be opened")
            }
            return (name, value)
        }
    }

    /// Decodes the attributes of `readAttributeList` into `RunAttributes` (digests excluded).
    static func decodeAttributes(_ list: [(String, HDF5AttributeValue)], path: String) throws -> RunAttributes {
        let values = Dictionary(list, uniquingKeysWith: { a, _ in a })
        func string(_ name: String) throws -> String {
            guard let value = values[name] else {
                throw RunStoreError.missingObject(path: path, object: "root attribute \(name)")
            }
            guard let s = value.stringValue else {
                throw RunStoreError.wrongType(path: path, object: "root attribute \(name)",
                                              expected: "a string", found: "\(value)")
            }
            return s
        }
        func int(_ name: String) throws -> Int {
            guard let value = values[name] else {
                throw RunStoreError.missingObject(path: path, object: "root attribute \(name)")
            }
            guard let v = value.int64Value else {
                throw RunStoreError.wrongType(path: path, object: "root attribute \(name)",
                                              expected: "an int64", found: "\(value)")
            }
            return Int(v)
        }
        let statusText = try string("status")
        guard let status = RunStatus(rawValue: statusText) else {
            throw RunStoreError.invalidValue(path: path, object: "root attribute status",
                detail: "\"\(statusText)\" is not one of \(RunStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var a = RunAttributes(
            suite: try string("suite"), experiment: try string("experiment"), model: try string("model"),
            seed: try int("seed"), profile: try string("profile"), config: try string("config"),
            gitCommit: try string("git_commit"), blasCore: try string("blas_core"),
            threads: try int("threads"), host: try string("host"), status: status,
            weightsSHA256: try string("weights_sha256"), convAlgorithm: try string("conv_algorithm"))
        a.schema = try string("schema")
        // Absent in files written before data-parallel runs: one process, not measured.
        if values["ranks"] != nil { a.ranks = try int("ranks") }
        // Absent in files written before the Winograd GEMM was a choice: they ran OpenBLAS's.
        if values["winograd_gemm"] != nil {
            a.winogradGEMM = try string("winograd_gemm")
            guard RunAttributes.winogradGEMMs.contains(a.winogradGEMM) else {
                throw RunStoreError.invalidValue(path: path, object: "root attribute winograd_gemm",
                    detail: "\"\(a.winogradGEMM)\" is not one of \(RunAttributes.winogradGEMMs.joined(separator: ", "))")
            }
        }
        if case let .double(v)? = values["train_img_s"] { a.trainImagesPerSecond = v }
        if case let .double(v)? = values["scaling_efficiency"] { a.scalingEfficiency = v }
        return a
    }

    /// The digests stored in the root attributes; an absent or non-string one is "".
    static func storedDigests(_ list: [(String, HDF5AttributeValue)]) -> [RunPart: String] {
        let values = Dictionary(list, uniquingKeysWith: { a, _ in a })
        var d: [RunPart: String] = [:]
        for part in RunPart.allCases { d[part] = values[part.attributeName]?.stringValue ?? "" }
        return d
    }

    // MARK: Tensors

    /// Checks that `name` can be one HDF5 link name (state-dict keys can have dots, not `/`).
    static func checkName(_ name: String, in group: String, _ file: HDF5File) throws {
        if name.isEmpty || name.contains("/") || name == "." || name == ".." {
            throw RunStoreError.invalidValue(path: file.path, object: "\(group)/\(name)",
                detail: "a key must be non-empty, must not contain / and must not be . or ..")
        }
    }

    static func writeEntries(_ entries: [WeightEntry], group: String, to file: HDF5File) throws {
        try file.createGroup(group)
        for e in entries {
            try checkName(e.key, in: group, file)
            let object = "\(group)/\(e.key)"
            switch e.values {
            case let .float32(v): try file.write(v, shape: e.shape, to: object)
            case let .int64(v): try file.write(v, shape: e.shape, to: object)
            }
        }
    }

    static func readEntries(group: String, from file: HDF5File) throws -> [WeightEntry] {
        try file.members(of: group).map { key in
            let object = "\(group)/\(key)"
            switch try file.datasetInfo(object).storageClass {
            case .float:
                let a = try file.read(Float.self, at: object)
                return WeightEntry(key: key, shape: a.shape, floats: a.values)
            case .integer:
                let a = try file.read(Int64.self, at: object)
                return WeightEntry(key: key, shape: a.shape, int64s: a.values)
            case let other:
                throw RunStoreError.wrongType(path: file.path, object: object, expected: "a float or integer dataset",
                                              found: "a \(other.rawValue) dataset")
            }
        }
    }

    // MARK: State

    static func writeState(_ s: RunState, to file: HDF5File) throws {
        try file.createGroup(state)
        try file.writeScalar(Int64(s.epoch), to: "\(state)/epoch")
        try file.writeScalar(Int64(s.step), to: "\(state)/step")
        try file.createGroup("\(state)/values")
        for name in s.values.keys.sorted() {
            try checkName(name, in: "\(state)/values", file)
            try file.writeScalar(s.values[name]!, to: "\(state)/values/\(name)")
        }
        try file.createGroup("\(state)/rng")
        for name in s.rngCounters.keys.sorted() {
            try checkName(name, in: "\(state)/rng", file)
            try file.writeScalar(s.rngCounters[name]!, to: "\(state)/rng/\(name)")
        }
        try file.setAttribute("extra", .string(s.extraJSON), on: state)
    }

    static func readState(from file: HDF5File) throws -> RunState {
        var s = RunState()
        s.epoch = Int(try file.readScalar(Int64.self, at: "\(state)/epoch"))
        s.step = Int(try file.readScalar(Int64.self, at: "\(state)/step"))
        for name in try file.members(of: "\(state)/values") {
            s.values[name] = try file.readScalar(Int64.self, at: "\(state)/values/\(name)")
        }
        for name in try file.members(of: "\(state)/rng") {
            s.rngCounters[name] = try file.readScalar(UInt64.self, at: "\(state)/rng/\(name)")
        }
        s.extraJSON = try file.attribute("extra", of: state)?.stringValue ?? "{}"
        return s
    }

    // MARK: Metrics and bench

    static func writeMetrics(_ m: [String: [Double]], to file: HDF5File) throws {
        try file.createGroup(metrics)
        // Standard names first in report order, then the rest sorted: a fixed order, so equal
        // records give equal bytes.
        let names = RunRecord.standardMetrics.filter { m[$0] != nil }
            + m.keys.filter { !RunRecord.standardMetrics.contains($0) }.sorted()
        for name in names {
            try checkName(name, in: metrics, file)
            try file.write(m[name]!, shape: [m[name]!.count], to: "\(metrics)/\(name)")
        }
    }

    static func readMetrics(from file: HDF5File) throws -> [String: [Double]] {
        guard try file.exists(metrics) else { return [:] }
        var m: [String: [Double]] = [:]
        for name in try file.members(of: metrics) {
            m[name] = try file.read(Double.self, at: "\(metrics)/\(name)").values
        }
        return m
    }

    static func writeBench(_ entries: [BenchEntry], to file: HDF5File) throws {
        try file.createGroup(bench)
        for e in entries {
            try checkName(e.name, in: bench, file)
            let object = "\(bench)/\(e.name)"
            try file.write(e.values, shape: [e.values.count], to: object)
            try file.setAttribute("batch", .int64(Int64(e.batch)), on: object)
            try file.setAttribute("size", .int64(Int64(e.size)), on: object)
        }
    }

    static func readBench(from file: HDF5File) throws -> [BenchEntry] {
        guard try file.exists(bench) else { return [] }
        return try file.members(of: bench).map { name in
            let object = "\(bench)/\(name)"
            guard let batch = try file.attribute("batch", of: object)?.int64Value,
                  let size = try file.attribute("size", of: object)?.int64Value else {
                throw RunStoreError.missingObject(path: file.path, object: "int64 attributes batch and size of \(object)")
            }
            return BenchEntry(name: name, values: try file.read(Double.self, at: object).values,
                              batch: Int(batch), size: Int(size))
        }
    }
}
