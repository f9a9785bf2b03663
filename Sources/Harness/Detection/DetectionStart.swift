import Foundation
import Engine
import Zoo
import Detection
import RunStore

/// Where a detection run's backbone starts: the ImageNet classification weights of the same
/// backbone (protocol `start: imagenet`, the reference's `train_status = "load_weights"`), from a
/// state dict the user names or from the run tree's finished `imagenet` run of that backbone; or
/// the seed's draw (`start: random`, smoke and nightly profiles). The heads always start from the
/// seed. The run file records what the backbone started from and its digest
/// (`/state` extra `start_weights`, `start_weights_sha256`).
///
/// A classifier's keys map onto the detector's as RKAN_RCNN arranges the same modules
/// (docs/detection.md "State-dict keys"): the body `P.conv1.*`, `P.bn1.*`, `P.layerN.B.*` →
/// `backbone.body.conv1.*`, `backbone.body.bn1.*`, `backbone.body.layerN.base_layer.B.*`, with P
/// the classifier's backbone attribute (`resnet.` in an RKAN classifier, none in a plain one or
/// in torchvision's ImageNet state dicts); the RKAN modules `conv_reduce.*`, `kan_conv1.*`, … →
/// `rkan_components.*`. The classifier's head (`fc.*`) has no place in the detector.
enum DetectionStart {
    /// The weights a backbone starts from.
    struct Source {
        /// What they are, for the run file and the log (a path, or "random").
        var description: String
        var digest: String
        var entries: [WeightEntry]
    }

    /// The classifier key that fills detector key `key`, given the classifier's backbone prefix;
    /// nil for a key outside the backbone (FPN, RPN, heads).
    static func classifierKey(of key: String, bodyPrefix: String) -> String? {
        if key.hasPrefix("rkan_components.") { return String(key.dropFirst("rkan_components.".count)) }
        guard key.hasPrefix("backbone.body.") else { return nil }
        var rest = String(key.dropFirst("backbone.body.".count))
        for n in 1...4 where rest.hasPrefix("layer\(n).base_layer.") {
            rest = "layer\(n)." + rest.dropFirst("layer\(n).base_layer.".count)
        }
        return bodyPrefix + rest
    }

    /// The classifier's backbone prefix: the P for which the state dict has `P + "conv1.weight"`.
    static func bodyPrefix(of entries: [WeightEntry], path: String) throws -> String {
        let found = entries.map(\.key).filter { $0.hasSuffix("conv1.weight") && !$0.contains("layer") }
            .map { String($0.dropLast("conv1.weight".count)) }
        guard found.count == 1 else {
            throw HarnessError.badConfig(what: "start weights \(path)", detail: found.isEmpty
                ? "no stem convolution (`conv1.weight` or `resnet.conv1.weight`): this is not a ResNet classifier's state dict. Give the ImageNet classification weights of the row's backbone (a run file of suite imagenet, or a .pth converted with `python3 -m Tools.weights.pth_h5 to-h5`)"
                : "more than one stem convolution (\(found.map { $0 + "conv1.weight" }.joined(separator: ", "))): give one classifier's state dict")
        }
        return found[0]
    }

    /// Sets the detector's backbone tensors from a classifier's state dict; the rest of the
    /// detector keeps its values.
    /// - Throws: `HarnessError.badConfig` naming the keys that are missing or of another shape.
    static func apply(_ source: Source, to detector: MaskRCNN) throws {
        let prefix = try bodyPrefix(of: source.entries, path: source.description)
        let given = Dictionary(source.entries.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var missing: [String] = [], misShaped: [String] = [], used = Set<String>()
        let entries = detector.store.weightEntries().map { e -> WeightEntry in
            guard let k = classifierKey(of: e.key, bodyPrefix: prefix) else { return e }
            used.insert(k)
            guard let g = given[k] else { missing.append(k); return e }
            guard g.shape == e.shape else { misShaped.append("\(k) \(g.shape) (the detector's \(e.key) is \(e.shape))"); return e }
            return WeightEntry(key: e.key, shape: e.shape, values: g.values)
        }
        // The body's tensors the detector leaves unused (a deeper network's blocks): another
        // backbone. The classifier's head and RKAN modules of stages without a block are not the body.
        let unused = source.entries.map(\.key).filter { k in
            k.hasPrefix(prefix) && !used.contains(k) && ["conv1.", "bn1.", "layer"].contains { k.dropFirst(prefix.count).hasPrefix($0) }
        }
        guard missing.isEmpty && misShaped.isEmpty && unused.isEmpty else {
            var parts: [String] = []
            if !unused.isEmpty { parts.append("\(unused.count) tensors of its body have no place in \(detector.backboneSpec) (\(unused.prefix(3).joined(separator: ", "))\(unused.count > 3 ? ", …" : ""))") }
            if !missing.isEmpty { parts.append("\(missing.count) tensors of backbone \(detector.backboneSpec) are missing (\(missing.prefix(4).joined(separator: ", "))\(missing.count > 4 ? ", …" : ""))") }
            if !misShaped.isEmpty { parts.append("\(misShaped.count) have another shape (\(misShaped.prefix(3).joined(separator: "; ")))") }
            throw HarnessError.badConfig(what: "start weights \(source.description)", detail: parts.joined(separator: " and ")
                + ": they are not the classification weights of \(detector.backboneSpec). Give that backbone's ImageNet weights")
        }
        _ = try detector.store.load(entries, from: source.description)
    }

    /// Reads a state dict (a run file's or an init file's `/weights`, or a converted `.pth`).
    static func read(_ url: URL) throws -> Source {
        let entries = try RunFile.readWeights(url)
        return Source(description: url.path, digest: WeightsDigest.sha256(of: entries), entries: entries)
    }

    /// The finished run of suite `imagenet` whose model is `backbone`, under `tree`: the same
    /// seed when there is one, else the lowest finished seed; profile `paper` or `profile`.
    /// - Throws: `HarnessError.badConfig` saying how to give start weights when there is none.
    static func imagenetRun(of backbone: ModelSpec, seed: Int, profile: String, tree: RunTree, suitesFolder: URL,
                            row: String) throws -> URL {
        let how = "give the row's ImageNet weights with --start-weights \(row)=FILE (a state dict; `python3 -m Tools.weights.pth_h5 to-h5` converts a .pth), "
            + "or train `rkan-repro run imagenet --only <row of \(backbone)>` into the same --runs first; a random backbone is not the protocol "
            + "(profiles smoke and nightly say `start: random`)"
        guard let suite = try? SuiteLibrary.find("imagenet", in: suitesFolder) else {
            throw HarnessError.badConfig(what: "start weights of \(row)", detail: "no suite imagenet was found to look up its runs; " + how)
        }
        let rows = suite.experiments.filter { $0.model == backbone }
        var candidates: [URL] = []
        for p in Set([profile, Suite.paperProfile]).sorted() {
            for r in rows {
                let seeds = ([seed] + suite.seeds + Array(0..<10)).reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
                for s in seeds { candidates.append(tree.file(for: RunSlot(suite: "imagenet", profile: p, experiment: r.id, seed: s))) }
            }
        }
        for url in candidates where (try? RunFile.readAttributes(url).status) == .finished { return url }
        throw HarnessError.badConfig(what: "start weights of \(row)", detail: rows.isEmpty
            ? "suite imagenet has no row of backbone \(backbone); " + how
            : "no finished run of \(rows.map(\.id).joined(separator: "/")) of suite imagenet in \(tree.out.path); " + how)
    }
}
