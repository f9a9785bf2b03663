import Foundation
import Engine
import Zoo
import Detection

/// Whether a benchmark times training steps or inference passes.
public enum BenchMode: String, Codable, Sendable, CaseIterable { case train, infer }

/// One throughput measurement: img/s as the median over repeats.
public struct ThroughputResult: Codable, Sendable, Equatable {
    public var spec: String
    public var mode: BenchMode
    public var batch: Int
    public var size: Int
    public var threads: Int
    /// Median img/s over `repeats`.
    public var imagesPerSecond: Double
    /// img/s of each repeat.
    public var repeats: [Double]
    /// The OpenBLAS core that ran (`BLAS.coreName`).
    public var blasCore: String
    /// The 3×3 stride-1 conv algorithm that ran, with its Winograd GEMM (`ConvTuning.label`).
    public var convAlgorithm: String
    /// CPU time of the process (all threads, user and system) per second of wall time over the
    /// timed iterations, median of repeats: `threads` minus this is the time a thread waited for
    /// another (the joins of parallel regions, serial sections). nil in results made before it.
    public var busyThreads: Double?
}

/// timm's benchmark method: random inputs, `warmup` untimed iterations, then `iterations`
/// timed ones, repeated; the reported figure is the median repeat. A train iteration is
/// forward + cross-entropy + backward + SGD step; an infer iteration is an eval forward.
public enum Throughput {
    public static func measure(spec: ModelSpec, classes: Int, inChannels: Int, mode: BenchMode, batch: Int, size: Int,
                               warmup: Int = 10, iterations: Int = 40, repeats: Int = 3, engine: EngineContext,
                               progress: ((String) -> Void)? = nil) throws -> ThroughputResult {
        // One process on the whole batch, whatever ranks `engine` trains with.
        let iteration = try step(spec: spec, classes: classes, inChannels: inChannels, mode: mode, batch: batch, size: size,
                                 engine: engine)
        for i in 0..<warmup { try iteration(); progress?("warm-up \(i + 1)/\(warmup)") }
        var rates: [Double] = [], busy: [Double] = []
        for r in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds, cpu0 = processCPUSeconds()
            for _ in 0..<iterations { try iteration() }
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            rates.append(Double(batch * iterations) / dt)
            busy.append((processCPUSeconds() - cpu0) / dt)
            progress?("repeat \(r + 1)/\(repeats): \(String(format: "%.1f", rates.last!)) img/s")
        }
        return ThroughputResult(spec: spec.description, mode: mode, batch: batch, size: size, threads: engine.threads,
                                imagesPerSecond: median(rates), repeats: rates, blasCore: BLAS.coreName,
                                convAlgorithm: engine.conv.label, busyThreads: median(busy))
    }

    /// CPU seconds the process has used, all threads (CLOCK_PROCESS_CPUTIME_ID).
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// img/s of several models measured in alternation: after every model's warm-up, each of
    /// `repeats` rounds times every model once, the order rotated from round to round, so load
    /// the machine has (other processes, a host stealing CPU) falls on all of them alike. The
    /// ratio of two models' rates within one round is then a fair comparison, and the spread of
    /// those ratios over rounds says how far to trust it.
    /// - Returns: per model, the img/s of each round (round order).
    public static func measureInterleaved(specs: [ModelSpec], classes: Int, inChannels: Int, mode: BenchMode, batch: Int,
                                          size: Int, warmup: Int, iterations: Int, repeats: Int,
                                          engine: EngineContext) throws -> [[Double]] {
        let steps = try specs.map { try step(spec: $0, classes: classes, inChannels: inChannels, mode: mode, batch: batch,
                                             size: size, engine: engine) }
        for s in steps { for _ in 0..<warmup { try s() } }
        var rates = Array(repeating: [Double](), count: steps.count)
        for r in 0..<repeats {
            for k in 0..<steps.count {
                let m = (k + r) % steps.count
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<iterations { try steps[m]() }
                rates[m].append(Double(batch * iterations) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9))
            }
        }
        return rates
    }

    /// One timed iteration of `spec` on random inputs (a model built once, seed 0).
    static func step(spec: ModelSpec, classes: Int, inChannels: Int, mode: BenchMode, batch: Int, size: Int,
                     engine: EngineContext) throws -> () throws -> Void {
        if spec.detector != nil {
            return try detectorStep(spec: spec, classes: classes, mode: mode, batch: batch, size: size, engine: engine)
        }
        let model = try Model(spec: spec, classes: classes, inChannels: inChannels,
                              context: EngineContext(threads: engine.threads, conv: engine.conv))
        model.initialize(seed: 0)
        let rng = Philox(seed: 0, purpose: .benchmark)
        let x = Tensor(uninitialized: [batch, size, size, inChannels])
        for i in 0..<x.count { x.data[i] = Float(rng.normal(UInt64(i))) }
        let labels = (0..<batch).map { rng.below(classes, UInt64(x.count + $0)) }
        let opt = try SGD(store: model.store, momentum: 0.9)
        return {
            switch mode {
            case .infer:
                _ = try model.forward(x, mode: .eval)
            case .train:
                model.store.zeroGrad()
                let logits = try model.forward(x, mode: .train)
                let (_, d) = try softmaxCrossEntropy(logits: logits, targets: .labels(labels))
                model.backward(d)
                opt.step(lr: 1e-4)
            }
        }
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        if s.isEmpty { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// One timed iteration of a detector, as the reference's `measure_inference_speed` times one:
    /// eval mode on `batch` random 3×size×size images (uniform in [0, 1), as `torch.rand`), the
    /// transform, detection and mask pasting included; a train iteration is a training step on
    /// them with one object each (a centred box and its mask) and an SGD step.
    static func detectorStep(spec: ModelSpec, classes: Int, mode: BenchMode, batch: Int, size: Int,
                             engine: EngineContext) throws -> () throws -> Void {
        let detector = try DetectorBuild.make(spec, size: size, classes: classes, context: EngineContext(threads: engine.threads, conv: engine.conv))
        detector.initialize(seed: 0)
        let rng = Philox(seed: 0, purpose: .benchmark)
        let images = (0..<batch).map { n in
            let x = Tensor(uninitialized: [size, size, 3])
            for i in 0..<x.count { x.data[i] = Float(rng.uniform(UInt64(n * x.count + i))) }
            return x
        }
        let (lo, hi) = (size / 4, size - size / 4)
        let mask = Tensor(zeros: [1, size, size])
        for r in lo..<hi { for c in lo..<hi { mask.data[r * size + c] = 1 } }
        let target = DetectionTarget(boxes: [Float(lo), Float(lo), Float(hi), Float(hi)], labels: [1], masks: mask)
        let opt = try SGD(store: detector.store, momentum: 0.9)
        var step = 0
        return {
            switch mode {
            case .infer:
                _ = try detector.detect(images: images)
            case .train:
                detector.store.zeroGrad()
                _ = try detector.trainingStep(images: images, targets: Array(repeating: target, count: batch), step: step)
                opt.step(lr: 1e-4)
                step += 1
            }
        }
    }
}
