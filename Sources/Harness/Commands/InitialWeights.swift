import Foundation
import Engine
import Zoo
import RunStore

/// `rkan-repro init`: the initial weights of a model, exactly those a run with the same spec,
/// classes, input channels and seed starts from (the trainer records their digest in its run
/// file's `/state` attribute `extra` as `init_weights_sha256`; the tests compare the two).
public enum InitialWeights {
    /// What was written.
    public struct Summary: Sendable {
        public var spec: String
        public var tensors: Int
        public var parameters: Int
        public var weightsSHA256: String
    }

    /// Builds `spec`, initialises it from `seed` and writes its state dict to `out` (`InitFile`).
    /// - Parameters:
    ///   - overwrite: replace an existing file that `init` did not write. A file `init` wrote is
    ///     always replaced (it can be made again); anything else is kept unless asked, so nothing
    ///     is silently lost.
    /// - Throws: `SpecError`, `HarnessError.io` (an existing file that is not an init file),
    ///   `RunStoreError` (cannot write).
    @discardableResult
    public static func write(spec text: String, classes: Int, inChannels: Int, seed: Int, out: URL,
                             overwrite: Bool = false) throws -> Summary {
        let spec = try ModelSpec(parsing: text)
        try SizeLimits.check(classes, "--classes", in: 1...SizeLimits.classes, fix: "pass the number of classes of the dataset")
        try SizeLimits.check(inChannels, "--in-channels", in: 1...SizeLimits.inChannels, fix: "pass 1 (grey) or 3 (RGB)")
        let model = try Model(spec: spec, classes: classes, inChannels: inChannels)
        if FileManager.default.fileExists(atPath: out.path) && !overwrite && !InitFile.isInitFile(out) {
            throw HarnessError.io(path: out.path, detail:
                "exists and was not written by `rkan-repro init` (it may be a run file or someone's weights), so it is "
                + "left alone. Pass another --out, delete the file, or add --force to replace it")
        }
        model.initialize(seed: UInt64(seed))
        let entries = model.store.weightEntries()
        let digest = try InitFile.write(InitFile.Header(model: spec.description, classes: classes, inChannels: inChannels, seed: seed),
                                        weights: entries, to: out)
        return Summary(spec: spec.description, tensors: entries.count, parameters: model.parameterCount, weightsSHA256: digest)
    }
}
