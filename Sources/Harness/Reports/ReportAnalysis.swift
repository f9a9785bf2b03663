import RunStore

/// The numbers of one suite row, aggregated over its seeds.
struct ExperimentResult {
    /// The suite row.
    let experiment: SuiteExperiment
    /// One entry per expected seed (a synthesized missing entry (status nil) where no run was given),
    /// plus any extra seeds that were given, seeds ascending.
    let runs: [RunSummary]

    /// Runs whose metrics count: the finished ones.
    var finished: [RunSummary] { runs.filter { $0.status == .finished } }
    /// Best-epoch top-1 over finished seeds.
    var best: SampleSummary { Statistics.summarize(finished.compactMap(\.bestTop1)) }
    /// Final-epoch top-1 over finished seeds.
    var final: SampleSummary { Statistics.summarize(finished.compactMap(\.finalTop1)) }
    /// A run that knows the parameter count (any status but missing).
    private var measured: RunSummary? { runs.first { $0.status != nil && $0.params > 0 } }
    /// Every used parameter.
    var params: Int? { measured?.params }
    /// Parameters compared with the paper: thop's convention when known, else all.
    var comparedParams: Int? { measured.map { $0.paramsThop ?? $0.params } }
    /// Mean training img/s over runs that measured it.
    var trainImgPerSec: Double? { Statistics.mean(runs.compactMap(\.trainImgPerSec)) }
    /// Mean inference img/s over runs that measured it.
    var inferImgPerSec: Double? { Statistics.mean(runs.compactMap(\.inferImgPerSec)) }

    /// ✓ / ✗ when the measured count equals / differs from the published one at 0.01M, – otherwise.
    var paramsMatch: String {
        guard let published = experiment.paper?.paramsM, let compared = comparedParams else { return ReportFormat.none }
        return ReportFormat.millions(compared) == ReportFormat.fixed(published, 2) ? "✓" : "✗"
    }

    /// `3/3 finished`, with every other status flagged and its seeds named.
    var statusText: String {
        var parts = ["\(finished.count)/\(runs.count) finished"]
        for status in [RunStatus.running, .diverged, nil] as [RunStatus?] {
            let seeds = runs.filter { $0.status == status }.map { String($0.seed) }
            if !seeds.isEmpty {
                parts.append("⚠ \(seeds.count) \(RunSummary.text(of: status)) (seed\(seeds.count > 1 ? "s" : "") \(seeds.joined(separator: ", ")))")
            }
        }
        return parts.joined(separator: ", ")
    }

    /// Best top-1 per finished seed.
    var bestBySeed: [Int: Double] { bySeed(\.bestTop1) }
    /// Final top-1 per finished seed.
    var finalBySeed: [Int: Double] { bySeed(\.finalTop1) }

    private func bySeed(_ value: KeyPath<RunSummary, Double?>) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for run in finished { out[run.seed] = run[keyPath: value] }
        return out
    }
}

/// An RKAN row and its baseline, compared seed by seed.
struct PairResult {
    let baseline: ExperimentResult
    let rkan: ExperimentResult

    /// Per-seed deltas of best-epoch top-1 (seeds finished on both sides).
    var bestDeltas: [PairedDelta] { Statistics.pairedDeltas(rkan: rkan.bestBySeed, baseline: baseline.bestBySeed) }
    /// Per-seed deltas of final-epoch top-1.
    var finalDeltas: [PairedDelta] { Statistics.pairedDeltas(rkan: rkan.finalBySeed, baseline: baseline.finalBySeed) }
    /// Mean best-epoch delta with its Student-t 95% interval.
    var bestDelta: SampleSummary { Statistics.summarize(bestDeltas.map(\.delta)) }
    /// Mean final-epoch delta with its interval.
    var finalDelta: SampleSummary { Statistics.summarize(finalDeltas.map(\.delta)) }

    /// Published top-1 delta, when the paper has both rows.
    var publishedDelta: Double? {
        guard let r = rkan.experiment.paper?.top1, let b = baseline.experiment.paper?.top1 else { return nil }
        return r - b
    }

