import Foundation
import Zoo
import RunStore

/// What `rkan-repro report` was asked to do.
public struct ReportRequest: Sendable {
    public var suite: String
    /// Profile to report; nil picks the only one present under the runs folder (or `default`).
    public var profile: String?
    public var suitesFolder: URL
    public var runsFolder: URL
    /// Markdown output (SVGs go beside it).
    public var out: URL
    /// README whose `<!-- rkan-repro:SUITE -->` block gets the summary table.
    public var readme: URL?
    public var date: String
    public var command: String

    public init(suite: String, profile: String? = nil, suitesFolder: URL, runsFolder: URL, out: URL, readme: URL? = nil,
                date: String, command: String) {
        self.suite = suite; self.profile = profile; self.suitesFolder = suitesFolder; self.runsFolder = runsFolder
        self.out = out; self.readme = readme; self.date = date; self.command = command
    }
}

/// Reads a suite's run files and writes its markdown report and SVG plots.
public enum ReportGenerator {
    /// Writes the report; returns the paths written.
    @discardableResult
    public static func write(_ r: ReportRequest) throws -> [URL] {
        let suite = try SuiteRunner.loadSuite(r.suite, folder: r.suitesFolder)
        let profile = try r.profile ?? pickProfile(suite: suite, runs: r.runsFolder)
        let plan = try suite.resolved(profile: profile)
        let (runs, attrs) = try collect(suite: suite, plan: plan, runsFolder: r.runsFolder, suitesFolder: r.suitesFolder)
        guard !attrs.isEmpty else {
            throw HarnessError.badConfig(what: "report \(suite.suite) --profile \(profile)", detail:
                "no run files under \(r.runsFolder.appendingPathComponent(suite.suite).appendingPathComponent(profile).path), so there is nothing to report; "
                + "run `\(RunFileAccess.runCommand(suite: suite.suite, profile: profile, RunFileAccess.Context(out: r.runsFolder, suitesFolder: r.suitesFolder)))` "
                + "first, or pass --runs with the folder given to `run --out`")
        }
        let first = attrs.first
        let header = ReportHeader(machine: first?.host ?? "no runs yet", cpu: MachineInfo.cpuModel(),
                                  blasCore: first.map { "\($0.blasCore) (3×3 convs: \($0.convAlgorithm))" } ?? "-", threads: first?.threads ?? 0,
                                  commit: first?.gitCommit ?? "-", profile: profile, seeds: plan.seeds, date: r.date,
                                  command: r.command)
        let base = r.out.deletingPathExtension().lastPathComponent
        let folder = r.out.deletingLastPathComponent()
        let curves = folder.appendingPathComponent("\(base)-\(profile)-curves.svg")
        let deltas = folder.appendingPathComponent("\(base)-\(profile)-deltas.svg")
        let plots = [ReportPlot(title: "Validation top-1 per epoch", path: curves.lastPathComponent),
                     ReportPlot(title: "RKAN − baseline top-1 (mean, 95% CI)", path: deltas.lastPathComponent)]
        let inputs = [(URL(fileURLWithPath: suite.origin.file), "suite file")] + runs.map {
            (RunPaths.file(out: r.runsFolder, suite: suite.suite, profile: profile, experiment: $0.experiment, seed: $0.seed), "run file")
        } + (r.readme.map { [($0, "--readme")] } ?? [])
        for (output, option) in [(r.out, "--out"), (curves, "--out (its curves SVG)"), (deltas, "--out (its deltas SVG)")] {
            try OutputGuard.check(output: output, option: option, inputs: inputs)
        }
        var markdown = ReportBuilder.markdown(suite: suite, header: header, runs: runs, plots: plots)
        if plan.width != 1, let at = markdown.range(of: "## Results") {
            let note = "Profile `\(profile)` trains every row at width ×\(plan.width) (the spec column shows the suite's spec); "
                + "params are those of the suite's spec at full width, the convention of the published counts.\n\n"
            markdown.insert(contentsOf: note, at: at.lowerBound)
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(SVGLearningCurves.render(suite: suite, runs: runs, profile: profile).utf8).write(to: curves, options: .atomic)
            try Data(SVGDeltaChart.render(suite: suite, runs: runs, profile: profile, seeds: plan.seeds).utf8).write(to: deltas, options: .atomic)
            try Data(markdown.utf8).write(to: r.out, options: .atomic)
        } catch {
            throw HarnessError.io(path: r.out.path, detail: "cannot write the report (\(error.localizedDescription)); check the folder exists and is writable, or pass --out")
        }
        var written = [r.out, curves, deltas]
        if let readme = r.readme {
            try ReadmeUpdater.update(readme: readme, suite: suite.suite, block: summaryBlock(markdown: markdown, reportPath: r.out, readme: readme))
            written.append(readme)
        }
        return written
    }

