import Engine
import Foundation

/// How many ranks the process was launched with, from the launcher's environment, without
/// initialising MPI (a plain `rkan-repro run` never touches MPI).
///
/// `mpirun` (Open MPI) sets OMPI_COMM_WORLD_SIZE; `srun --mpi=pmix` sets PMIX_RANK and
/// SLURM_NTASKS (the job step's task count); PMI-1/2 launchers set PMI_SIZE.
public enum MPILaunch {
    /// The world size the launcher announced, or nil when no launcher started this process.
    public static func worldSize(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        if let s = env["OMPI_COMM_WORLD_SIZE"].flatMap(Int.init) { return s }
        if env["PMIX_RANK"] != nil, let s = (env["SLURM_STEP_NUM_TASKS"] ?? env["SLURM_NTASKS"]).flatMap(Int.init) { return s }
        if let s = env["PMI_SIZE"].flatMap(Int.init) { return s }
        return nil
    }

    /// Seconds one MPI operation may wait before the rank gives up (`RKAN_MPI_TIMEOUT`, default 300).
    public static func timeout(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Double {
        env["RKAN_MPI_TIMEOUT"].flatMap(Double.init).map { max(1, $0) } ?? 300
    }

    /// The communicator for `--ranks requested` (nil: take the launcher's world size).
    ///
    /// `--ranks N` must equal the launcher's world size: it states in the command (and in a Slurm
    /// script) how many ranks the run expects, and a mismatch is refused instead of silently
    /// training with another count. Without a launcher only `--ranks 1` is valid.
    /// - Throws: `DistributedError` for an MPI failure, `EngineError.invalidArgument` for a rank
    ///   count that is not the world size or does not divide the shard count.
    public static func communicator(requested: Int?, _ env: [String: String] = ProcessInfo.processInfo.environment) throws -> Communicator {
        let world = worldSize(env)
        if world == nil, let tasks = env["SLURM_STEP_NUM_TASKS"].flatMap(Int.init), tasks > 1 {
            throw EngineError.invalidArgument(op: "srun", detail:
                "srun started \(tasks) tasks without an MPI plugin, so each would train the whole run alone; start them with `srun --mpi=pmix` (or `mpirun` inside the allocation)")
        }
        let ranks = requested ?? world ?? 1
        try ShardPlan.check(ranks: ranks)
        guard let world else {
            if ranks == 1 { return SingleProcess() }
            throw EngineError.invalidArgument(op: "--ranks", detail:
                "--ranks \(ranks) needs \(ranks) processes started by an MPI launcher: `mpirun -np \(ranks) rkan-repro run ... --ranks \(ranks)` (add --oversubscribe on a machine with fewer cores), or `srun --mpi=pmix -n \(ranks) ...` inside a Slurm allocation")
        }
        guard world == ranks else {
            throw EngineError.invalidArgument(op: "--ranks", detail:
                "--ranks \(ranks) but the launcher started \(world) processes; make `mpirun -np` (or srun's task count) and --ranks agree")
        }
        if world == 1 { return SingleProcess() }
        return try MPICommunicator(timeout: timeout())
    }
}
