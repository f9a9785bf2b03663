/// Bar chart of each RKAN row's mean top-1 gain over its baseline (a detection suite's: AP box
/// and AP mask), with Student-t 95% whiskers and a diamond at the published gain.
public enum SVGDeltaChart {
    /// Renders the chart.
    /// - Parameters:
    ///   - suite: The suite (pairs in row order).
    ///   - runs: Run summaries; only finished runs of this suite and profile count.
    ///   - profile: The profile to draw.
    ///   - seeds: Seeds expected per row (as in the report header).
    /// - Returns: A standalone SVG 1.1 document.
    public static func render(suite: Suite, runs: [RunSummary], profile: String, seeds: [Int]) -> String {
        let analysis = ReportAnalysis(suite: suite, runs: runs, profile: profile, seeds: seeds)
        let bars = analysis.pairs.map { Bar(label: $0.rkan.experiment.id, row: $0.rkan.experiment.id, delta: $0.bestDelta,
                                            published: $0.publishedDelta) }
        return render(suite: suite, bars: bars, title: "\(suite.title): Δ best top-1, RKAN − baseline (profile \(profile))",
                      axis: "Δ top-1 (percentage points)")
    }

    /// A detection suite's chart: per pair, the Δ of the notebook's box AP and of its mask AP
    /// (`DetectionScores`), each beside its published Δ.
    static func renderDetection(suite: Suite, runs: [RunSummary], profile: String, seeds: [Int]) -> String {
        let analysis = ReportAnalysis(suite: suite, runs: runs, profile: profile, seeds: seeds)
        var bars: [Bar] = []
        for pair in analysis.pairs {
            let id = pair.rkan.experiment.id
            bars.append(Bar(label: "\(id) box", row: id, delta: DetectionReportBuilder.delta(pair, DetectionReportBuilder.apBox),
                            published: DetectionReportBuilder.publishedDelta(pair, \.apBox)))
            bars.append(Bar(label: "\(id) mask", row: id, delta: DetectionReportBuilder.delta(pair, DetectionReportBuilder.apMask),
                            published: DetectionReportBuilder.publishedDelta(pair, \.apMask)))
        }
        return render(suite: suite, bars: bars, title: "\(suite.title): Δ AP box and Δ AP mask, RKAN − baseline (profile \(profile))",
                      axis: "Δ AP (percentage points)")
    }

    /// One bar: a label under it, the suite row whose colour it takes, the measured Δ and the published one.
    struct Bar {
        var label: String
        var row: String
        var delta: SampleSummary
        var published: Double?
    }

    private static func render(suite: Suite, bars: [Bar], title: String, axis: String) -> String {
        let slot = 120.0
        let plot = (left: 72.0, top: 40.0, bottom: 300.0)
        let right = plot.left + slot * Double(max(bars.count, 1))
        var canvas = SVGCanvas(width: max(right + 200, 640), height: 370)
        canvas.text(title, x: plot.left, y: 24, size: 14, weight: "bold")

        var values = [0.0]
        for bar in bars {
            let summary = bar.delta
            values += [summary.mean, summary.interval?.lower, summary.interval?.upper, bar.published].compactMap { $0 }.filter(\.isFinite)
        }
        guard !bars.isEmpty else {
            canvas.text("no RKAN/baseline pairs in this suite", x: plot.left, y: (plot.top + plot.bottom) / 2)
            return canvas.document(title: "\(suite.suite) deltas")
        }
        let y = SVGScale(min: values.min()!, max: values.max()!, start: plot.bottom, end: plot.top, targetTicks: 6)
        for tick in y.ticks {
            canvas.line(plot.left, y(tick), right, y(tick), stroke: "#e0e0e0")
            canvas.text(y.label(tick), x: plot.left - 6, y: y(tick) + 4, anchor: "end", size: 11)
        }
        canvas.line(plot.left, plot.top, plot.left, plot.bottom, stroke: "#000000")
        canvas.line(plot.left, y(0), right, y(0), stroke: "#000000")
        canvas.text(axis, x: 18, y: (plot.top + plot.bottom) / 2, anchor: "middle", rotate: -90)

        for (index, bar) in bars.enumerated() {
            let centre = plot.left + slot * (Double(index) + 0.5)
            let colour = SVGCanvas.palette[(suite.experiments.firstIndex { $0.id == bar.row } ?? 0)
                                            % SVGCanvas.palette.count]
            let summary = bar.delta
            if let mean = summary.mean {
                canvas.rect(x: centre - 24, y: y(0), width: 48, height: y(mean) - y(0), fill: colour, opacity: 0.85)
                if let interval = summary.interval {
                    canvas.line(centre, y(interval.lower), centre, y(interval.upper), stroke: "#000000", width: 1.5)
                    canvas.line(centre - 10, y(interval.lower), centre + 10, y(interval.lower), stroke: "#000000", width: 1.5)
                    canvas.line(centre - 10, y(interval.upper), centre + 10, y(interval.upper), stroke: "#000000", width: 1.5)
                }
                canvas.text("\(ReportFormat.signed(mean, 2)) (n=\(summary.n))", x: centre, y: plot.bottom + 34,
                            anchor: "middle", size: 10)
            } else {
                canvas.text("no paired runs", x: centre, y: plot.bottom + 34, anchor: "middle", size: 10)
            }
            if let published = bar.published {
                canvas.diamond(centre + 34, y(published), size: 6, fill: "#ffffff")
            }
            canvas.text(bar.label, x: centre, y: plot.bottom + 18, anchor: "middle", size: 11)
        }

        // Legend.
        let legendX = right + 20
        canvas.rect(x: legendX, y: plot.top, width: 16, height: 12, fill: "#777777", opacity: 0.85)
        canvas.text("measured mean Δ", x: legendX + 22, y: plot.top + 10, size: 11)
        canvas.line(legendX + 8, plot.top + 24, legendX + 8, plot.top + 40, stroke: "#000000", width: 1.5)
        canvas.text("95% CI (n ≥ 2)", x: legendX + 22, y: plot.top + 36, size: 11)
        canvas.diamond(legendX + 8, plot.top + 56, size: 6, fill: "#ffffff")
        canvas.text("published Δ", x: legendX + 22, y: plot.top + 60, size: 11)
        return canvas.document(title: "\(suite.suite) deltas")
    }
}
