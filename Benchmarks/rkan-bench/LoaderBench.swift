import Datasets
import Foundation
import Harness

/// `rkan-bench loader`: loader img/s (decode + the paper's augmentation, background workers)
/// beside the training img/s of ResNet-18 at the same input size. The loader must not be the
/// bottleneck: the table prints the ratio (target ≥ 3×).
enum LoaderBench {
    static func run(threads: Int) {
        do {
            let loader = try LoaderBenchmark.run(workers: threads, only: ["cifar32-ra", "jpeg160-ra", "jpeg500-rrc"])
            let sizes = ["cifar32-ra": (32, "resnet18(stem=small)"), "jpeg160-ra": (160, "resnet18"), "jpeg500-rrc": (224, "resnet18")]
            print("| loader scenario | loader img/s | model | train img/s (batch 32) | ratio |")
            print("|---|---:|---|---:|---:|")
            for (name, ips) in loader {
                guard let (size, spec) = sizes[name] else { continue }
                let t = try BenchCommand.measure(spec: spec, classes: 100, inChannels: 3, mode: .train, batch: 32, size: size,
                                                 warmup: 2, iterations: 5, repeats: 3, threads: threads)
                print(String(format: "| %@ | %.0f | `%@` %d×%d | %.1f | %.0f× |", name, ips, spec, size, size,
                             t.imagesPerSecond, ips / t.imagesPerSecond))
            }
            print("\n\(threads) threads; loader with \(threads) workers, batch 128; cifar32-ra = 32×32 pad-crop + flip + RandAugment(2, 9); jpeg160-ra = 160×160 JPEG decode + resize + flip + RandAugment; jpeg500-rrc = 500×375 JPEG decode + RandomResizedCrop 224 + flip + RandAugment.")
        } catch {
            print("rkan-bench loader: \(error)")
        }
    }
}
