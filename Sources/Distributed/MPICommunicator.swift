import CMPI
import Engine
import Foundation

/// The ranks of a job started by `mpirun -np N` or `srun` (Open MPI, MPI_COMM_WORLD).
///
/// Every operation either completes or ends the process with exit status 1 after one paragraph
/// on stderr: an MPI error (a partner died, the transport failed) and a watchdog timeout (no
/// progress for `timeout` seconds, e.g. a partner stopped without exiting) both end the rank, and
/// `mpirun` / `srun --kill-on-bad-exit` then end the others. Nothing hangs forever. Only the main
/// thread calls MPI (MPI_THREAD_FUNNELED).
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let watchdog: Watchdog

    /// Initialises MPI. Call once per process, only when a launcher started it (`MPILaunch`).
    /// - Parameter timeout: seconds one exchange, broadcast or barrier may wait.
    /// - Throws: `DistributedError.mpi` when MPI_Init fails.
    public init(timeout: Double) throws {
        var r: Int32 = 0, s: Int32 = 0
        let rc = rk_mpi_init(&r, &s)
        guard rc == MPI_SUCCESS else { throw DistributedError.mpi(call: "MPI_Init_thread", detail: MPICommunicator.text(rc)) }
        rank = Int(r); size = Int(s)
        watchdog = Watchdog(timeout: timeout, rank: Int(r))
    }

    public func exchange(_ send: UnsafeRawPointer, _ recv: UnsafeMutableRawPointer, bytes: Int, partner: Int) {
        check(watchdog.guarding("exchange with rank \(partner)") { rk_mpi_exchange(send, recv, Int64(bytes), Int32(partner)) },
              "MPI_Sendrecv with rank \(partner)")
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) {
        check(watchdog.guarding("broadcast from rank \(root)") { rk_mpi_broadcast(buffer, Int64(bytes), Int32(root)) },
              "MPI_Bcast from rank \(root)")
    }

    public func barrier() {
        check(watchdog.guarding("barrier") { rk_mpi_barrier() }, "MPI_Barrier")
    }

    /// MPI_Finalize; call once at a clean end.
    public func finalize() { _ = rk_mpi_finalize() }

    /// Ends the whole job with `code` (MPI_Abort).
    public func abort(code: Int32) -> Never {
        rk_mpi_abort(code)
        exit(code)
    }

    private func check(_ rc: Int32, _ what: String) {
        if rc == MPI_SUCCESS { return }
        Watchdog.fail(rank: rank, "\(what) failed: \(MPICommunicator.text(rc)). A partner rank probably died or its node is unreachable; the run file keeps the last checkpoint, so rerun the same command to resume.")
    }

    static func text(_ rc: Int32) -> String {
        var buf = [CChar](repeating: 0, count: 512)
        rk_mpi_error_string(rc, &buf, Int32(buf.count))
        let s = String(cString: buf)
        return s.isEmpty ? "MPI error \(rc)" : s
    }
}
