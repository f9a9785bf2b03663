import Foundation
import Engine
import RunStore

/// Who holds a run's lock: the JSON content of `<run file>.lock`.
public struct RunLockOwner: Codable, Equatable, Sendable {
    public var host: String
    public var pid: Int32
    /// When the lock was taken, ISO 8601 UTC (`2026-11-29T16:53:54Z`).
    public var started: String
    /// `JOBID_TASKID` when taken by a Slurm array task (`JOBID` for a plain job), else nil.
    public var slurmTask: String?
    /// The process's start time in clock ticks after boot (`/proc/PID/stat` field 22): with
    /// `bootID` it tells the owner from a later process that got the same pid. Nil in locks
    /// written before it was recorded (or where /proc is missing).
    public var startTicks: UInt64?
    /// `/proc/sys/kernel/random/boot_id` of the owner's boot: start ticks count from boot.
    public var bootID: String?

    enum CodingKeys: String, CodingKey {
        case host, pid, started, slurmTask = "slurm_task", startTicks = "start_ticks", bootID = "boot_id"
    }

    public init(host: String, pid: Int32, started: String, slurmTask: String? = nil,
                startTicks: UInt64? = nil, bootID: String? = nil) {
        self.host = host; self.pid = pid; self.started = started; self.slurmTask = slurmTask
        self.startTicks = startTicks; self.bootID = bootID
    }

    /// `started` as a date (nil when it does not parse).
    public var startedDate: Date? { ISO8601DateFormatter().date(from: started) }
}

/// Whether a lock's owner still runs, as far as this machine can tell.
public enum RunLockLiveness: Equatable, Sendable {
    /// This host, and the pid exists and is the owner (same start time, same boot).
    case live
    /// This host, and the pid is gone (`kill(pid, 0)` fails with ESRCH), or it is another
    /// process that got the pid later (another start time or boot), or an earlier run of the
    /// very Slurm task asking (requeued after its node failed): the lock is stale.
    case dead
    /// Another host: its pids cannot be checked from here.
    case unknown
}

/// An exclusive claim on one run file, so that two processes (two Slurm tasks, a task and a
/// local `rkan-repro run`) never train the same run at once.
///
/// The lock is `<run file>.lock`, created with `O_CREAT|O_EXCL` (atomic, also on NFS v3+) and
/// holding `{"host", "pid", "started"}`. It is removed by `release()` and, for SIGTERM, SIGINT
/// and SIGHUP (what `scancel` and Ctrl-C send), by a signal handler. A SIGKILL leaves it behind:
/// the next process on the same host sees the dead pid (or a pid that a later process got: the
/// lock records the owner's start time and boot, `ProcessIdentity`) and takes the lock over, and so does the
/// same Slurm array task when Slurm requeues it on another node (Slurm never runs one task
/// twice at once). Otherwise another host's pid cannot be checked, so `rkan-repro status` shows
/// such locks and `rkan-repro run --break-locks AGE` (or `rm`) removes them.
public final class RunLock {
    /// Path of the lock file.
    public let path: String
    public let owner: RunLockOwner

    /// The result of `acquire`.
    public enum Acquisition {
        case acquired(RunLock)
        /// Someone else holds it; nil when the lock file cannot be read (being written, or cut short).
        case busy(RunLockOwner?)
    }

    private init(path: String, owner: RunLockOwner) {
        self.path = path; self.owner = owner
    }

    /// `<run file>.lock` (`RunTree.lock(ofFile:)`).
    public static func path(for runFile: URL) -> String { RunTree.lock(ofFile: runFile).path }

    /// This machine's name as recorded in locks (the same as run files' `host`).
    public static var thisHost: String { ProcessInfo.processInfo.hostName }

