/// Builds a suite's markdown report: header, the results table in suite row order, one per-seed
/// table per RKAN/baseline pair, and links to the plots. A detection suite's report is
/// `DetectionReportBuilder`'s.
///
/// The output depends only on the arguments (no clock, no locale, no dictionary order), so the
/// same runs give the same bytes.
public enum ReportBuilder {
    /// Columns of the results table.
    static let columns = [
        "model", "spec", "params", "params M", "published M", "match",
        "top-1 best %", "top-1 final %", "published top-1 %",
        "Δ top-1 vs baseline [95% CI]", "published Δ", "published Δ in CI",
        "train img/s", "infer img/s", "speed ratio", "published speed ratio", "runs",
    ]

    /// The report.
    /// - Parameters:
    ///   - suite: The suite (row order, published values).
    ///   - header: Machine, commit, profile, seeds, date and command.
    ///   - runs: One summary per run file; runs of other profiles or suites are listed, not counted;
    ///     seeds of `header.seeds` without a summary are reported as missing.
    ///   - plots: SVG files to link, paths relative to the markdown file.
    ///   - notes: Paragraphs printed above the results (e.g. what the profile scales).
    /// The report's "Plots" section: a link per SVG (none without plots).
    static func plotSection(_ plots: [ReportPlot]) -> [String] {
        plots.isEmpty ? [] : ["", "## Plots", ""] + plots.map { "![\($0.title)](\($0.path))" }
    }

    /// - Returns: The markdown (ending with a newline) and its summary table.
    public static func report(suite: Suite, header: ReportHeader, runs: [RunSummary], plots: [ReportPlot],
                              notes: [String] = []) -> SuiteReport {
        if suite.isDetection {
            return DetectionReportBuilder.report(suite: suite, header: header, runs: runs, plots: plots, notes: notes)
        }
        let analysis = ReportAnalysis(suite: suite, runs: runs, profile: header.profile, seeds: header.seeds)
        let summary = headerTable(header: header, suite: suite)
        var lines: [String] = ["# \(suite.title)", ""] + summary + ["", "Published values: \(suite.source)"]
        for note in notes { lines += ["", note] }
        lines += ["", "## Results", ""]
        lines += table(columns, analysis.results.map { row($0, analysis: analysis) })
        lines += ["", legend]
        let noted = suite.experiments.filter { $0.note != nil }
        if !noted.isEmpty {
            lines += [""] + noted.map { "- `\($0.id)`: \(ReportFormat.cell($0.note!))" }
        }
        if !suite.eras.isEmpty {
            lines += ["", "## Protocol per row", ""] + provenanceTable(suite: suite, profile: header.profile)
        }
        if !analysis.ignored.isEmpty {
            lines += ["", "Runs not counted (other profile or suite, unknown experiment, or a duplicate seed):"]
            lines += analysis.ignored.map { "- `\($0.suite)/\($0.profile)/\($0.experiment)/seed-\($0.seed)` (\($0.statusText))" }
        }
        for pair in analysis.pairs {
            lines += ["", "### \(pair.rkan.experiment.id) vs \(pair.baseline.experiment.id)", ""]
            lines += pairTable(pair)
        }
        lines += plotSection(plots)
        return SuiteReport(markdown: lines.joined(separator: "\n") + "\n", summaryTable: summary)
    }

    /// Explanation printed under the results table.
    static let legend = """
        Top-1 is validation accuracy in percent: best epoch and final epoch, mean ± sample std over \
        finished seeds (n). Δ is paired per seed on best-epoch top-1, RKAN − baseline, with a Student-t \
        95% interval (n − 1 degrees of freedom); n/a when n = 1. params counts every parameter the \
        forward pass uses; params M follows thop's convention where known (as the paper does), and \
        match is ✓ when it equals the published count at 0.01M. Speed ratio is RKAN / baseline \
        inference img/s, measured with the two models alternated in each round at the end of every RKAN \
        run: the median over all rounds and seeds, with the lowest and highest round. Rows with unfinished, diverged or missing seeds are flagged in the runs column.
        """

    /// Suite, profile, seeds, machine, commit, date and command as a two-column table.
    static func headerTable(header: ReportHeader, suite: Suite) -> [String] {
        let seeds = header.seeds.map(String.init).joined(separator: ", ")
        let rows = [
            ["suite", "`\(suite.suite)`"], ["profile", "`\(header.profile)`"], ["seeds", seeds],
            ["machine", header.machine], ["CPU", header.cpu], ["BLAS core", header.blasCore],
            ["threads", String(header.threads)], ["commit", "`\(header.commit)`"], ["date", header.date],
            ["command", "`\(header.command)`"],
        ].map { [$0[0], ReportFormat.cell($0[1])] }
        return table(["", ""], rows)
    }

