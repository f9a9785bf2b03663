// rkan-bench: micro-benchmarks of the engine's kernels (release builds only).
import ArgumentParser
import Engine
import Harness

/// The kernel benchmarks; the OpenBLAS core is chosen like rkan-repro's (`--blas-core`,
/// `RKAN_BLAS_CORE`, automatic) before the arguments are parsed.
struct RkanBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rkan-bench",
        abstract: "Micro-benchmarks of rkan-repro's kernels: conv2d, sgemm, the data loader, the COCO reader.",
        discussion: "Every subcommand takes --blas-core NAME (or RKAN_BLAS_CORE), as rkan-repro does.",
        subcommands: [Conv.self, Sgemm.self, Loader.self, COCORead.self])
}

/// `--threads` and `--repeats`, shared by the subcommands.
struct BenchOptions: ParsableArguments {
    @Option(help: "Worker threads of the engine (OpenBLAS blocks run on them).") var threads: Int = 2
    @Option(help: "Timed repeats; the median is printed.") var repeats: Int = 5

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1...256, got \(threads)") }
        guard (1...1000).contains(repeats) else { throw ValidationError("--repeats must be in 1...1000, got \(repeats)") }
    }
}

extension RkanBench {
    struct Conv: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "conv2d forward+backward GFLOP/s on ResNet-18's 3×3 layers (small stem, 32×32) beside sgemm 1024³.")
        @OptionGroup var options: BenchOptions
        @Option(help: "Images per batch.") var batch: Int = 64
        @Option(help: "Floats of one chunk's col (im2col) or V/M (Winograd) buffer (default: the engine's).") var chunk: Int?

        func validate() throws {
            guard (1...4096).contains(batch) else { throw ValidationError("--batch must be in 1...4096, got \(batch)") }
            if let chunk, !(1...(1 << 30)).contains(chunk) { throw ValidationError("--chunk must be in 1...\(1 << 30), got \(chunk)") }
        }
        func run() throws {
            // RKAN_CONV_ALGO and RKAN_WINO_GEMM as every rkan-repro command reads them; a value
            // they do not name is an error (exit 1, naming the variable), not the default.
            ConvBench.tuning = try EngineContext.fromEnvironment(threads: 1).conv
            ConvBench.run(threads: options.threads, repeats: options.repeats, batch: batch, chunk: chunk)
        }
    }

    struct Sgemm: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The machine's GEMM ceiling: cblas_sgemm on 1024³ and 2048³ (--sizes) beside the engine's split GEMM.")
        @OptionGroup var options: BenchOptions
        @Flag(help: "One JSON object per size.") var json = false
        @Option(help: "Comma-separated sizes n of the n³ products (each in 64...8192).") var sizes = "1024,2048"
        @Flag(help: "Time only plain cblas_sgemm, not the engine's split GEMM (the benchmarks' speed probe).")
        var cblasOnly = false

        func validate() throws { _ = try GEMMBench.parseSizes(sizes) }
        func run() throws {
            GEMMBench.run(threads: options.threads, repeats: options.repeats, sizes: try GEMMBench.parseSizes(sizes),
                          engine: !cblasOnly, json: json)
        }
    }

    struct Loader: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Loader img/s (decode + the paper's augmentation) beside ResNet-18's training img/s at the same size.")
        @Option(help: "Loader workers and engine threads.") var threads: Int = 2

        func validate() throws {
            guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1...256, got \(threads)") }
        }
        func run() { LoaderBench.run(threads: threads) }
    }
}

extension RkanBench {
    struct COCORead: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "coco-read",
            abstract: "Reads a COCO instances file once: wall time, counts, peak RSS and CPU time.")
        @Argument(help: "The instances JSON file.") var file: String
        @Flag(help: "Also build the per-image annotation index.") var index = false

        func run() { COCOReadBench.run(file: file, index: index) }
    }
}

let arguments = Array(BLASCoreStartup.apply(CommandLine.arguments, program: "rkan-bench").dropFirst())
RkanBench.main(arguments)
