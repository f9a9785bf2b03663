import Foundation
import Engine
import RunStore

/// The nightly regression verdict: compares a profile's finished runs with a stored baseline.
/// Fails when a parameter count differs, when a weights digest differs on the same machine class
/// (BLAS core, threads, conv algorithm and Winograd GEMM), or when a row's mean top-1 falls below the band mean − k·std of the
/// baseline's seeds (std floored at `minStd`); a throughput drop beyond `speedTolerance` is a warning.
/// A detection suite's rows (`Suite.isDetection`) are banded the same way on AP box and on AP mask
/// (`DetectionScores`: the notebook's best epochs) instead of top-1.
public enum RegressionCheck {
    public struct Baseline: Codable, Equatable {
        public var suite: String
        public var profile: String
        public var blasCore: String
        public var threads: Int
        /// The engine's 3×3 conv algorithm of the runs (absent in baselines recorded before it
        /// existed: those were `im2col`).
        public var convAlgorithm: String?
        /// The Winograd GEMM of the runs (`openblas` or `own`; absent in baselines recorded before
        /// it was a choice: those were `openblas`).
        public var winogradGEMM: String?
        public var k: Double
        public var minStd: Double
        public var speedTolerance: Double
        public var rows: [String: Row]

        public struct Row: Codable, Equatable {
            public var params: Int
            /// Best top-1 per seed, percent (classification rows).
            public var top1: [Double]?
            public var digests: [String: String]
            /// Median inference img/s (a detection row's FPS), the best over seeds.
            public var inferImgPerSec: Double?
            /// Best AP box and AP mask per seed, percent (detection rows, `DetectionScores`).
            public var apBox: [Double]?
            public var apMask: [Double]?

            public init(params: Int, top1: [Double]? = nil, digests: [String: String], inferImgPerSec: Double? = nil,
                        apBox: [Double]? = nil, apMask: [Double]? = nil) {
                self.params = params; self.top1 = top1; self.digests = digests; self.inferImgPerSec = inferImgPerSec
                self.apBox = apBox; self.apMask = apMask
            }

            enum CodingKeys: String, CodingKey {
                case params, top1, digests, inferImgPerSec
                case apBox = "ap_box", apMask = "ap_mask"
            }
        }

        enum CodingKeys: String, CodingKey {
            case suite, profile, k, rows, threads
            case blasCore = "blas_core", convAlgorithm = "conv_algorithm", winogradGEMM = "winograd_gemm", minStd = "min_std", speedTolerance = "speed_tolerance"
        }
    }

    public struct Finding: Equatable {
        public var row: String
        public var check: String
        public var passed: Bool
        public var warning: Bool
        public var message: String
    }

    public struct Result {
        public var findings: [Finding]
        public var passed: Bool { findings.allSatisfy { $0.passed } }
        public var summary: String {
            let fails = findings.filter { !$0.passed }, warns = findings.filter { $0.warning }
            var s = passed ? "check passed: \(findings.count) checks" : "check FAILED: \(fails.count) of \(findings.count) checks"
            for f in fails { s += "\n  FAIL \(f.row) \(f.check): \(f.message)" }
            for w in warns { s += "\n  WARN \(w.row) \(w.check): \(w.message)" }
            return s
        }
    }

    /// Current state of the profile's runs, as a baseline would record it.
    static func current(suite: Suite, profile: String, runs: URL, suitesFolder: URL) throws -> Baseline {
        let collected = try ReportGenerator.collect(suite: suite, runs: try suite.runs(profile: profile), tree: RunTree(out: runs),
                                                    suitesFolder: suitesFolder)
        let attrs = collected.compactMap { $0.0 }
        try requireOneMachineClass(attrs, what: "check \(suite.suite) --profile \(profile)")
        var rows: [String: Baseline.Row] = [:]
        for (_, s) in collected {
            guard s.status == .finished, let digest = s.weightsSHA256 else {
                throw HarnessError.badConfig(what: "check \(suite.suite) --profile \(profile)", detail:
                    "run \(s.experiment) seed \(s.seed) is \(s.statusText); run `rkan-repro run \(suite.suite) --profile \(profile)` first")
            }
            var r = rows[s.experiment] ?? (suite.isDetection ? Baseline.Row(params: s.params, digests: [:], apBox: [], apMask: [])
                                                              : Baseline.Row(params: s.params, top1: [], digests: [:]))
            if suite.isDetection {
                let scores = s.detectionScores
                guard scores?.apMask != nil else {
                    throw HarnessError.badConfig(what: "check \(suite.suite) --profile \(profile)", detail:
                        "run \(s.experiment) seed \(s.seed) is finished but has no defined \(scores == nil ? "val_bbox_ap" : "val_segm_ap") "
                        + "in its /metrics, so its AP cannot be checked; look at the run's evaluation and train it again with "
                        + "`\(RunFileAccess.restartCommand(RunSlot(suite: suite.suite, profile: profile, experiment: s.experiment, seed: s.seed), RunFileAccess.Context(out: runs, suitesFolder: suitesFolder)))`")
                }
                r.apBox?.append(scores?.apBox ?? .nan)
                r.apMask?.append(scores?.apMask ?? .nan)
            } else {
                r.top1?.append(s.bestTop1 ?? .nan)
            }
            r.digests["seed-\(s.seed)"] = digest
            if let v = s.inferImgPerSec { r.inferImgPerSec = max(r.inferImgPerSec ?? 0, v) }
            rows[s.experiment] = r
        }
        return Baseline(suite: suite.suite, profile: profile, blasCore: attrs.first?.blasCore ?? "-", threads: attrs.first?.threads ?? 0,
                        convAlgorithm: attrs.first?.convAlgorithm, winogradGEMM: attrs.first?.winogradGEMM, k: 3, minStd: 0.5, speedTolerance: 0.3, rows: rows)
    }

