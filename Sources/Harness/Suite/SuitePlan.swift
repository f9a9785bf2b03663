import Foundation

/// A suite with one profile applied: the effective training settings and the (experiment, seed)
/// runs to do. Profile `paper` is the protocol unchanged, on all data, at full width.
public struct ResolvedPlan: Codable, Equatable, Sendable {
    /// One training run: an experiment with one seed.
    public struct Run: Codable, Equatable, Sendable {
        /// The suite row.
        public var experiment: SuiteExperiment
        /// The seed.
        public var seed: Int
    }

    /// Suite name.
    public var suite: String
    /// Profile name (`paper` or one of the file's).
    public var profile: String
    /// Dataset name.
    public var dataset: String
    /// Input resolution in pixels (nil: the dataset's native size).
    public var resolution: Int?
    /// Training images to use (nil: all).
    public var trainSubset: Int?
    /// Test images to evaluate on (nil: all).
    public var testSubset: Int?
    /// Backbone channel multiplier (1 = the published width). The spec's own `width=` option,
    /// if any, is left to the model builder.
    public var width: Double
    /// The effective protocol: epochs, batch size, lr and warm-up overridden by the profile.
    public var training: TrainingProtocol
    /// Seeds of this plan.
    public var seeds: [Int]
    /// Runs in report order: each experiment in suite order, seeds ascending within it.
    public var runs: [Run]

    enum CodingKeys: String, CodingKey {
        case suite, profile, dataset, resolution, width, training, seeds, runs
        case trainSubset = "train_subset", testSubset = "test_subset"
    }

    /// The plan as JSON with sorted keys (deterministic bytes, for run-file `config` attributes).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain structs of numbers and strings cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}

extension Suite {
    /// Applies a profile to the protocol and lists the runs.
    /// - Parameters:
    ///   - profile: `paper` or a profile of the file.
    ///   - only: Restrict to these experiment ids (nil: all). Unknown ids are an error.
    ///   - seeds: Override the seeds (nil: the profile's, else the suite's).
    /// - Returns: The plan. Only what the profile names changes; nothing is rescaled implicitly
    ///   (a profile that shortens a warm-up protocol must set `warmup_epochs` itself).
    /// - Throws: `SuiteError.unknownProfile` naming the available profiles, `.invalidValue` when
    ///   the overrides contradict each other (warm-up longer than training) or `only` names an
    ///   unknown experiment.
    public func resolved(profile: String, only: [String]? = nil, seeds: [Int]? = nil) throws -> ResolvedPlan {
        let overrides: SuiteProfile
        if profile == Suite.paperProfile {
            overrides = SuiteProfile()
        } else if let found = profiles[profile] {
            overrides = found
        } else {
            throw SuiteError(.unknownProfile, file: origin.file, line: origin.lines["profiles"], key: "profiles.\(profile)",
                             problem: "the suite '\(suite)' has no profile '\(profile)'",
                             hint: "Use one of: \(profileNames.joined(separator: ", ")), or add it under 'profiles'")
        }
        var training = self.protocol
        training.epochs = overrides.epochs ?? training.epochs
        training.batchSize = overrides.batchSize ?? training.batchSize
        training.optimizer.lr = overrides.lr ?? training.optimizer.lr
        training.schedule.warmupEpochs = overrides.warmupEpochs ?? training.schedule.warmupEpochs
        training.augment = overrides.augment ?? training.augment
        let profileKey = "profiles.\(profile)"
        guard training.schedule.warmupEpochs <= training.epochs else {
            throw SuiteError(.invalidValue, file: origin.file, line: origin.lines[profileKey], key: profileKey,
                             problem: "warm-up (\(training.schedule.warmupEpochs) epochs) is longer than training (\(training.epochs) epochs)",
                             hint: "Set warmup_epochs ≤ epochs in this profile")
        }

        var chosen = experiments
        if let only, only.isEmpty {
            throw SuiteError(.invalidValue, file: origin.file, line: origin.lines["experiments[0]"], key: "experiments",
                             problem: "no experiment selected (the list of ids given to --only is empty)",
                             hint: "Pass ids of this suite to --only (\(experiments.map(\.id).joined(separator: ", "))), or leave --only out for all")
        }
        if let only {
            for id in only where experiment(id) == nil {
                throw SuiteError(.invalidValue, file: origin.file, line: origin.lines["experiments[0]"], key: "experiments",
                                 problem: "no experiment has id '\(id)'",
                                 hint: "Use ids of this suite: \(experiments.map(\.id).joined(separator: ", "))")
            }
            chosen = experiments.filter { only.contains($0.id) }
        }
        if let seeds, let bad = seeds.first(where: { $0 < 0 }) ?? (seeds.isEmpty ? -1 : nil) {
            throw SuiteError(.invalidValue, file: origin.file, line: origin.lines["seeds"], key: "seeds",
                             problem: seeds.isEmpty ? "no seed given" : "seed \(bad) is negative",
                             hint: "Pass seeds ≥ 0 to --seeds, e.g. 0,1,2")
        }
        let runSeeds = (seeds ?? overrides.seeds ?? self.seeds).sorted()
        let runs = chosen.flatMap { experiment in runSeeds.map { ResolvedPlan.Run(experiment: experiment, seed: $0) } }
        return ResolvedPlan(suite: suite, profile: profile, dataset: dataset.name,
                            resolution: overrides.resolution ?? dataset.resolution,
                            trainSubset: overrides.trainSubset, testSubset: overrides.testSubset,
                            width: overrides.width ?? 1, training: training, seeds: runSeeds, runs: runs)
    }
}