    /// Takes the lock of `runFile`, taking over a stale lock of a dead process on this host.
    /// - Parameters:
    ///   - runFile: the run file (its folder is created if missing).
    ///   - log: gets one line when a stale lock is taken over.
    /// - Returns: `.acquired` (call `release()` when done) or `.busy` with the holder.
    /// - Throws: `HarnessError.io` when the lock file cannot be created for another reason than
    ///   an existing lock (read-only folder, disk full).
    public static func acquire(runFile: URL, log: (String) -> Void) throws -> Acquisition {
        let path = path(for: runFile)
        let folder = runFile.deletingLastPathComponent().path
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw HarnessError.io(path: folder, detail: "cannot create the run's folder: \(error.localizedDescription)")
        }
        for _ in 0..<3 {
            // A folder, FIFO or device in the lock's place is never released by anyone: name it.
            if let kind = InputFile.isNonFile(path) {
                throw HarnessError.io(path: path, detail: "the run's lock is \(kind), not a lock file, so no process can take or release it; "
                    + "remove it (rm -r \(RunFileAccess.shellQuoted(path))) once no rkan-repro process trains this run, then rerun")
            }
            if let lock = try create(path) { return .acquired(lock) }
            guard let holder = readOwner(path) else {
                if FileManager.default.fileExists(atPath: path) { return .busy(nil) }
                continue  // released meanwhile: try again
            }
            guard liveness(holder) == .dead else { return .busy(holder) }
            if takeOver(path, stale: holder) {
                log("  lock \(path) was left by \(holder.host):\(holder.pid) (started \(holder.started)), which no longer runs: taken over")
                continue
            }
        }
        return .busy(readOwner(path))
    }

    /// Removes the lock file if it is still this lock (not one that replaced it after
    /// `--break-locks`). Safe to call twice.
    public func release() {
        if RunLock.heldPath.map({ String(cString: $0) }) == path { RunLock.heldPath = nil }
        if RunLock.readOwner(path) == owner { unlink(path) }
    }

    /// The owner recorded in a lock file; nil when it is missing or not (yet) complete JSON.
    public static func readOwner(_ path: String) -> RunLockOwner? {
        // Read without blocking (a FIFO in the lock's place must not hang `status` or `run`).
        guard let data = try? InputFile.read(path, limit: 1 << 16) else { return nil }
        return try? JSONDecoder().decode(RunLockOwner.self, from: data)
    }

    /// The Slurm task this process runs as (`JOBID_TASKID`, or `JOBID`), nil outside Slurm.
    public static var currentSlurmTask: String? {
        let env = ProcessInfo.processInfo.environment
        if let job = env["SLURM_ARRAY_JOB_ID"], let task = env["SLURM_ARRAY_TASK_ID"] { return "\(job)_\(task)" }
        return env["SLURM_JOB_ID"]
    }

    /// Whether `owner` still runs: checked with `kill(pid, 0)` when it is on this host; an
    /// earlier run of the asking Slurm task on another host is dead.
    public static func liveness(_ owner: RunLockOwner, thisHost: String = RunLock.thisHost,
                                slurmTask: String? = RunLock.currentSlurmTask) -> RunLockLiveness {
        guard owner.host == thisHost else {
            if let task = owner.slurmTask, task == slurmTask { return .dead }
            return .unknown
        }
        if let boot = owner.bootID, let now = ProcessIdentity.bootID(), boot != now { return .dead }
        // No process has pid ≤ 0 (kill(0, 0) and kill(-1, 0) would ask about process groups and
        // always succeed): such a lock was not written by a live owner.
        if owner.pid <= 0 { return .dead }
        if kill(owner.pid, 0) != 0 && errno == ESRCH { return .dead }  // EPERM: it exists, run by another user
        // The pid runs; it is the owner only if it started when the owner did (pids are reused).
        if let ticks = owner.startTicks, let current = ProcessIdentity.startTicks(of: owner.pid), current != ticks { return .dead }
        return .live
    }

    // MARK: Creating and taking over

    /// Creates the lock file exclusively; nil when it exists already.
    /// The signal handlers are installed before the file exists and `heldPath` is set the moment
    /// `open` has created it, so a SIGTERM while the owner record is still being written and
    /// fsynced (milliseconds) removes the file too; what remains is the instant between `open`
    /// returning and that one store.
    private static func create(_ path: String) throws -> RunLock? {
        installSignalHandlers()
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
        if fd < 0 {
            if errno == EEXIST { return nil }
            throw HarnessError.io(path: path, detail: "cannot create the run's lock file: \(String(cString: strerror(errno)))")
        }
        heldPath = strdup(path)  // never freed: a signal may read it at any moment (a few bytes per run)
        let started = ISO8601DateFormatter().string(from: Date())
        let owner = RunLockOwner(host: thisHost, pid: getpid(), started: started, slurmTask: currentSlurmTask,
                                 startTicks: ProcessIdentity.startTicks(of: getpid()), bootID: ProcessIdentity.bootID())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = Array((try? encoder.encode(owner)) ?? Data()) + [UInt8(ascii: "\n")]
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else {
            heldPath = nil
            unlink(path)
            throw HarnessError.io(path: path, detail: "cannot write the run's lock file (disk full?)")
        }
        return RunLock(path: path, owner: owner)
    }

    /// Removes a stale lock, guarded by `<lock>.takeover` (also `O_EXCL`) so that of two
    /// processes finding the same stale lock only one removes it, and only while it is unchanged.
    private static func takeOver(_ path: String, stale: RunLockOwner) -> Bool {
        let guardPath = path + ".takeover"
        let fd = open(guardPath, O_CREAT | O_EXCL | O_WRONLY, 0o644)
        if fd < 0 {
            // Another process is taking over right now; a guard older than a minute was left by a crash.
            if let m = (try? FileManager.default.attributesOfItem(atPath: guardPath))?[.modificationDate] as? Date,
               Date().timeIntervalSince(m) > 60 { unlink(guardPath) }
            return false
        }
        close(fd)
        defer { unlink(guardPath) }
        guard readOwner(path) == stale else { return false }
        return unlink(path) == 0
    }

    // MARK: Breaking locks by hand

    /// Removes the locks of a profile's runs older than `age` whose owner is not known to be
    /// alive (a live process on this host keeps its lock whatever its age).
    /// - Parameters:
    ///   - tree, suite, profile: the runs whose locks are looked at (`RunTree.existingLocks`).
    ///   - age: minimum age in seconds, from `started` (or the file's time when unreadable).
    ///   - now: the current time.
    /// - Returns: the lock files removed, with their owners.
    @discardableResult
    public static func breakLocks(in tree: RunTree, suite: String, profile: String, olderThan age: TimeInterval,
                                  now: Date = Date()) -> [(path: String, owner: RunLockOwner?)] {
        var removed: [(String, RunLockOwner?)] = []
        for lockFile in tree.existingLocks(suite: suite, profile: profile) {
            let path = lockFile.path
            let owner = readOwner(path)
            if let o = owner, liveness(o) == .live { continue }
            let fileTime = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            guard let since = owner?.startedDate ?? fileTime, now.timeIntervalSince(since) >= age else { continue }
            if unlink(path) == 0 { removed.append((path, owner)) }
        }
        return removed.sorted { $0.0 < $1.0 }
    }

    /// Parses an age: seconds, or a number with `s`, `m`, `h` or `d` (`90`, `30m`, `2h`, `1d`).
    public static func parseAge(_ text: String) -> TimeInterval? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var s = text.trimmingCharacters(in: .whitespaces)
        var unit = 1.0
        if let last = s.last, let u = units[last] { unit = u; s.removeLast() }
        guard let v = Double(s), v >= 0, v.isFinite else { return nil }
        return v * unit
    }

    // MARK: Signals

    /// The lock this process holds now, for the signal handler (a C string).
    nonisolated(unsafe) static var heldPath: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) private static var handlersInstalled = false

    /// What a signal prints before the process dies of it, per signal (C strings, never freed).
    nonisolated(unsafe) static var interruptINT: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) static var interruptTERM: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) static var interruptHUP: UnsafeMutablePointer<CChar>?

    /// SIGTERM, SIGINT, SIGHUP: remove the held lock, then die of the signal as before.
    private static func installSignalHandlers() {
        if handlersInstalled { return }
        handlersInstalled = true
        for sig in [SIGTERM, SIGINT, SIGHUP] { signal(sig, runLockSignalHandler) }
    }

    /// From now on, SIGINT, SIGTERM and SIGHUP print one line saying that the run was
    /// interrupted, that its last checkpoint is kept and how to resume (`resume`, a command),
    /// before the process dies of the signal (releasing a held lock as before).
    public static func announceInterruptions(resume: String) {
        for (sig, name) in [(SIGINT, "SIGINT (Ctrl-C)"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")] {
            let text = "\nrkan-repro run: interrupted by \(name); the last checkpoint of the run in progress is kept. Resume with: \(resume)\n"
            switch sig {
            case SIGINT: interruptINT = strdup(text)
            case SIGTERM: interruptTERM = strdup(text)
            default: interruptHUP = strdup(text)
            }
        }
        handlersInstalled = false
        installSignalHandlers()
    }
}

/// Async-signal-safe: write(2), unlink(2), signal(2) and raise(3) only (the message table is
/// filled before the handler is installed and never changed after).
private func runLockSignalHandler(_ sig: Int32) {
    let m = sig == SIGINT ? RunLock.interruptINT : sig == SIGTERM ? RunLock.interruptTERM : RunLock.interruptHUP
    if let m { _ = write(2, m, strlen(m)) }
    if let p = RunLock.heldPath { unlink(p) }
    signal(sig, SIG_DFL)
    raise(sig)
}
