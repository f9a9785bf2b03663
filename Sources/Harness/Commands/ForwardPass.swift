import Foundation
import Engine
import Zoo
import RunStore

/// `rkan-repro forward`: one pass of a model on given weights and input (the parity interface
/// with PyTorch, docs/design.md). Without `grad` the model runs in eval mode (BN running statistics);
/// with `grad` in train mode (batch statistics) and the loss and every gradient are written.
public enum ForwardPass {
    public struct Summary: Sendable {
        public var logitsShape: [Int]
        public var loss: Double?
        public var gradients: Int
        public var ignoredKeys: [String]
    }

    /// - Throws: `SpecError`, `RunStoreError` (unreadable files), `HarnessError` (weights that do not
    ///   fit the model), `EngineError` (input shape).
    @discardableResult
    public static func run(spec: String, classes: Int, inChannels: Int?, weights: URL, input: URL, output: URL,
                           grad: Bool, threads: Int = 1) throws -> Summary {
        try OutputGuard.check(output: output, option: "--output", inputs: [(weights, "--weights file"), (input, "--input file")])
        try SizeLimits.check(classes, "--classes", in: 1...SizeLimits.classes, fix: "pass the number of classes the weights were trained for")
        let x = try ParityFile.readInput(input, requireLabels: grad)
        let s = x.input.shape
        try SizeLimits.checkModelInput(classes: classes, inChannels: inChannels ?? s[1], batch: s[0], side: max(s[2], s[3]),
                                       names: ("--classes", "channels of /input in \(input.lastPathComponent)",
                                               "N of /input in \(input.lastPathComponent)", "H and W of /input in \(input.lastPathComponent)"))
        if let c = inChannels, c != s[1] {
            throw HarnessError.badConfig(what: "--in-channels \(c)", detail: "/input in \(input.path) has \(s[1]) channels; leave --in-channels out or make them agree")
        }
        let model = try Model(spec: ModelSpec(parsing: spec), classes: classes, inChannels: inChannels ?? s[1],
                              context: EngineContext.fromEnvironment(threads: threads))
        let ignored = try load(weights: weights, into: model)
        let batch = LayoutConversion.nhwc(fromNCHW: x.input.values, shape: s)
        var out = ParityOutput(logits: ShapedArray(shape: [], values: [0]))
        if grad {
            let labels = x.labels!.map(Int.init)
            model.store.zeroGrad()
            let logits = try model.forward(batch, mode: .train)
            let (loss, d) = try softmaxCrossEntropy(logits: logits, targets: .labels(labels),
                                                    labelSmoothing: Float(x.labelSmoothing ?? 0))
            model.backward(d)
            out.logits = ShapedArray(shape: logits.shape, values: logits.array)
            out.loss = Float(loss)
            out.grads = model.store.parameters.map { WeightEntry(key: $0.name, shape: $0.shape, values: .float32($0.torchGrad())) }
        } else {
            let logits = try model.forward(batch, mode: .eval)
            out.logits = ShapedArray(shape: logits.shape, values: logits.array)
        }
        try ParityFile.writeOutput(out, to: output)
        return Summary(logitsShape: out.logits.shape, loss: out.loss.map(Double.init), gradients: out.grads.count, ignoredKeys: ignored)
    }

    /// Sets every tensor and counter of `model` from the file's `/weights` (`ParameterStore.load`,
    /// the state-dict path every command shares); returns the file's keys the model does not use.
    /// A state dict saved by a reference class has such keys: the classes build RKAN modules for
    /// all four stages and `gate_convs` / `se_blocks` whatever the configuration, and call only
    /// some (fe63108:residual_networks/RKAN_ResNet.py `__init__`). Every key the forward pass uses
    /// is required, counters included; the reference's old Chebyshev KAN names
    /// (`chebyshev_weight`, `chebyshev_scaler`) are accepted.
    /// - Throws: `HarnessError.badConfig` naming each missing or mis-shaped key.
    public static func load(weights url: URL, into model: Model) throws -> [String] {
        let entries = try RunFile.readWeights(url)
        let m = model.store.mismatch(with: entries, unexpected: .ignore)
        guard m.isEmpty else {
            var detail = "they do not fit model \(model.spec): \(m)"
            if m.misShaped.contains(where: { $0.key.contains("kan_conv2.") && $0.key.hasSuffix(".polynomial_weight") }) {
                detail += " (kan_conv2 has degree 2 by default, as the reference; weights of the old "
                    + "degree-3 kan_conv2 need the RKAN option degree=3)"
            }
            throw HarnessError.badConfig(what: "weights \(url.path)", detail: detail
                + ". Export the state_dict of the same spec (`rkan-repro init` writes one, or the reference class's state_dict())")
        }
        return try model.store.load(entries, from: url.path, unexpected: .ignore)
    }
}
