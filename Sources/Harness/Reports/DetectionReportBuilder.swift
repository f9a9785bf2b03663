/// The report of a detection suite (`Suite.isDetection`): the published AP box, AP50 box, AP mask,
/// AP50 mask and FPS beside ours, read as `DetectionScores` describes, with paired deltas to the
/// baseline row; the official COCO evaluation beside the notebook's; the FPS ratio; per-run and
/// per-pair tables; the plots.
///
/// Like `ReportBuilder`, the output depends only on the arguments, so the same runs give the same
/// bytes.
enum DetectionReportBuilder {
    /// A value of a run's scores.
    typealias Score = (DetectionScores) -> Double?

    /// The report; the arguments as for `ReportBuilder.report`.
    static func report(suite: Suite, header: ReportHeader, runs: [RunSummary], plots: [ReportPlot],
                       notes: [String]) -> SuiteReport {
        let analysis = ReportAnalysis(suite: suite, runs: runs, profile: header.profile, seeds: header.seeds)
        let headerLines = ReportBuilder.headerTable(header: header, suite: suite)
        var lines: [String] = ["# \(suite.title)", ""] + headerLines + ["", "Published values: \(suite.source)"]
        for note in notes { lines += ["", note] }
        lines += ["", "## Results (notebook evaluation)", ""]
        lines += ReportBuilder.table(resultColumns, analysis.results.map { resultRow($0, analysis: analysis) })
        lines += ["", legend]
        let noted = suite.experiments.filter { $0.note != nil }
        if !noted.isEmpty {
            lines += [""] + noted.map { "- `\($0.id)`: \(ReportFormat.cell($0.note!))" }
        }
        lines += ["", "## Official COCO evaluation", ""]
        lines += ReportBuilder.table(officialColumns, analysis.results.map { officialRow($0, analysis: analysis) })
        lines += ["", officialLegend]
        lines += ["", "## Speed", ""]
        lines += ReportBuilder.table(speedColumns(runs: analysis.results.flatMap(\.runs)),
                                     analysis.results.map { speedRow($0, analysis: analysis) })
        lines += ["", speedLegend]
        if !suite.eras.isEmpty {
            lines += ["", "## Protocol per row", ""] + ReportBuilder.provenanceTable(suite: suite, profile: header.profile)
        }
        if !analysis.ignored.isEmpty {
            lines += ["", "Runs not counted (other profile or suite, unknown experiment, or a duplicate seed):"]
            lines += analysis.ignored.map { "- `\($0.suite)/\($0.profile)/\($0.experiment)/seed-\($0.seed)` (\($0.statusText))" }
        }
        lines += ["", "## Runs", ""] + runTable(analysis.results)
        for pair in analysis.pairs {
            lines += ["", "### \(pair.rkan.experiment.id) vs \(pair.baseline.experiment.id)", ""]
            lines += pairTable(pair)
        }
        lines += ReportBuilder.plotSection(plots)
        let summary = headerLines + [""] + ReportBuilder.table(summaryColumns, analysis.results.map { summaryRow($0, analysis: analysis) })
        return SuiteReport(markdown: lines.joined(separator: "\n") + "\n", summaryTable: summary)
    }

    // MARK: Values

    static let apBox: Score = { $0.apBox }
    static let ap50Box: Score = { $0.ap50Box }
    static let apMask: Score = { $0.apMask }
    static let ap50Mask: Score = { $0.ap50Mask }
    static let officialAPBox: Score = { $0.officialAPBox }
    static let officialAP50Box: Score = { $0.officialAP50Box }
    static let officialAPMask: Score = { $0.officialAPMask }
    static let officialAP50Mask: Score = { $0.officialAP50Mask }

    /// A score over the finished seeds of a row.
    static func summary(_ result: ExperimentResult, _ score: Score) -> SampleSummary {
        Statistics.summarize(result.finished.compactMap { $0.detectionScores.flatMap(score) })
    }