    /// The profile to report when none was given.
    static func pickProfile(suite: Suite, runs: URL) throws -> String {
        let folder = runs.appendingPathComponent(suite.suite)
        let present = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        if present.count == 1 { return present[0] }
        if present.contains("default") { return "default" }
        if present.isEmpty {
            throw HarnessError.badConfig(what: "report \(suite.suite)", detail:
                "no runs under \(folder.path); run `rkan-repro run \(suite.suite)` first or pass --runs DIR")
        }
        throw HarnessError.badConfig(what: "report \(suite.suite)", detail:
            "runs of several profiles under \(folder.path) (\(present.joined(separator: ", "))); pass --profile NAME")
    }

    /// One summary per (experiment, seed) of the plan; missing files become `missing` rows.
    /// Every existing file is read whole and verified (`RunFileAccess`).
    public static func collect(suite: Suite, plan: ResolvedPlan, runsFolder: URL,
                               suitesFolder: URL = URL(fileURLWithPath: "Suites")) throws -> ([RunSummary], [RunAttributes]) {
        let context = RunFileAccess.Context(out: runsFolder, suitesFolder: suitesFolder)
        let classes = DatasetRegistry.classes(of: plan.dataset) ?? 10
        var counts: [String: (Int, Int, Int?)] = [:]
        var runs: [RunSummary] = []
        var attrs: [RunAttributes] = []
        for run in plan.runs {
            let e = run.experiment
            if counts[e.model] == nil {
                // A row whose backbone cannot be built (not implemented yet) is reported with 0 params.
                let model = try? Model(e.model, classes: classes, inChannels: DatasetRegistry.channels(of: plan.dataset) ?? 3)
                counts[e.model] = (model?.parameterCount ?? 0, model?.thopParameterCount ?? 0, nil)
            }
            let (params, thop, macs) = counts[e.model]!
            let url = RunPaths.file(out: runsFolder, suite: suite.suite, profile: plan.profile, experiment: e.id, seed: run.seed)
            var s = RunSummary(suite: suite.suite, experiment: e.id, model: e.model, role: e.role, baseline: e.baseline,
                               seed: run.seed, profile: plan.profile, status: .missing, params: params, paramsThop: thop, macs: macs)
            if FileManager.default.fileExists(atPath: url.path) {
                let rec = try RunFileAccess.read(url, slot: RunSlot(suite: suite.suite, profile: plan.profile, experiment: e.id, seed: run.seed), context)
                attrs.append(rec.attributes)
                s.model = rec.attributes.model
                s.status = RunStatus(rawValue: rec.attributes.status.rawValue) ?? .missing
                s.metrics = rec.metrics
                s.trainImgPerSec = rec.bench.first { $0.name == "train_img_s" }.map { median($0.values) }
                s.inferImgPerSec = rec.bench.first { $0.name == "infer_img_s" }.map { median($0.values) }
            }
            runs.append(s)
        }
        return (runs, attrs)
    }

    static func median(_ xs: [Double]) -> Double { Throughput.median(xs) }

    /// The README block: the report's first table plus a link to the full report.
    static func summaryBlock(markdown: String, reportPath: URL, readme: URL) -> String {
        let lines = markdown.components(separatedBy: "\n")
        var table: [String] = []
        var inTable = false
        for l in lines {
            if l.hasPrefix("|") { table.append(l); inTable = true } else if inTable { break }
        }
        let rel = relativePath(from: readme.deletingLastPathComponent(), to: reportPath)
        return "\n" + table.joined(separator: "\n") + "\n\nFull report: [\(rel)](\(rel))\n"
    }

    static func relativePath(from dir: URL, to file: URL) -> String {
        let d = dir.standardizedFileURL.pathComponents, f = file.standardizedFileURL.pathComponents
        var i = 0
        while i < d.count && i < f.count - 1 && d[i] == f[i] { i += 1 }
        return (Array(repeating: "..", count: d.count - i) + f[i...]).joined(separator: "/")
    }
}

/// Rewrites a README's generated block in place.
public enum ReadmeUpdater {
    public static func update(readme: URL, suite: String, block: String) throws {
        guard let text = try? String(contentsOf: readme, encoding: .utf8) else {
            throw HarnessError.io(path: readme.path, detail: "cannot read the README to update; check the path given to --readme")
        }
        let updated = try ReadmeBlock.replace(in: text, suite: suite, with: block)
        if updated != text { try Data(updated.utf8).write(to: readme, options: .atomic) }
    }
}