    /// Measured inference speed ratio RKAN / baseline: the median over every alternated round of
    /// every seed's RKAN run, with the rounds' lowest and highest ratio. Run files without
    /// alternated rounds fall back to the quotient of the two rows' mean img/s, measured at other
    /// times (`interleaved` false), which the machine's load can skew either way.
    var speedRatio: (median: Double, low: Double, high: Double, rounds: Int, interleaved: Bool)? {
        let rounds = rkan.runs.compactMap(\.inferRatioVsBaseline).flatMap { $0 }.filter(\.isFinite)
        if !rounds.isEmpty {
            return (Throughput.median(rounds), rounds.min()!, rounds.max()!, rounds.count, true)
        }
        guard let r = rkan.inferImgPerSec, let b = baseline.inferImgPerSec, b > 0 else { return nil }
        return (r / b, r / b, r / b, 0, false)
    }

    /// The speed ratio as the report prints it: `1.02 (0.98–1.05, 6 rounds)`, or `1.02 (not alternated)`.
    var speedRatioText: String {
        guard let s = speedRatio else { return ReportFormat.none }
        guard s.interleaved else { return "\(ReportFormat.fixed(s.median, 2)) (not alternated)" }
        return "\(ReportFormat.fixed(s.median, 2)) (\(ReportFormat.fixed(s.low, 2))–\(ReportFormat.fixed(s.high, 2)), \(s.rounds) rounds)"
    }

    /// Published speed ratio RKAN / baseline.
    var publishedSpeedRatio: Double? {
        guard let r = rkan.experiment.paper?.imgPerSec, let b = baseline.experiment.paper?.imgPerSec, b > 0 else { return nil }
        return r / b
    }

    /// `yes` / `no` when the published delta is inside / outside the measured interval, `n/a` otherwise.
    var publishedInside: String {
        guard let published = publishedDelta else { return ReportFormat.none }
        guard let inside = Statistics.contains(bestDelta, published) else { return "n/a" }
        return inside ? "yes" : "no"
    }
}

/// Groups run summaries by suite row and pairs RKAN rows with their baselines.
struct ReportAnalysis {
    /// One result per suite row, in suite order.
    let results: [ExperimentResult]
    /// One pair per RKAN row that names a baseline, in suite order.
    let pairs: [PairResult]
    /// Runs that belong to no row of the suite, or to another profile (listed, never dropped silently).
    let ignored: [RunSummary]

    /// - Parameters:
    ///   - suite: The suite (row order, baselines).
    ///   - runs: Run summaries, any order.
    ///   - profile: Only runs of this profile count.
    ///   - seeds: Seeds expected for every row; absent ones count as missing.
    init(suite: Suite, runs: [RunSummary], profile: String, seeds: [Int]) {
        var results: [ExperimentResult] = []
        for experiment in suite.experiments {
            let given = runs.filter { $0.suite == suite.suite && $0.profile == profile && $0.experiment == experiment.id }
            var bySeed: [Int: RunSummary] = [:]
            for run in given where bySeed[run.seed] == nil { bySeed[run.seed] = run }
            for seed in seeds where bySeed[seed] == nil {
                bySeed[seed] = RunSummary(suite: suite.suite, experiment: experiment.id, model: experiment.model,
                                          role: experiment.role, baseline: experiment.baseline, seed: seed,
                                          profile: profile, status: nil, params: 0)
            }
            results.append(ExperimentResult(experiment: experiment, runs: bySeed.keys.sorted().map { bySeed[$0]! }))
        }
        self.results = results
        let ids = Set(suite.experiments.map(\.id))
        var seen = Set<String>()
        ignored = runs.filter { run in
            let key = "\(run.experiment)/\(run.seed)"
            let counted = run.suite == suite.suite && run.profile == profile && ids.contains(run.experiment)
                && seen.insert(key).inserted
            return !counted
        }
        pairs = results.compactMap { result in
            guard let id = result.experiment.baseline, let base = results.first(where: { $0.experiment.id == id }) else {
                return nil
            }
            return PairResult(baseline: base, rkan: result)
        }
    }

    /// The pair whose RKAN row is `id`.
    func pair(rkan id: String) -> PairResult? { pairs.first { $0.rkan.experiment.id == id } }
}
