import Foundation
import Engine
import RunStore

/// Where one run of a plan stands, read from its run file and its lock.
public struct RunStatusRow: Equatable, Sendable {
    public enum State: Equatable, Sendable {
        case finished
        /// The last checkpoint is after `epoch` of `epochs`.
        case running(epoch: Int, epochs: Int)
        case diverged
        case missing
        /// The file exists but cannot be read (the reason).
        case unreadable(String)
        /// The file was made with another configuration than the suite asks for now (the
        /// differences and the fix).
        case stale(String)
    }

    public enum Lock: Equatable, Sendable {
        case none
        case held(RunLockOwner, RunLockLiveness)
        /// A lock file that is not complete JSON (being written, or cut short by a crash).
        case unreadable
        /// A folder, FIFO or device where the lock file belongs (its kind).
        case notAFile(String)
    }

    public var experiment: String
    public var seed: Int
    public var runFile: String
    public var state: State
    public var lock: Lock
}

/// `rkan-repro status`: every run of a suite's profile as finished, running (with its epoch),
/// diverged or missing, with its lock. Reads only the files, so it works the same for runs made
/// by a Slurm array, by several machines or by a local `rkan-repro run`.
public enum RunStatusTable {
    /// The runs in order, then any other seed of their experiments found in the run tree
    /// (e.g. seeds given to `run --seeds` but not named in the suite).
    /// - Parameters:
    ///   - runs: `Suite.runs` of one profile (with `--only` and `--seeds` applied).
    ///   - tree: where the run files are.
    ///   - suitesFolder: for the retrain command printed with an unreadable file.
    public static func rows(runs: [RunConfig], tree: RunTree, suitesFolder: URL = URL(fileURLWithPath: "Suites")) -> [RunStatusRow] {
        guard let first = runs.first else { return [] }
        let context = RunFileAccess.Context(out: tree.out, suitesFolder: suitesFolder)
        var slots = runs.map(\.slot)
        let ids = Set(slots.map(\.experiment))
        for extra in tree.discover(suite: first.suite, profile: first.profile) where ids.contains(extra.experiment) && !slots.contains(extra) {
            slots.append(extra)
        }
        return slots.map { slot in
            let url = tree.file(for: slot)
            // Seeds found on disk but not asked for are checked against their row's configuration at that seed.
            var config = runs.first { $0.slot == slot } ?? runs.first { $0.experiment == slot.experiment }!
            config.seed = slot.seed
            return RunStatusRow(experiment: slot.experiment, seed: slot.seed, runFile: url.path,
                                state: state(url, config: config, context: context),
                                lock: lock(tree.lock(for: slot)))
        }
    }

    /// The state recorded in a run file, read without its weights and verified (digests and
    /// slot); a file that fails is `unreadable` with the reason and the command that retrains it.
    static func state(_ url: URL, config: RunConfig, context: RunFileAccess.Context) -> RunStatusRow.State {
        guard InputFile.exists(url.path) else { return .missing }
        let epochs = config.training.epochs
        do {
            let summary = try RunFileAccess.readSummary(url, slot: config.slot, context)
            do {
                try RunFileAccess.checkMadeWith(config, recorded: summary.attributes.config, model: summary.attributes.model,
                                                path: url.path, context)
            } catch {
                return .stale("\(error)")
            }
            switch summary.attributes.status {
            case .finished: return .finished
            case .diverged: return .diverged
            case .running: return .running(epoch: summary.state.epoch, epochs: epochs)
            }
        } catch {
            return .unreadable("\(error)")
        }
    }

    static func lock(_ lockFile: URL) -> RunStatusRow.Lock {
        let path = lockFile.path
        guard InputFile.exists(path) else { return .none }
        if let kind = InputFile.isNonFile(path) { return .notAFile(kind) }
        guard let owner = RunLock.readOwner(path) else { return .unreadable }
        return .held(owner, RunLock.liveness(owner))
    }

    /// The table as text: a summary line, one line per run, and hints for what needs a hand.
    /// A missing run file under a lock that may be alive shows as `starting`.
    public static func render(suite: String, profile: String, rows: [RunStatusRow]) -> String {
        var counts: [String: Int] = [:]
        let table = rows.map { r -> [String] in
            let status: String
            switch r.state {
            case .finished: status = "finished"
            case let .running(e, n): status = "running (epoch \(e)/\(n))"
            case .diverged: status = "diverged"
            case .missing:
                switch r.lock {
                case .held(_, .live), .held(_, .unknown): status = "starting (no checkpoint yet)"
                default: status = "missing"
                }
            case .unreadable: status = "unreadable"
            case .stale: status = "stale (made with another configuration)"
            }
            counts[String(status.prefix { $0 != " " }), default: 0] += 1
            return [r.experiment, String(r.seed), status, lockText(r.lock)]
        }
        let order = ["finished", "running", "starting", "diverged", "missing", "unreadable", "stale"]
        let summary = order.compactMap { k in counts[k].map { "\($0) \(k)" } }.joined(separator: ", ")
        var lines = ["\(suite) (profile \(profile)): \(rows.count) runs: \(summary)"]
        let header = ["experiment", "seed", "status", "lock"]
        let widths = header.indices.map { c in ([header] + table).map { $0[c].count }.max()! }
        for row in [header] + table {
            lines.append(row.indices.map { c in c == row.count - 1 ? row[c] : row[c].padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  "))
        }
        lines += hints(rows)
        return lines.joined(separator: "\n")
    }

    static func lockText(_ lock: RunStatusRow.Lock) -> String {
        switch lock {
        case .none: return "-"
        case .unreadable: return "lock file unreadable (being written, or cut short by a crash)"
        case let .notAFile(kind): return "the lock is \(kind), which no process can take or release: remove it once no rkan-repro process trains this run"
        case let .held(o, liveness):
            let who = "\(o.host):\(o.pid) since \(o.started)" + (o.slurmTask.map { ", Slurm task \($0)" } ?? "")
            switch liveness {
            case .live: return who + " (alive)"
            case .dead: return who + " (stale: process gone)"
            case .unknown: return who + " (other host)"
            }
        }
    }

    static func hints(_ rows: [RunStatusRow]) -> [String] {
        var interrupted = false, stale = false, unchecked = false
        for r in rows {
            if case .running = r.state, r.lock == .none { interrupted = true }
            switch r.lock {
            case .held(_, .dead): stale = true
            case .held(_, .unknown), .unreadable, .notAFile: unchecked = true
            default: break
            }
        }
        var hints: [String] = []
        for r in rows {
            if case let .unreadable(reason) = r.state { hints.append(reason) }
            if case let .stale(reason) = r.state { hints.append(reason) }
        }
        if interrupted {
            hints.append("Runs that are running without a lock were interrupted: rerun `rkan-repro run` (or resubmit the Slurm job) to resume them.")
        }
        if stale { hints.append("Stale locks (process gone or pid reused) are taken over by the next run on the same host, or removed by `rkan-repro run ... --break-locks 0`.") }
        if unchecked {
            hints.append("A lock from another host cannot be checked from here; if that task was killed (e.g. its node died), remove it with `rkan-repro run ... --break-locks AGE` or delete the .lock file.")
        }
        return hints.map { "note: " + $0 }
    }
}
