import Foundation
import Engine
import Zoo
import RunStore

/// What `rkan-repro report` was asked to do.
public struct ReportRequest: Sendable {
    public var suite: String
    /// Profile to report; nil picks the only one present under the runs folder (or `default`).
    public var profile: String?
    public var suitesFolder: URL
    public var runsFolder: URL
    /// Markdown output (SVGs go beside it, named after it); nil: `reportFile(suite:profile:)`.
    public var out: URL?
    /// README whose `<!-- rkan-repro:SUITE -->` block gets the summary table.
    public var readme: URL?
    public var date: String
    public var command: String

    public init(suite: String, profile: String? = nil, suitesFolder: URL, runsFolder: URL, out: URL? = nil, readme: URL? = nil,
                date: String, command: String) {
        self.suite = suite; self.profile = profile; self.suitesFolder = suitesFolder; self.runsFolder = runsFolder
        self.out = out; self.readme = readme; self.date = date; self.command = command
    }
}

/// Reads a suite's run files and writes its markdown report and SVG plots.
public enum ReportGenerator {
    /// The default report of a suite's profile: `Reports/SUITE.md` for the `default` profile,
    /// `Reports/SUITE-PROFILE.md` for any other, so each profile has its own report.
    /// "" when every run was made under one machine class (`RegressionCheck.machineClass`), else a
    /// warning listing the classes with their run counts: the header's core and conv settings are
    /// the first run's, and the runs are not bitwise comparable with each other.
    static func mixedSettings(_ runs: [RunAttributes]) -> String {
        let classes = Dictionary(grouping: runs, by: { RegressionCheck.machineClass($0) })
        guard classes.count > 1 else { return "" }
        return "; **runs made under \(classes.count) different settings:** "
            + classes.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value.count) runs)" }.joined(separator: "; ")
    }

    public static func reportFile(suite: String, profile: String) -> URL {
        URL(fileURLWithPath: profile == "default" ? "Reports/\(suite).md" : "Reports/\(suite)-\(profile).md")
    }

    /// Writes the report; returns the paths written.
    @discardableResult
    public static func write(_ r: ReportRequest) throws -> [URL] {
        let suite = try SuiteLibrary.find(r.suite, in: r.suitesFolder)
        let tree = RunTree(out: r.runsFolder)
        let profile = try r.profile ?? pickProfile(suite: suite, tree: tree)
        let configs = try suite.runs(profile: profile)
        let runs = try collect(suite: suite, runs: configs, tree: tree, suitesFolder: r.suitesFolder)
        let found = runs.compactMap { $0.0 }
        guard let first = found.first else {
            throw HarnessError.badConfig(what: "report \(suite.suite) --profile \(profile)", detail:
                "no run files under \(tree.folder(suite: suite.suite, profile: profile).path), so there is nothing to report; "
                + "run `\(RunFileAccess.runCommand(suite: suite.suite, profile: profile, RunFileAccess.Context(out: r.runsFolder, suitesFolder: r.suitesFolder)))` "
                + "first, or pass --runs with the folder given to `run --out`")
        }
        let summaries = runs.map { $0.1 }
        let header = ReportHeader(machine: first.host, cpu: MachineInfo.cpuModel(),
                                  blasCore: "\(first.blasCore) (3×3 convs: \(ConvTuning.label(algorithm: first.convAlgorithm, gemm: first.winogradGEMM)))"
                                      + mixedSettings(found),
                                  threads: first.threads,
                                  commit: first.gitCommit, profile: profile, seeds: configs.seeds, date: r.date,
                                  command: r.command)
        let out = r.out ?? reportFile(suite: suite.suite, profile: profile)
        let base = out.deletingPathExtension().lastPathComponent
        let folder = out.deletingLastPathComponent()
        let curves = folder.appendingPathComponent("\(base)-curves.svg")
        let deltas = folder.appendingPathComponent("\(base)-deltas.svg")
        // A detection suite draws box AP in the curves SVG and mask AP in a second one.
        let maskCurves = suite.isDetection ? folder.appendingPathComponent("\(base)-mask-curves.svg") : nil
        let plots = !suite.isDetection
            ? [ReportPlot(title: "Validation top-1 per epoch", path: curves.lastPathComponent),
               ReportPlot(title: "RKAN − baseline top-1 (mean, 95% CI)", path: deltas.lastPathComponent)]
            : [ReportPlot(title: "Validation box AP per epoch (notebook evaluation)", path: curves.lastPathComponent),
               ReportPlot(title: "Validation mask AP per epoch (notebook evaluation)", path: maskCurves!.lastPathComponent),
               ReportPlot(title: "RKAN − baseline AP box and AP mask (mean, 95% CI)", path: deltas.lastPathComponent)]
        let inputs = [(URL(fileURLWithPath: suite.origin.file), "suite file")] + configs.map { (tree.file(for: $0.slot), "run file") }
            + (r.readme.map { [($0, "--readme")] } ?? [])
        var outputs = [(out, "--out"), (curves, "--out (its curves SVG)"), (deltas, "--out (its deltas SVG)")]
        if let maskCurves { outputs.append((maskCurves, "--out (its mask curves SVG)")) }
        for (output, option) in outputs {
            try OutputGuard.check(output: output, option: option, inputs: inputs)
        }
        let width = try suite.overrides(profile: profile).width ?? 1
        let notes = width == 1 ? [] : [
            "Profile `\(profile)` trains every row at width ×\(width) (the spec column shows the suite's spec); "
            + (suite.isDetection ? "params are those of the suite's detector at full width (heads included)."
                                 : "params are those of the suite's spec at full width, the convention of the published counts.")]
        let report = ReportBuilder.report(suite: suite, header: header, runs: summaries, plots: plots, notes: notes)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            if let maskCurves {
                let box = DetectionMetrics.name(.notebook, .bbox, "ap"), mask = DetectionMetrics.name(.notebook, .segm, "ap")
                try Data(SVGLearningCurves.render(suite: suite, runs: summaries, profile: profile, metric: box).utf8).write(to: curves, options: .atomic)
                try Data(SVGLearningCurves.render(suite: suite, runs: summaries, profile: profile, metric: mask).utf8).write(to: maskCurves, options: .atomic)
                try Data(SVGDeltaChart.renderDetection(suite: suite, runs: summaries, profile: profile, seeds: configs.seeds).utf8)
                    .write(to: deltas, options: .atomic)
            } else {
                try Data(SVGLearningCurves.render(suite: suite, runs: summaries, profile: profile).utf8).write(to: curves, options: .atomic)
                try Data(SVGDeltaChart.render(suite: suite, runs: summaries, profile: profile, seeds: configs.seeds).utf8).write(to: deltas, options: .atomic)
            }
            try Data(report.markdown.utf8).write(to: out, options: .atomic)
        } catch {
            throw HarnessError.io(path: out.path, detail: "cannot write the report (\(error.localizedDescription)); check the folder exists and is writable, or pass --out")
        }
        var written = [out, curves] + (maskCurves.map { [$0] } ?? []) + [deltas]
        if let readme = r.readme {
            try ReadmeUpdater.update(readme: readme, suite: suite.suite,
                                     block: summaryBlock(table: report.summaryTable, reportPath: out, readme: readme))
            written.append(readme)
        }
        return written
    }

    /// The profile to report when none was given: the only one with runs, else `default`.
    static func pickProfile(suite: Suite, tree: RunTree) throws -> String {
        let present = tree.profiles(suite: suite.suite)
        if present.count == 1 { return present[0] }
        if present.contains("default") { return "default" }
        let folder = tree.folder(suite: suite.suite)
        if present.isEmpty {
            throw HarnessError.badConfig(what: "report \(suite.suite)", detail:
                "no runs under \(folder.path); run `rkan-repro run \(suite.suite)` first or pass --runs DIR")
        }
        throw HarnessError.badConfig(what: "report \(suite.suite)", detail:
            "runs of several profiles under \(folder.path) (\(present.joined(separator: ", "))); pass --profile NAME")
    }

    /// One summary per run of the plan, with the attributes of its file (nil: missing, and the
    /// summary's status is nil). Files are read without their weights and verified
    /// (`RunFileAccess.readSummary`); parameter counts come from building each row's model at
    /// full width (the published convention); a detection suite's are those of the whole detector
    /// at full width (`DetectorBuild`, declared, not initialised), and its inference throughput is
    /// `/bench/infer_fps` with the ratio `/bench/infer_fps_ratio_vs_baseline`.
    /// - Throws: `HarnessError.badRunFile` for a damaged file; the Zoo's error for a row whose
    ///   model cannot be built.
    public static func collect(suite: Suite, runs configs: [RunConfig], tree: RunTree,
                               suitesFolder: URL = URL(fileURLWithPath: "Suites")) throws -> [(RunAttributes?, RunSummary)] {
        let context = RunFileAccess.Context(out: tree.out, suitesFolder: suitesFolder)
        let dataset = suite.dataset.name, detection = suite.isDetection
        var counts: [ModelSpec: (Int, Int?)] = [:]
        return try configs.map { c in
            guard let e = suite.experiment(c.experiment) else {
                throw HarnessError.badConfig(what: "run \(c.experiment)", detail: "no row of suite \(suite.suite) has this id")
            }
            if counts[e.model] == nil {
                if detection {
                    let detector = try DetectorBuild.make(e.model, size: suite.dataset.resolution ?? dataset.nativeSize, context: EngineContext())
                    counts[e.model] = (detector.store.parameterCount, nil)
                } else {
                    let model = try Model(spec: e.model, classes: dataset.classes, inChannels: dataset.channels)
                    counts[e.model] = (model.parameterCount, model.thopParameterCount)
                }
            }
            let (params, thop) = counts[e.model]!
            var s = RunSummary(suite: c.suite, experiment: e.id, model: c.model, role: e.role, baseline: e.baseline,
                               seed: c.seed, profile: c.profile, status: nil, params: params, paramsThop: thop, macs: nil)
            let url = tree.file(for: c.slot)
            guard InputFile.exists(url.path) else { return (nil, s) }
            let file = try RunFileAccess.readSummary(url, config: c, context)
            s.status = file.attributes.status
            s.metrics = file.metrics
            s.trainImgPerSec = file.bench.first { $0.name == "train_img_s" }.map { median($0.values) }
            if detection {
                let fps = file.bench.first { $0.name == DetectionMetrics.inferFPS }
                s.inferImgPerSec = fps.map { median($0.values) }
                s.inferSize = fps?.size
                s.inferRatioVsBaseline = file.bench.first { $0.name == DetectionMetrics.inferFPSRatio }?.values
            } else {
                s.inferImgPerSec = file.bench.first { $0.name == "infer_img_s" }.map { median($0.values) }
                s.inferRatioVsBaseline = file.bench.first { $0.name == "infer_ratio_vs_baseline" }?.values
            }
            s.weightsSHA256 = file.attributes.weightsSHA256
            return (file.attributes, s)
        }
    }

    static func median(_ xs: [Double]) -> Double { Throughput.median(xs) }

    /// The README block: the report's summary table plus a link to the full report.
    static func summaryBlock(table: [String], reportPath: URL, readme: URL) -> String {
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
    /// Replaces the block of `suite` in the README. A symbolic link is followed: its target is
    /// rewritten (the link stays a link) with the target's permission bits, through a temporary
    /// file in the target's folder that is renamed over it.
    /// - Throws: `HarnessError.io` naming the README for a file that cannot be read or written,
    ///   `ReadmeBlockError` (naming it) for missing or misplaced markers.
    public static func update(readme: URL, suite: String, block: String) throws {
        let path = readme.path
        if let problem = InputFile.problem(path) {
            throw HarnessError.io(path: path, detail: "cannot read the README to update: \(problem); check the path given to --readme")
        }
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        let data: Data
        do { data = try InputFile.read(target.path, limit: 64 << 20) } catch let f as InputFile.Failure {
            throw HarnessError.io(path: path, detail: "cannot read the README to update: \(f.reason)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw HarnessError.io(path: path, detail: "the README is not UTF-8 text; save it as UTF-8 or pass another --readme")
        }
        let updated: String
        do { updated = try ReadmeBlock.replace(in: text, suite: suite, with: block) } catch var e as ReadmeBlockError {
            e.file = path
            throw e
        }
        guard updated != text else { return }
        var st = stat()
        let mode = stat(target.path, &st) == 0 ? st.st_mode & 0o7777 : 0o644
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(updated.utf8).write(to: temporary)
            guard chmod(temporary.path, mode) == 0, rename(temporary.path, target.path) == 0 else {
                throw HarnessError.io(path: path, detail: "cannot replace \(target.path): \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temporary.path)
            if let e = error as? HarnessError { throw e }
            throw HarnessError.io(path: path, detail: "cannot write the README (\(error.localizedDescription)); check that its folder is writable")
        }
    }
}
