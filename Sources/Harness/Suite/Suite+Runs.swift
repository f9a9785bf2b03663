import Foundation
import Zoo

extension Suite {
    /// The runs of a profile, each fully resolved: the suite's protocol with the profile's
    /// overrides, the spec at the profile's width, the image size, subsets and benchmark sizes.
    /// Profile `paper` is the protocol unchanged, on all data, at full width.
    /// - Parameters:
    ///   - profile: `paper` or a profile of the file.
    ///   - only: Restrict to these experiment ids (nil: all). Unknown ids are an error.
    ///   - seeds: Override the seeds (nil: the profile's, else the suite's).
    /// - Returns: The runs in report order: each experiment in suite order, seeds ascending.
    ///   Only what the profile names changes; nothing is rescaled implicitly (a profile that
    ///   shortens a warm-up protocol must set `warmup_epochs` itself).
    /// - Throws: `SuiteError.unknownProfile` naming the available profiles, `.invalidValue` when
    ///   the overrides contradict each other (warm-up longer than training), `only` names an
    ///   unknown experiment or selects none, or a seed is negative.
    public func runs(profile: String, only: [String]? = nil, seeds: [Int]? = nil) throws -> [RunConfig] {
        let overrides = try self.overrides(profile: profile)
        let training = try self.training(profile: profile, overrides: overrides)
        let chosen = try experiments(only: only)
        if let seeds, let bad = seeds.first(where: { $0 < 0 }) ?? (seeds.isEmpty ? -1 : nil) {
            throw SuiteError(.invalidValue, file: origin.file, line: origin.lines["seeds"], key: "seeds",
                             problem: seeds.isEmpty ? "no seed given" : "seed \(bad) is negative",
                             hint: "Pass seeds ≥ 0 to --seeds, e.g. 0,1,2")
        }
        if let seeds, let twice = seeds.first(where: { s in seeds.filter { $0 == s }.count > 1 }) {
            throw SuiteError(.invalidValue, file: origin.file, line: origin.lines["seeds"], key: "seeds",
                             problem: "seed \(twice) is given twice", hint: "List each seed once in --seeds")
        }
        let runSeeds = (seeds ?? overrides.seeds ?? self.seeds).sorted()
        let width = overrides.width ?? 1
        // A detector evaluates in its training batch size, as the notebook's validation loader
        // batches (images padded together); classification evaluates in batches of at least 64.
        let bench = (overrides.bench ?? BenchSizes()).resolved(batchSize: training.batchSize, detection: dataset.name.isDetection)
        return try chosen.flatMap { experiment in
            let training = try self.training(profile: profile, overrides: overrides, experiment: experiment)
            return runSeeds.map { seed in
                var spec = experiment.model
                spec.width *= width
                return RunConfig(suite: suite, experiment: experiment.id, model: spec, seed: seed, profile: profile,
                                 dataset: dataset.name, imageSize: overrides.resolution ?? dataset.resolution ?? dataset.name.nativeSize,
                                 trainSubset: overrides.trainSubset, testSubset: overrides.testSubset, training: training,
                                 evalBatchSize: dataset.name.isDetection ? training.batchSize : max(training.batchSize, 64), bench: bench)
            }
        }
    }

    /// A profile's overrides (`paper`: none).
    /// - Throws: `SuiteError.unknownProfile` naming the available profiles.
    public func overrides(profile: String) throws -> SuiteProfile {
        if profile == Suite.paperProfile { return SuiteProfile() }
        guard let found = profiles[profile] else {
            throw SuiteError(.unknownProfile, file: origin.file, line: origin.lines["profiles"], key: "profiles.\(profile)",
                             problem: "the suite '\(suite)' has no profile '\(profile)'",
                             hint: "Use one of: \(profileNames.joined(separator: ", ")), or add it under 'profiles'")
        }
        return found
    }

    /// The protocol an experiment runs under a profile: the suite's protocol, with the row's era
    /// notebook values when the profile follows the notebook, then the profile's overrides.
    /// - Throws: `SuiteError.unknownProfile`, or `.invalidValue` when the warm-up is longer than training.
    public func training(for experiment: SuiteExperiment, profile: String) throws -> TrainingProtocol {
        try training(profile: profile, overrides: try overrides(profile: profile), experiment: experiment)
    }

    /// The notebook era of an experiment (nil when the suite declares none).
    public func era(of experiment: SuiteExperiment) -> SuiteEra? { experiment.era.flatMap { eras[$0] } }

    /// The protocol with a profile's epochs, batch size, lr, warm-up and augmentation, over the
    /// era code of `experiment` when the profile follows the notebook.
    private func training(profile: String, overrides: SuiteProfile, experiment: SuiteExperiment? = nil) throws -> TrainingProtocol {
        var training = self.protocol
        if overrides.follow == .notebook, let experiment, let era = era(of: experiment) {
            training = era.code.applied(to: training)
        }
        training.epochs = overrides.epochs ?? training.epochs
        training.batchSize = overrides.batchSize ?? training.batchSize
        training.optimizer.lr = overrides.lr ?? training.optimizer.lr
        training.schedule.warmupEpochs = overrides.warmupEpochs ?? training.schedule.warmupEpochs
        training.augment = overrides.augment ?? training.augment
        training.start = overrides.start ?? training.start
        let profileKey = "profiles.\(profile)"
        guard training.schedule.warmupEpochs <= training.epochs else {
            throw SuiteError(.invalidValue, file: origin.file, line: origin.lines[profileKey], key: profileKey,
                             problem: "warm-up (\(training.schedule.warmupEpochs) epochs) is longer than training (\(training.epochs) epochs)",
                             hint: "Set warmup_epochs ≤ epochs in this profile")
        }
        return training
    }

    /// The experiments `--only` selects, in suite order.
    private func experiments(only: [String]?) throws -> [SuiteExperiment] {
        guard let only else { return experiments }
        if only.isEmpty {
            throw SuiteError(.invalidValue, file: origin.file, line: origin.lines["experiments[0]"], key: "experiments",
                             problem: "no experiment selected (the list of ids given to --only is empty)",
                             hint: "Pass ids of this suite to --only (\(experiments.map(\.id).joined(separator: ", "))), or leave --only out for all")
        }
        for id in only where experiment(id) == nil {
            throw SuiteError(.invalidValue, file: origin.file, line: origin.lines["experiments[0]"], key: "experiments",
                             problem: "no experiment has id '\(id)'",
                             hint: "Use ids of this suite: \(experiments.map(\.id).joined(separator: ", "))")
        }
        return experiments.filter { only.contains($0.id) }
    }
}

extension Array where Element == RunConfig {
    /// The distinct seeds of these runs, ascending.
    public var seeds: [Int] { Set(map(\.seed)).sorted() }
}
