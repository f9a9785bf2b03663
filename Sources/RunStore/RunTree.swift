import Foundation

/// The folder of run files, and the one place that knows its layout:
///
///     OUT/SUITE/PROFILE/ID/seed-S.h5        a run's file (`file(for:)`)
///     OUT/SUITE/PROFILE/ID/seed-S.h5.lock   the lock of the process training it (`lock(for:)`)
///
/// Every command that writes, finds or lists runs (`run`, `status`, `report`, `check`, `plan
/// --slurm`, `--break-locks`) goes through it; nothing else builds or parses these paths.
public struct RunTree: Equatable, Sendable {
    /// The root (`run --out`, `report --runs`).
    public let out: URL

    /// - Parameter out: the root folder (it need not exist yet).
    public init(out: URL) { self.out = out }

    /// `OUT/SUITE`: a suite's profiles.
    public func folder(suite: String) -> URL { out.appendingPathComponent(suite) }

    /// `OUT/SUITE/PROFILE`: a profile's runs.
    public func folder(suite: String, profile: String) -> URL {
        folder(suite: suite).appendingPathComponent(profile)
    }

    /// `OUT/SUITE/PROFILE/slurm`: a Slurm job array's plan, script and logs (no experiment).
    public func slurmFolder(suite: String, profile: String) -> URL {
        folder(suite: suite, profile: profile).appendingPathComponent(Self.slurmName)
    }

    /// `OUT/SUITE/PROFILE/ID/seed-S.h5`.
    public func file(for slot: RunSlot) -> URL {
        folder(suite: slot.suite, profile: slot.profile).appendingPathComponent(slot.experiment)
            .appendingPathComponent(Self.fileName(seed: slot.seed))
    }

    /// `OUT/SUITE/PROFILE/ID/seed-S.h5.lock`.
    public func lock(for slot: RunSlot) -> URL { Self.lock(ofFile: file(for: slot)) }

    /// The lock file of a run file: its path with `.lock` appended.
    public static func lock(ofFile runFile: URL) -> URL { URL(fileURLWithPath: runFile.path + lockSuffix) }

    /// The profiles with a folder under `OUT/SUITE`, sorted (hidden names skipped).
    public func profiles(suite: String) -> [String] {
        Self.entries(folder(suite: suite)).filter { !$0.hasPrefix(".") }
    }

    /// Every run of `OUT/SUITE/PROFILE` that has a file or a lock, by experiment id then seed.
    /// Folders that are no experiment (`slurm/`) and files of other names (`seed-0.h5.bad-…`,
    /// temporaries) are passed over.
    public func discover(suite: String, profile: String) -> [RunSlot] {
        let root = folder(suite: suite, profile: profile)
        return Self.entries(root).filter { $0 != Self.slurmName }.flatMap { id -> [RunSlot] in
            let seeds = Set(Self.entries(root.appendingPathComponent(id)).compactMap { name -> Int? in
                let stem = name.hasSuffix(Self.lockSuffix) ? String(name.dropLast(Self.lockSuffix.count)) : name
                guard stem.hasPrefix("seed-"), stem.hasSuffix(".h5"), let seed = Int(stem.dropFirst(5).dropLast(3)),
                      Self.fileName(seed: seed) == stem else { return nil }
                return seed
            })
            return seeds.sorted().map { RunSlot(suite: suite, profile: profile, experiment: id, seed: $0) }
        }
    }

    /// The lock files that exist under `OUT/SUITE/PROFILE`, in `discover` order.
    public func existingLocks(suite: String, profile: String) -> [URL] {
        discover(suite: suite, profile: profile).map(lock(for:)).filter { FileManager.default.fileExists(atPath: $0.path) }
    }

    static let lockSuffix = ".lock"
    /// The folder of a Slurm plan under OUT/SUITE/PROFILE: no experiment may have this id.
    public static let slurmName = "slurm"

    static func fileName(seed: Int) -> String { "seed-\(seed).h5" }

    /// Sorted names in a folder; none when it is missing.
    static func entries(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }
}