    /// A score per finished seed of a row.
    static func bySeed(_ result: ExperimentResult, _ score: Score) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for run in result.finished { out[run.seed] = run.detectionScores.flatMap(score) }
        return out
    }

    /// Per-seed deltas RKAN − baseline of a score (seeds with the score on both sides).
    static func deltas(_ pair: PairResult, _ score: Score) -> [PairedDelta] {
        Statistics.pairedDeltas(rkan: bySeed(pair.rkan, score), baseline: bySeed(pair.baseline, score))
    }

    /// Mean delta with its Student-t 95% interval.
    static func delta(_ pair: PairResult, _ score: Score) -> SampleSummary {
        Statistics.summarize(deltas(pair, score).map(\.delta))
    }

    /// The published delta of a value, when the paper has both rows.
    static func publishedDelta(_ pair: PairResult, _ value: KeyPath<PaperValues, Double?>) -> Double? {
        guard let r = pair.rkan.experiment.paper?[keyPath: value], let b = pair.baseline.experiment.paper?[keyPath: value] else { return nil }
        return r - b
    }

    /// `yes` / `no` when the published delta is inside / outside the measured interval, `n/a`
    /// without an interval, `–` without a published delta.
    static func inside(_ measured: SampleSummary, _ published: Double?) -> String {
        guard let published else { return ReportFormat.none }
        guard let inside = Statistics.contains(measured, published) else { return "n/a" }
        return inside ? "yes" : "no"
    }

    /// Notebook − official of a score, mean over the finished seeds that have both.
    static func notebookMinusOfficial(_ result: ExperimentResult, notebook: @escaping Score, official: @escaping Score) -> SampleSummary {
        Statistics.summarize(result.finished.compactMap { run in
            guard let s = run.detectionScores, let n = notebook(s), let o = official(s) else { return nil }
            return n - o
        })
    }

    // MARK: Tables

    static let resultColumns = [
        "model", "spec",
        "AP box %", "published AP box %", "AP50 box %", "published AP50 box %",
        "AP mask %", "published AP mask %", "AP50 mask %", "published AP50 mask %",
        "Δ AP box vs baseline [95% CI]", "published Δ AP box", "published Δ in CI",
        "Δ AP mask vs baseline [95% CI]", "published Δ AP mask", "published Δ in CI",
        "runs",
    ]

    static let legend = """
        AP is COCO AP@[.5:.95] and AP50 AP@.5, in percent, from the notebook's evaluation \
        (torchmetrics' MeanAveragePrecision over the filtered validation targets, `val_*` metrics), \
        read as the notebook reports it: per run the best box AP over the epochs with the AP50 box \
        of that epoch, and separately the best mask AP with the AP50 mask of its epoch (the first \
        epoch reaching the best; pycocotools' −1, undefined, never counts). Mean ± sample std over \
        finished seeds (n). Δ is paired per seed, RKAN − baseline, with a Student-t 95% interval \
        (n − 1 degrees of freedom); n/a when n = 1. Rows with unfinished, diverged or missing seeds \
        are flagged in the runs column.
        """

    private static func resultRow(_ result: ExperimentResult, analysis: ReportAnalysis) -> [String] {
        let paper = result.experiment.paper
        let pair = analysis.pair(rkan: result.experiment.id)
        let none = ReportFormat.none
        let boxDelta = pair.map { delta($0, apBox) }, maskDelta = pair.map { delta($0, apMask) }
        let publishedBox = pair.flatMap { publishedDelta($0, \.apBox) }, publishedMask = pair.flatMap { publishedDelta($0, \.apMask) }
        return [
            "`\(result.experiment.id)`",
            "`\(ReportFormat.cell(result.experiment.model.description))`",
            ReportFormat.meanStd(summary(result, apBox)), ReportFormat.optional(paper?.apBox, 2),
            ReportFormat.meanStd(summary(result, ap50Box)), ReportFormat.optional(paper?.ap50Box, 2),
            ReportFormat.meanStd(summary(result, apMask)), ReportFormat.optional(paper?.apMask, 2),
            ReportFormat.meanStd(summary(result, ap50Mask)), ReportFormat.optional(paper?.ap50Mask, 2),
            boxDelta.map { ReportFormat.delta($0) } ?? none,
            publishedBox.map { ReportFormat.signed($0, 2) } ?? none,
            boxDelta.map { inside($0, publishedBox) } ?? none,
            maskDelta.map { ReportFormat.delta($0) } ?? none,
            publishedMask.map { ReportFormat.signed($0, 2) } ?? none,
            maskDelta.map { inside($0, publishedMask) } ?? none,
            result.statusText,
        ]
    }

    static let officialColumns = [
        "model", "official AP box %", "official AP50 box %", "official AP mask %", "official AP50 mask %",
        "Δ official AP box vs baseline [95% CI]", "Δ official AP mask vs baseline [95% CI]",
        "AP box notebook − official", "AP mask notebook − official",
    ]

    static let officialLegend = """
        The official COCO evaluation (pycocotools' COCOeval on the unfiltered annotation file, \
        `official_*` metrics) of the same epochs' weights as the notebook columns above (each \
        run's best notebook box AP epoch for box, best mask AP epoch for mask), in percent. The \
        README's values are the notebook's; notebook − official shows what its filtered targets \
        change (mean over finished seeds).
        """

    private static func officialRow(_ result: ExperimentResult, analysis: ReportAnalysis) -> [String] {
        let pair = analysis.pair(rkan: result.experiment.id)
        let none = ReportFormat.none
        return [
            "`\(result.experiment.id)`",
            ReportFormat.meanStd(summary(result, officialAPBox)), ReportFormat.meanStd(summary(result, officialAP50Box)),
            ReportFormat.meanStd(summary(result, officialAPMask)), ReportFormat.meanStd(summary(result, officialAP50Mask)),
            pair.map { ReportFormat.delta(delta($0, officialAPBox)) } ?? none,
            pair.map { ReportFormat.delta(delta($0, officialAPMask)) } ?? none,
            ReportFormat.delta(notebookMinusOfficial(result, notebook: apBox, official: officialAPBox)),
            ReportFormat.delta(notebookMinusOfficial(result, notebook: apMask, official: officialAPMask)),
        ]
    }

    /// The speed table's columns; the FPS column names the image side when every measured run used one.
    static func speedColumns(runs: [RunSummary]) -> [String] {
        let sizes = Set(runs.filter { $0.status != nil }.compactMap(\.inferSize))
        let fps = sizes.count == 1 ? "FPS (batch 1, 3×\(sizes.first!)×\(sizes.first!))" : "FPS (batch 1)"
        return ["model", "params", fps, "published FPS", "FPS ratio vs baseline", "published FPS ratio", "train img/s"]
    }

    static let speedLegend = """
        params counts every parameter of the detector at full width (backbone, FPN, RPN and the box \
        and mask heads; the paper prints no count). FPS is the detector's inference throughput on one random image per pass (batch 1): the \
        median of a run's rounds, mean over seeds. The FPS ratio is RKAN / baseline FPS measured \
        with the two detectors alternated in each round at the end of every RKAN run: the median \
        over all rounds and seeds, with the lowest and highest round. The published FPS was \
        measured on a GPU (batch 1, 3×640×640, fp32), so only the ratios compare across machines.
        """

    private static func speedRow(_ result: ExperimentResult, analysis: ReportAnalysis) -> [String] {
        let pair = analysis.pair(rkan: result.experiment.id)
        return [
            "`\(result.experiment.id)`",
            result.params.map(ReportFormat.grouped) ?? ReportFormat.none,
            ReportFormat.optional(result.inferImgPerSec, 1),
            ReportFormat.optional(result.experiment.paper?.imgPerSec, 1),
            pair?.speedRatioText ?? ReportFormat.none,
            ReportFormat.optional(pair?.publishedSpeedRatio, 2),
            ReportFormat.optional(result.trainImgPerSec, 1),
        ]
    }

    /// Every run: its status, epochs, chosen epochs and scores, skipped batches and FPS.
    private static func runTable(_ results: [ExperimentResult]) -> [String] {
        let columns = ["model", "seed", "status", "epochs", "best box epoch", "AP box %", "AP50 box %", "best mask epoch",
                       "AP mask %", "AP50 mask %", "official AP box %", "official AP mask %", "skipped batches", "FPS"]
        var rows: [[String]] = []
        for result in results {
            for run in result.runs {
                let s = run.detectionScores
                let epochs = run.metrics[DetectionMetrics.name(.notebook, .bbox, "ap")]?.count
                let skipped = run.metrics["skipped_batches"].map { ReportFormat.fixed($0.reduce(0, +), 0) }
                rows.append([
                    "`\(result.experiment.id)`", String(run.seed), run.statusText,
                    epochs.map(String.init) ?? ReportFormat.none,
                    s.map { String($0.boxEpoch) } ?? ReportFormat.none,
                    ReportFormat.optional(s?.apBox, 2), ReportFormat.optional(s?.ap50Box, 2),
                    s?.maskEpoch.map(String.init) ?? ReportFormat.none,
                    ReportFormat.optional(s?.apMask, 2), ReportFormat.optional(s?.ap50Mask, 2),
                    ReportFormat.optional(s?.officialAPBox, 2), ReportFormat.optional(s?.officialAPMask, 2),
                    skipped ?? ReportFormat.none,
                    ReportFormat.optional(run.inferImgPerSec, 1),
                ])
            }
        }
        return ReportBuilder.table(columns, rows)
    }

    private static func pairTable(_ pair: PairResult) -> [String] {
        let b = pair.baseline.experiment.id, r = pair.rkan.experiment.id
        let columns = ["seed", "\(b) AP box", "\(r) AP box", "Δ AP box", "\(b) AP mask", "\(r) AP mask", "Δ AP mask", "status"]
        let seeds = Set(pair.baseline.runs.map(\.seed)).union(pair.rkan.runs.map(\.seed)).sorted()
        let boxDeltas = deltas(pair, apBox), maskDeltas = deltas(pair, apMask)
        var rows: [[String]] = []
        for seed in seeds {
            let baseRun = pair.baseline.runs.first { $0.seed == seed }
            let rkanRun = pair.rkan.runs.first { $0.seed == seed }
            func value(_ run: RunSummary?, _ score: Score) -> String {
                guard let run, run.status == .finished else { return ReportFormat.none }
                return ReportFormat.optional(run.detectionScores.flatMap(score), 2)
            }
            let box = boxDeltas.first { $0.seed == seed }, mask = maskDeltas.first { $0.seed == seed }
            let status = "\(baseRun?.statusText ?? "missing") / \(rkanRun?.statusText ?? "missing")"
            rows.append([
                String(seed), value(baseRun, apBox), value(rkanRun, apBox),
                box.map { ReportFormat.signed($0.delta, 2) } ?? ReportFormat.none,
                value(baseRun, apMask), value(rkanRun, apMask),
                mask.map { ReportFormat.signed($0.delta, 2) } ?? ReportFormat.none,
                status == "finished / finished" ? status : "⚠ " + status,
            ])
        }
        rows.append(["mean", ReportFormat.meanStd(summary(pair.baseline, apBox)), ReportFormat.meanStd(summary(pair.rkan, apBox)),
                     ReportFormat.delta(delta(pair, apBox)), ReportFormat.meanStd(summary(pair.baseline, apMask)),
                     ReportFormat.meanStd(summary(pair.rkan, apMask)), ReportFormat.delta(delta(pair, apMask)), ""])
        return ReportBuilder.table(columns, rows)
    }

    static let summaryColumns = ["model", "AP box % (published)", "AP mask % (published)", "Δ AP box [95% CI] (published)",
                                 "Δ AP mask [95% CI] (published)", "FPS ratio (published)", "runs"]

    /// The README's compact row: ours with the published value in brackets.
    private static func summaryRow(_ result: ExperimentResult, analysis: ReportAnalysis) -> [String] {
        let paper = result.experiment.paper
        let pair = analysis.pair(rkan: result.experiment.id)
        func mean(_ s: SampleSummary) -> String { s.mean.map { ReportFormat.fixed($0, 2) } ?? ReportFormat.none }
        func withPublished(_ ours: String, _ published: String?) -> String { "\(ours) (\(published ?? ReportFormat.none))" }
        let none = ReportFormat.none
        return [
            "`\(result.experiment.id)`",
            withPublished(mean(summary(result, apBox)), paper?.apBox.map { ReportFormat.fixed($0, 2) }),
            withPublished(mean(summary(result, apMask)), paper?.apMask.map { ReportFormat.fixed($0, 2) }),
            pair.map { withPublished(ReportFormat.delta(delta($0, apBox)), publishedDelta($0, \.apBox).map { ReportFormat.signed($0, 2) }) } ?? none,
            pair.map { withPublished(ReportFormat.delta(delta($0, apMask)), publishedDelta($0, \.apMask).map { ReportFormat.signed($0, 2) }) } ?? none,
            pair.map { withPublished($0.speedRatio.map { ReportFormat.fixed($0.median, 2) } ?? none,
                                     $0.publishedSpeedRatio.map { ReportFormat.fixed($0, 2) }) } ?? none,
            "\(result.finished.count)/\(result.runs.count) finished",
        ]
    }
}