    /// Digests compare within one machine class; runs of several classes have no one class to
    /// compare (or record) them under.
    /// - Throws: `HarnessError.badConfig` naming each class with its runs, and the fix.
    static func requireOneMachineClass(_ attrs: [RunAttributes], what: String) throws {
        let classes = Dictionary(grouping: attrs, by: { machineClass($0) })
        guard classes.count > 1 else { return }
        let list = classes.sorted { $0.key < $1.key }.map { key, runs in
            "\(key): " + runs.map { "\($0.experiment) seed \($0.seed)" }.sorted().joined(separator: ", ")
        }.joined(separator: "; ")
        throw HarnessError.badConfig(what: what, detail:
            "the runs were made under different settings that change their bytes (\(list)), so their weights cannot be checked "
            + "against one baseline; retrain the odd ones under the others' settings (`rkan-repro run … --restart ID:SEED` with "
            + "the same --blas-core, --threads, RKAN_CONV_ALGO and RKAN_WINO_GEMM), or check them from separate --runs folders")
    }

    /// What decides a run's bytes beside its configuration, as one text: the BLAS core, threads, conv
    /// algorithm and, for a Winograd algorithm, the Winograd GEMM.
    /// The GEMM counts only where it runs (`ConvTuning.label`: not for im2col).
    static func machineClass(_ a: RunAttributes) -> String {
        machineClass(blasCore: a.blasCore, threads: a.threads, convAlgorithm: a.convAlgorithm, winogradGEMM: a.winogradGEMM)
    }

    /// `machineClass` of a baseline (absent fields: `im2col`, `openblas`, what they were before recorded).
    static func machineClass(_ b: Baseline) -> String {
        machineClass(blasCore: b.blasCore, threads: b.threads, convAlgorithm: b.convAlgorithm ?? ConvAlgorithm.im2col.rawValue,
                     winogradGEMM: b.winogradGEMM ?? WinogradGEMM.openblas.rawValue)
    }

    static func machineClass(blasCore: String, threads: Int, convAlgorithm: String, winogradGEMM: String) -> String {
        "BLAS core \(blasCore), \(threads) threads, \(ConvTuning.label(algorithm: convAlgorithm, gemm: winogradGEMM))"
    }

    /// The profile a baseline file was recorded with; nil when the file is missing or not a baseline.
    public static func recordedProfile(of url: URL) -> String? {
        guard InputFile.exists(url.path), let data = try? InputFile.read(url.path, limit: 64 << 20) else { return nil }
        return (try? JSONDecoder().decode(Baseline.self, from: data))?.profile
    }

