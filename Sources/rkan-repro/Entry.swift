import Harness

/// The program's start: the OpenBLAS core first (it may re-execute the process), then the
/// command line without `--blas-core`.
@main
enum Entry {
    static func main() {
        let arguments = BLASCoreStartup.apply(CommandLine.arguments, program: "rkan-repro",
                                              announce: BLASCoreStartup.commandComputes(Array(CommandLine.arguments.dropFirst())))
        RkanRepro.main(Array(arguments.dropFirst()))
    }
}
