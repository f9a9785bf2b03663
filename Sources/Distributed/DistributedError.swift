/// Errors of setting up a data-parallel run.
public enum DistributedError: Error, CustomStringConvertible {
    case mpi(call: String, detail: String)

    public var description: String {
        switch self {
        case let .mpi(call, detail):
            return "\(call) failed: \(detail). Start data-parallel runs with `mpirun -np N rkan-repro run ... --ranks N` (or `srun --mpi=pmix`); a single process needs neither."
        }
    }
}
