// rkan-bench: micro-benchmarks of the engine's kernels (release builds only).
import Harness

// The OpenBLAS core is chosen like rkan-repro's (`--blas-core`, `RKAN_BLAS_CORE`, automatic).
let arguments = Array(BLASCoreStartup.apply(CommandLine.arguments, program: "rkan-bench").dropFirst())
switch arguments.first {
case "conv": ConvBench.run(arguments: Array(arguments.dropFirst()))
case "sgemm": GEMMBench.run(arguments: Array(arguments.dropFirst()))
case "loader": LoaderBench.run(arguments: Array(arguments.dropFirst()))
case "coco-read": COCOReadBench.run(arguments: Array(arguments.dropFirst()))
default: print("usage: rkan-bench [--blas-core NAME] conv [--threads N] [--repeats N] [--chunk FLOATS]\n       rkan-bench sgemm [--threads N] [--repeats N] [--json]\n       rkan-bench loader [--threads N]\n       rkan-bench coco-read FILE [--index]")
}
