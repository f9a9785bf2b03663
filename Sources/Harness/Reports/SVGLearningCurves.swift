/// Learning curves as SVG: a metric (validation top-1 by default; `val_bbox_ap` and `val_segm_ap`
/// for a detection suite) per epoch, one line per (experiment, seed), one colour per experiment,
/// dashed for baselines, with axes and a legend.
public enum SVGLearningCurves {
    /// Renders the chart.
    /// - Parameters:
    ///   - suite: The suite (rows, order and colours follow it).
    ///   - runs: Run summaries; only this suite's and profile's rows with values are drawn.
    ///   - profile: The profile to draw.
    ///   - metric: Metric name, e.g. `val_top1` (percent).
    /// - Returns: A standalone SVG 1.1 document.
    public static func render(suite: Suite, runs: [RunSummary], profile: String, metric: String = "val_top1") -> String {
        let width = 760.0, height = 440.0
        let plot = (left: 64.0, top: 40.0, right: 560.0, bottom: 384.0)
        var canvas = SVGCanvas(width: width, height: height)
        canvas.text("\(suite.title): \(metric) per epoch (profile \(profile))", x: plot.left, y: 24, size: 14, weight: "bold")

        // Series in suite order, seeds ascending; non-finite values (diverged epochs) are skipped, and
        // so are a detection evaluation's negative ones (pycocotools' −1: undefined).
        let undefinedBelowZero = metric.contains("_bbox_") || metric.contains("_segm_")
        var series: [(experiment: SuiteExperiment, colour: String, seed: Int, points: [(Int, Double)])] = []
        for (index, experiment) in suite.experiments.enumerated() {
            let colour = SVGCanvas.palette[index % SVGCanvas.palette.count]
            let own = runs.filter { $0.suite == suite.suite && $0.profile == profile && $0.experiment == experiment.id }
            for run in own.sorted(by: { $0.seed < $1.seed }) {
                let points = (run.metrics[metric] ?? []).enumerated().compactMap { epoch, value in
                    value.isFinite && !(undefinedBelowZero && value < 0) ? (epoch + 1, value) : nil
                }
                if !points.isEmpty { series.append((experiment, colour, run.seed, points)) }
            }
        }
        let values = series.flatMap { $0.points.map(\.1) }
        guard let low = values.min(), let high = values.max() else {
            canvas.text("no \(metric) values yet", x: (plot.left + plot.right) / 2, y: (plot.top + plot.bottom) / 2, anchor: "middle")
            return canvas.document(title: "\(suite.suite) learning curves")
        }
        let lastEpoch = series.flatMap { $0.points.map(\.0) }.max() ?? 1
        let x = SVGScale(min: 1, max: Double(max(lastEpoch, 2)), start: plot.left, end: plot.right, targetTicks: 8, integer: true)
        let y = SVGScale(min: low, max: high, start: plot.bottom, end: plot.top, targetTicks: 6)

        // Grid, axes, ticks and labels.
        for tick in y.ticks {
            canvas.line(plot.left, y(tick), plot.right, y(tick), stroke: "#e0e0e0")
            canvas.text(y.label(tick), x: plot.left - 6, y: y(tick) + 4, anchor: "end", size: 11)
        }
        for tick in x.ticks {
            canvas.line(x(tick), plot.bottom, x(tick), plot.bottom + 5, stroke: "#000000")
            canvas.text(x.label(tick), x: x(tick), y: plot.bottom + 18, anchor: "middle", size: 11)
        }
        canvas.line(plot.left, plot.bottom, plot.right, plot.bottom, stroke: "#000000")
        canvas.line(plot.left, plot.top, plot.left, plot.bottom, stroke: "#000000")
        canvas.text("epoch", x: (plot.left + plot.right) / 2, y: plot.bottom + 40, anchor: "middle")
        canvas.text(isPercent(metric) ? "\(metric) (%)" : metric,
                    x: 18, y: (plot.top + plot.bottom) / 2, anchor: "middle", rotate: -90)

        for line in series {
            let dash = line.experiment.role == .baseline ? "6 4" : nil
            let points = line.points.map { (x(Double($0.0)), y($0.1)) }
            if points.count == 1 {
                canvas.circle(points[0].0, points[0].1, r: 3, fill: line.colour)
            } else {
                canvas.polyline(points, stroke: line.colour, dash: dash)
            }
        }

        // Legend: one entry per drawn experiment.
        var legendY = plot.top + 8
        var drawn = Set<String>()
        for line in series where drawn.insert(line.experiment.id).inserted {
            let seeds = series.filter { $0.experiment.id == line.experiment.id }.map { String($0.seed) }
            let dash = line.experiment.role == .baseline ? "6 4" : nil
            canvas.line(plot.right + 16, legendY, plot.right + 44, legendY, stroke: line.colour, width: 2, dash: dash)
            canvas.text("\(line.experiment.id) (\(line.experiment.role.rawValue))", x: plot.right + 50, y: legendY + 4, size: 11)
            canvas.text("seeds \(seeds.joined(separator: ", "))", x: plot.right + 50, y: legendY + 18, size: 10)
            legendY += 36
        }
        return canvas.document(title: "\(suite.suite) learning curves")
    }

    /// Accuracies and the detection evaluations' AP/AR are percentages.
    static func isPercent(_ metric: String) -> Bool {
        metric.hasSuffix("top1") || metric.hasSuffix("top5") || metric.contains("_bbox_") || metric.contains("_segm_")
    }
}