    /// Checks a decoded baseline's numbers: a band factor or floor outside a sane range would
    /// let any run pass (`k: 1e308`) or none.
    /// - Throws: `HarnessError.io` naming the file, the key and the allowed range.
    static func validate(_ b: Baseline, path: String) throws {
        func bad(_ key: String, _ value: String, _ range: String) -> HarnessError {
            .io(path: path, detail: "'\(key)' is \(value), outside \(range): a band that wide (or narrow) checks nothing; "
                + "fix the value or record the baseline again with --update-baseline")
        }
        guard b.k.isFinite && b.k > 0 && b.k <= maxK else { throw bad("k", "\(b.k)", "(0, \(maxK)]") }
        guard b.minStd.isFinite && b.minStd >= 0 && b.minStd <= 10 else { throw bad("min_std", "\(b.minStd)", "[0, 10]") }
        guard b.speedTolerance.isFinite && b.speedTolerance >= 0 && b.speedTolerance <= 1 else {
            throw bad("speed_tolerance", "\(b.speedTolerance)", "[0, 1]")
        }
        for (id, row) in b.rows.sorted(by: { $0.key < $1.key }) {
            let bands = [("top1", row.top1), ("ap_box", row.apBox), ("ap_mask", row.apMask)]
            for (key, values) in bands {
                guard let values else { continue }
                guard !values.isEmpty, values.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 100 }) else {
                    throw bad("rows.\(id).\(key)", "\(values)", "a non-empty list of percentages in [0, 100]")
                }
            }
            guard row.top1 != nil || (row.apBox != nil && row.apMask != nil) else {
                throw HarnessError.io(path: path, detail: "row '\(id)' has neither 'top1' (a classification row) nor both 'ap_box' and "
                    + "'ap_mask' (a detection row), so it checks no accuracy; record the baseline again with --update-baseline")
            }
            guard row.params > 0 else { throw bad("rows.\(id).params", "\(row.params)", "[1, ∞)") }
        }
    }

    /// The largest band factor a baseline may use: mean − 6·std is already far outside any seed spread.
    static let maxK = 6.0

    /// - Parameter allowUncompared: accept runs whose weights could not be compared with the
    ///   baseline's (another BLAS core, thread count, conv algorithm or Winograd GEMM than the baseline's, or no
    ///   seed in common) with a warning; without it such a row fails, since only the accuracy
    ///   band would have guarded it.
    public static func run(suite name: String, profile: String, baseline url: URL, runs: URL, suitesFolder: URL,
                           junit: URL?, update: Bool, allowUncompared: Bool = false) throws -> Result {
        let suite = try SuiteLibrary.find(name, in: suitesFolder)
        let tree = RunTree(out: runs)
        let runFiles = try suite.runs(profile: profile).map { (tree.file(for: $0.slot), "run file") }
        let suiteFile = (URL(fileURLWithPath: suite.origin.file), "suite file")
        if let junit { try OutputGuard.check(output: junit, option: "--junit", inputs: [suiteFile, (url, "baseline")] + runFiles) }
        if update { try OutputGuard.check(output: url, option: "--baseline", inputs: [suiteFile] + runFiles) }
        let now = try current(suite: suite, profile: profile, runs: runs, suitesFolder: suitesFolder)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        if update {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try enc.encode(now).write(to: url, options: .atomic)
            return Result(findings: [Finding(row: "*", check: "update-baseline", passed: true, warning: false, message: "wrote \(url.path)")])
        }
        guard InputFile.exists(url.path) else {
            throw HarnessError.io(path: url.path, detail: "no baseline file; record one with `rkan-repro check \(name) --profile \(profile) --baseline \(url.path) --update-baseline`")
        }
        let data: Data
        do { data = try InputFile.read(url.path, limit: 64 << 20) } catch let f as InputFile.Failure {
            throw HarnessError.io(path: url.path, detail: "cannot read the baseline: \(f.reason)")
        }
        let base: Baseline
        do { base = try JSONDecoder().decode(Baseline.self, from: data) } catch {
            throw HarnessError.io(path: url.path, detail: "not a baseline file (\(error)); record a new one with --update-baseline")
        }
        try validate(base, path: url.path)
        guard !base.rows.isEmpty else {
            throw HarnessError.io(path: url.path, detail: "the baseline has no rows, so there is nothing to check against; "
                + "record one with `rkan-repro check \(name) --profile \(profile) --baseline \(url.path) --update-baseline`")
        }
        guard base.suite == suite.suite && base.profile == profile else {
            throw HarnessError.io(path: url.path, detail: "the baseline is of suite \(base.suite) profile \(base.profile), not \(suite.suite) profile \(profile); "
                + "pass the baseline of this suite and profile, or record one with --update-baseline")
        }
        let result = compare(current: now, baseline: base, allowUncompared: allowUncompared)
        guard !result.findings.isEmpty else {
            throw HarnessError.io(path: url.path, detail: "no check was made (no row of the baseline is in the current runs); nothing was verified")
        }
        if let junit { try Data(junitXML(result, suite: name).utf8).write(to: junit, options: .atomic) }
        return result
    }

    public static func compare(current: Baseline, baseline b: Baseline, allowUncompared: Bool = false) -> Result {
        var f: [Finding] = []
        let sameMachine = machineClass(current) == machineClass(b)
        for (id, br) in b.rows.sorted(by: { $0.key < $1.key }) {
            guard let cr = current.rows[id] else {
                f.append(Finding(row: id, check: "present", passed: false, warning: false, message: "row missing from the current runs"))
                continue
            }
            f.append(Finding(row: id, check: "params", passed: cr.params == br.params, warning: false,
                             message: "\(cr.params) vs baseline \(br.params)"))
            let common = br.digests.keys.filter { cr.digests[$0] != nil }.sorted()
            let notRun = br.digests.keys.filter { cr.digests[$0] == nil }.sorted()
            if sameMachine && !common.isEmpty {
                let differing = common.filter { cr.digests[$0] != br.digests[$0] }
                // Seeds of the baseline that were not run are seeds whose weights nobody compared.
                let message = !differing.isEmpty ? "weights differ for \(differing.joined(separator: ", ")) on the same machine class"
                    : notRun.isEmpty ? "weights identical to the baseline for \(common.joined(separator: ", "))"
                    : "weights identical for \(common.joined(separator: ", ")), but the baseline's \(notRun.joined(separator: ", ")) were not run: "
                        + "run the baseline's seeds, or record the baseline again with --update-baseline"
                f.append(Finding(row: id, check: "digest", passed: differing.isEmpty && notRun.isEmpty, warning: false, message: message))
            } else {
                // A check that compared no weights did not check them: a failure unless the caller
                // accepted that explicitly, and never silent.
                let why = !sameMachine
                    ? "the baseline was recorded with BLAS core \(b.blasCore), \(b.threads) threads, conv algorithm \(b.convAlgorithm ?? "im2col"), "
                        + "Winograd GEMM \(b.winogradGEMM ?? "openblas"); these runs used \(current.blasCore), \(current.threads) threads, "
                        + "\(current.convAlgorithm ?? "im2col"), \(current.winogradGEMM ?? "openblas")"
                    : "no seed is in both (baseline \(br.digests.keys.sorted().joined(separator: ", ")), runs \(cr.digests.keys.sorted().joined(separator: ", ")))"
                let fix = allowUncompared ? "" : ". Run with the baseline's settings (e.g. --blas-core portable with a portable-core baseline, "
                    + "RKAN_CONV_ALGO and RKAN_WINO_GEMM set to the baseline's conv algorithm and GEMM), "
                    + "re-record the baseline on this machine class (Reports/baselines/README.md), or pass --allow-uncompared-weights to accept a check of the accuracy band only"
                f.append(Finding(row: id, check: "digest", passed: allowUncompared, warning: allowUncompared,
                                 message: "weights not compared: " + why + fix))
            }
            if let baseTop1 = br.top1 {
                f.append(band(row: id, check: "accuracy", what: "best top-1", baseline: baseTop1, current: cr.top1, b))
            }
            if let baseBox = br.apBox {
                f.append(band(row: id, check: "ap_box", what: "best AP box", baseline: baseBox, current: cr.apBox, b))
            }
            if let baseMask = br.apMask {
                f.append(band(row: id, check: "ap_mask", what: "best AP mask", baseline: baseMask, current: cr.apMask, b))
            }
            if let c = cr.inferImgPerSec, let o = br.inferImgPerSec, c < o * (1 - b.speedTolerance) {
                f.append(Finding(row: id, check: "throughput", passed: true, warning: true,
                                 message: String(format: "infer %.1f img/s vs baseline %.1f (more than %.0f%% slower)", c, o, b.speedTolerance * 100)))
            }
        }
        return Result(findings: f)
    }

    /// Passes when the current seeds' mean is at least the baseline's mean − k·max(std, minStd);
    /// a current row without the value fails.
    private static func band(row id: String, check: String, what: String, baseline values: [Double], current: [Double]?,
                             _ b: Baseline) -> Finding {
        let mean = Statistics.mean(values) ?? .nan
        let sd = max(Statistics.sampleStandardDeviation(values) ?? 0, b.minStd)
        let floor = mean - b.k * sd
        guard let current else {
            return Finding(row: id, check: check, passed: false, warning: false,
                           message: "the runs have no \(what) (the baseline has; another kind of suite?)")
        }
        let cur = Statistics.mean(current) ?? .nan
        return Finding(row: id, check: check, passed: cur >= floor, warning: false,
                       message: String(format: "\(what) %.2f%% vs band ≥ %.2f%% (baseline %.2f ± %.2f, k=%.1f)", cur, floor, mean, sd, b.k))
    }

    static func junitXML(_ r: Result, suite: String) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let fails = r.findings.filter { !$0.passed }.count
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"rkan-repro.\(esc(suite))\" tests=\"\(r.findings.count)\" failures=\"\(fails)\">\n"
        for f in r.findings {
            x += "  <testcase classname=\"\(esc(suite)).\(esc(f.row))\" name=\"\(esc(f.check))\">"
            if !f.passed { x += "<failure message=\"\(esc(f.message))\"/>" }
            if f.warning { x += "<system-out>\(esc(f.message))</system-out>" }
            x += "</testcase>\n"
        }
        return x + "</testsuite>\n"
    }
}
