import Foundation
import Engine
import Zoo
import Datasets

/// `rkan-repro bench`.
public enum BenchCommand {
    public static func measure(spec: String, classes: Int, inChannels: Int, mode: BenchMode, batch: Int, size: Int,
                               warmup: Int, iterations: Int, repeats: Int, threads: Int) throws -> ThroughputResult {
        try SizeLimits.checkModelInput(classes: classes, inChannels: inChannels, batch: batch, side: size,
                                       names: ("--classes", "--in-channels", "--batch", "--size"))
        return try Throughput.measure(spec: ModelSpec(parsing: spec), classes: classes, inChannels: inChannels, mode: mode,
                               batch: batch, size: size, warmup: warmup, iterations: iterations, repeats: repeats,
                               engine: EngineContext.fromEnvironment(threads: threads))
    }

    public static func json(_ r: ThroughputResult) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: (try? e.encode(r)) ?? Data(), as: UTF8.self)
    }
}
