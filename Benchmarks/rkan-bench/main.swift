// rkan-bench: micro-benchmarks of the engine's kernels (release builds only).
let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "conv": ConvBench.run(arguments: Array(arguments.dropFirst()))
case "sgemm": GEMMBench.run(arguments: Array(arguments.dropFirst()))
case "loader": LoaderBench.run(arguments: Array(arguments.dropFirst()))
default: print("usage: rkan-bench conv [--threads N] [--repeats N] [--chunk FLOATS]\n       rkan-bench sgemm [--threads N] [--repeats N] [--json]\n       rkan-bench loader [--threads N]")
}
