import Foundation

/// Ends the process when one MPI operation waits longer than `timeout` seconds: a thread wakes
/// every second and compares the start time of the pending operation with the clock. MPI itself
/// reports a dead partner as an error only when its launcher notices; a partner that hangs
/// (stopped, swapped out, network partition) would otherwise block the others forever.
final class Watchdog: @unchecked Sendable {
    let timeout: Double
    let rank: Int
    private let lock = NSLock()
    private var pending: (what: String, since: Date)?

    init(timeout: Double, rank: Int) {
        self.timeout = timeout; self.rank = rank
        let t = Thread { [weak self] in
            while let s = self {
                s.checkOnce()
                Thread.sleep(forTimeInterval: 1)
            }
        }
        t.name = "rkan-mpi-watchdog"
        t.start()
    }

    /// Runs `body` (one blocking MPI call) with the watchdog armed.
    func guarding<T>(_ what: String, _ body: () -> T) -> T {
        lock.lock(); pending = (what, Date()); lock.unlock()
        defer { lock.lock(); pending = nil; lock.unlock() }
        return body()
    }

    private func checkOnce() {
        lock.lock()
        let p = pending
        lock.unlock()
        if let p, Date().timeIntervalSince(p.since) > timeout {
            Watchdog.fail(rank: rank, "\(p.what) waited more than \(Int(timeout)) s (RKAN_MPI_TIMEOUT). A partner rank is dead or stuck; the run file keeps the last checkpoint, so rerun the same command to resume.")
        }
    }

    /// Prints one paragraph and ends this rank with status 1 (the launcher ends the others).
    static func fail(rank: Int, _ message: String) -> Never {
        FileHandle.standardError.write(Data("rkan-repro rank \(rank): error: \(message)\n".utf8))
        _exit(1)
    }
}