    private static func row(_ result: ExperimentResult, analysis: ReportAnalysis) -> [String] {
        let paper = result.experiment.paper
        let pair = analysis.pair(rkan: result.experiment.id)
        let none = ReportFormat.none
        return [
            "`\(result.experiment.id)`",
            "`\(ReportFormat.cell(result.experiment.model.description))`",
            result.params.map(ReportFormat.grouped) ?? none,
            result.comparedParams.map(ReportFormat.millions) ?? none,
            ReportFormat.optional(paper?.paramsM, 2),
            result.paramsMatch,
            ReportFormat.meanStd(result.best),
            ReportFormat.meanStd(result.final),
            ReportFormat.optional(paper?.top1, 2),
            pair.map { ReportFormat.delta($0.bestDelta) } ?? none,
            pair?.publishedDelta.map { ReportFormat.signed($0, 2) } ?? none,
            pair?.publishedInside ?? none,
            ReportFormat.optional(result.trainImgPerSec, 1),
            ReportFormat.optional(result.inferImgPerSec, 1),
            pair?.speedRatioText ?? ReportFormat.none,
            ReportFormat.optional(pair?.publishedSpeedRatio, 2),
            result.statusText,
        ]
    }

    /// Per row: the README versions that print its value, the notebook era that trained it, that
    /// notebook's protocol, and the protocol this profile ran (and where the two differ); then each
    /// era's evidence.
    static func provenanceTable(suite: Suite, profile: String) -> [String] {
        let columns = ["model", "README versions", "published by (notebook)", "notebook's protocol",
                       "rkan-repro ran (`\(profile)`)", "differs in"]
        let follows = ((try? suite.overrides(profile: profile))?.follow ?? .readme) == .notebook ? "era notebook" : "README text"
        var rows: [[String]] = []
        for e in suite.experiments {
            let none = ReportFormat.none
            guard let era = suite.era(of: e), let ran = try? suite.training(for: e, profile: profile) else {
                rows.append(["`\(e.id)`", none, none, none, none, none])
                continue
            }
            let notebook = era.code.applied(to: suite.protocol)
            var differs: [String] = []
            if notebook.optimizer.weightDecay != ran.optimizer.weightDecay { differs.append("weight decay") }
            if notebook.epochs != ran.epochs { differs.append("epochs") }
            rows.append([
                "`\(e.id)`",
                e.paper?.readme?.joined(separator: ", ") ?? none,
                ReportFormat.cell("`\(e.era!)`: \(era.notebook)"),
                describe(notebook),
                "\(describe(ran)) (\(follows))",
                differs.isEmpty ? ReportFormat.none : differs.joined(separator: ", "),
            ])
        }
        var lines = table(columns, rows)
        lines += ["", "Eras (why each row's notebook, and what its code applies):"]
        lines += suite.eras.keys.sorted().map { "- `\($0)`: \(ReportFormat.cell(suite.eras[$0]!.evidence))" }
        return lines
    }

    /// The protocol values that eras can change, as one cell.
    private static func describe(_ t: TrainingProtocol) -> String {
        "weight decay \(t.optimizer.weightDecay), \(t.epochs) epochs"
    }

    private static func pairTable(_ pair: PairResult) -> [String] {
        let b = pair.baseline.experiment.id, r = pair.rkan.experiment.id
        let columns = ["seed", "\(b) best", "\(r) best", "Δ best", "\(b) final", "\(r) final", "Δ final", "status"]
        let seeds = Set(pair.baseline.runs.map(\.seed)).union(pair.rkan.runs.map(\.seed)).sorted()
        var rows: [[String]] = []
        for seed in seeds {
            let baseRun = pair.baseline.runs.first { $0.seed == seed }
            let rkanRun = pair.rkan.runs.first { $0.seed == seed }
            let best = pair.bestDeltas.first { $0.seed == seed }
            let final = pair.finalDeltas.first { $0.seed == seed }
            func value(_ run: RunSummary?, _ path: KeyPath<RunSummary, Double?>) -> String {
                guard let run, run.status == .finished else { return ReportFormat.none }
                return ReportFormat.optional(run[keyPath: path], 2)
            }
            let status = "\(baseRun?.statusText ?? "missing") / \(rkanRun?.statusText ?? "missing")"
            rows.append([
                String(seed), value(baseRun, \.bestTop1), value(rkanRun, \.bestTop1),
                best.map { ReportFormat.signed($0.delta, 2) } ?? ReportFormat.none,
                value(baseRun, \.finalTop1), value(rkanRun, \.finalTop1),
                final.map { ReportFormat.signed($0.delta, 2) } ?? ReportFormat.none,
                status == "finished / finished" ? status : "⚠ " + status,
            ])
        }
        rows.append(["mean", ReportFormat.meanStd(pair.baseline.best), ReportFormat.meanStd(pair.rkan.best),
                     ReportFormat.delta(pair.bestDelta), ReportFormat.meanStd(pair.baseline.final),
                     ReportFormat.meanStd(pair.rkan.final), ReportFormat.delta(pair.finalDelta), ""])
        return table(columns, rows)
    }

    /// A markdown table: header row, separator, rows.
    static func table(_ columns: [String], _ rows: [[String]]) -> [String] {
        let header = "| " + columns.joined(separator: " | ") + " |"
        let separator = "|" + String(repeating: "---|", count: columns.count)
        return [header, separator] + rows.map { "| " + $0.joined(separator: " | ") + " |" }
    }
}
