import Foundation
import Datasets
import Zoo
import RunStore

/// The keys a suite file allows at each place, in documentation order.
enum SuiteSchema {
    static let top = ["suite", "title", "source", "dataset", "protocol", "eras", "profiles", "seeds", "experiments"]
    static let dataset = ["name", "resolution"]
    static let protocol_ = ["epochs", "batch_size", "optimizer", "schedule", "label_smoothing", "augment", "start"]
    static let optimizer = ["name", "lr", "momentum", "nesterov", "weight_decay", "betas"]
    static let schedule = ["name", "warmup_epochs", "min_lr", "milestones", "gamma"]
    static let augment = ["hflip", "pad_crop", "randaugment", "autoaugment", "cutmix", "mixup"]
    static let randaugment = ["n", "m"]
    static let mix = ["p", "alpha"]
    static let profile = ["epochs", "batch_size", "train_subset", "test_subset", "resolution", "width", "lr",
                          "warmup_epochs", "seeds", "augment", "bench", "follow", "start", "shapes"]
    static let shapes = ["images", "size", "seed"]
    static let era = ["notebook", "evidence", "code"]
    static let eraCode = ["epochs", "weight_decay"]
    static let bench = ["batch", "warmup", "iterations", "repeats"]
    static let experiment = ["id", "model", "baseline", "role", "era", "paper", "note"]
    static let paper = ["top1", "img_s", "params_m", "ap_box", "ap50_box", "ap_mask", "ap50_mask", "readme", "source"]
}

/// Upper bounds on the counts a suite gives, checked where they are decoded: far above any real
/// protocol, far below where a product of them (steps, Philox counters, epoch << 32) overflows.
enum SuiteLimits {
    /// Epochs, warm-up epochs and milestones (the paper's longest protocol is 200 epochs).
    static let epochs = 100_000
    /// Images of a train or test subset.
    static let samples = 1_000_000_000
    /// RandAugment operations per image.
    static let randAugmentOps = 100
    /// Warm-up and timed iterations and repeats of the end-of-run benchmark.
    static let benchSteps = 1_000_000
    /// CutMix / MixUp α: below 1e-6 Beta(α, α) puts all its mass at 0 and 1 (no mixing at all).
    static let mixAlpha: ClosedRange<Double> = 1e-6...100
}

/// Small readers shared by the decoders below.
extension SuiteNode {
    /// An integer ≥ `minimum`.
    func int(atLeast minimum: Int) throws -> Int {
        let value = try int()
        try require(value >= minimum, "\(value) is below the minimum \(minimum)", hint: "Use a value ≥ \(minimum)")
        return value
    }

    /// An integer from `minimum` to `maximum` (a count such as epochs: the bound keeps every
    /// product of it, e.g. steps = epochs × batches, far from overflowing).
    func int(atLeast minimum: Int, atMost maximum: Int) throws -> Int {
        let value = try int(atLeast: minimum)
        try require(value <= maximum, "\(value) is above the maximum \(maximum)", hint: "Use a value from \(minimum) to \(maximum)")
        return value
    }

    /// An integer in `range` (a size: the limit and the fix are in the message).
    func int(in range: ClosedRange<Int>) throws -> Int {
        let value = try int()
        try require(range.contains(value), "\(value) is outside \(range.lowerBound)...\(range.upperBound)",
                    hint: "Use a value from \(range.lowerBound) to \(range.upperBound) (larger sizes do not fit in memory)")
        return value
    }

    /// A number in `range` (closed at both ends unless `openLower`).
    func double(in range: ClosedRange<Double>, openLower: Bool = false) throws -> Double {
        let value = try double()
        let ok = range.contains(value) && !(openLower && value == range.lowerBound)
        let low = openLower ? "(\(range.lowerBound)" : "[\(range.lowerBound)"
        try require(ok, "\(value) is outside \(low), \(range.upperBound)]",
                    hint: "Use a value in \(low), \(range.upperBound)]")
        return value
    }

    /// A non-empty list of distinct seeds ≥ 0.
    func seeds() throws -> [Int] {
        let seeds = try sequence().map { try $0.int(atLeast: 0) }
        try require(!seeds.isEmpty, "the seed list is empty", hint: "Give at least one seed, e.g. [0]")
        try require(Set(seeds).count == seeds.count, "a seed is listed twice", hint: "List each seed once")
        return seeds
    }
}

extension Suite {
    /// Decodes the top-level mapping and checks cross references.
    init(node: SuiteNode) throws {
        let map = try node.mapping(allowed: SuiteSchema.top)
        suite = try map.required("suite", example: "fashion-mnist") { node in
            let name = try node.string()
            if let problem = RunName.problem(name) {
                throw node.error(.invalidValue, "suite name '\(name)' \(problem)", hint: RunName.hint)
            }
            return name
        }
        title = try map.required("title", example: "Fashion-MNIST (28×28)") { try $0.string() }
        source = try map.required("source", example: "withray/residualKAN README, table ...") { try $0.string() }
        dataset = try map.required("dataset", example: "{name: fashion-mnist, resolution: 28}") {
            let map = try $0.mapping(allowed: SuiteSchema.dataset)
            return SuiteDataset(name: try map.required("name", example: "cifar100") { try $0.choice(DatasetName.self) },
                                resolution: try map.optional("resolution") { try $0.int(in: 1...SizeLimits.imageSide) })
        }
        `protocol` = try map.required("protocol", example: "{epochs: 200, batch_size: 128, ...}") {
            try TrainingProtocol(node: $0)
        }
        seeds = try map.required("seeds", example: "[0, 1, 2]") { try $0.seeds() }
        eras = try map.optional("eras") { try Suite.decodeEras($0) } ?? [:]
        origin.file = node.file
        origin.lines["seeds"] = map.entries["seeds"]?.keyLine
        origin.lines["suite"] = map.entries["suite"]?.keyLine

        var profiles: [String: SuiteProfile] = [:]
        if let profilesNode = map.child("profiles") {
            origin.lines["profiles"] = profilesNode.keyLine
            guard case let .mapping(pairs) = profilesNode.node else {
                throw profilesNode.error(.wrongType, "expected a mapping of profile names, found \(profilesNode.found)",
                                         hint: "Write e.g. 'smoke: {epochs: 1, train_subset: 512}'")
            }
            let names = pairs.compactMap { $0.key.scalar?.string }
            let checked = try profilesNode.mapping(allowed: names)
            for name in names.sorted() {
                let child = checked.entries[name]!
                try child.require(name != Suite.paperProfile, "'paper' is the implicit profile that runs the protocol",
                                  hint: "Rename this profile; 'paper' always means the protocol unchanged")
                if let problem = RunName.problem(name) {
                    throw child.error(.invalidValue, "profile name '\(name)' \(problem)", hint: RunName.hint)
                }
                profiles[name] = child.isNull ? SuiteProfile() : try SuiteProfile(node: child)
                origin.lines["profiles.\(name)"] = child.keyLine
            }
        }
        self.profiles = profiles

        let experimentsNode = try map.required("experiments", example: "[{id: resnet18, model: resnet18}]") { $0 }
        let items = try experimentsNode.sequence()
        try experimentsNode.require(!items.isEmpty, "the suite has no experiments",
                                    hint: "List at least one, e.g. '- {id: resnet18, model: resnet18}'")
        var experiments: [SuiteExperiment] = []
        for item in items {
            let (experiment, modelNode) = try SuiteExperiment.decode(node: item)
            if let first = experiments.firstIndex(where: { $0.id == experiment.id }) {
                throw item.error(.duplicateExperiment, "experiment id '\(experiment.id)' is already used by experiments[\(first)]",
                                 hint: "Give every experiment a unique id")
            }
            experiments.append(experiment)
            origin.lines[item.path] = item.line
            origin.lines["\(item.path).model"] = modelNode.line
        }
        try Suite.checkReferences(experiments, items: items)
        try Suite.checkEras(experiments, items: items, eras: eras, erasNode: map.child("eras"))
        try Suite.checkPaperKinds(experiments, items: items, detection: Suite.isDetection(dataset: dataset, experiments: experiments))
        self.experiments = experiments
        // Every profile must resolve (e.g. no warm-up longer than its epochs): fail at load, not mid-run.
        for name in profiles.keys.sorted() { _ = try runs(profile: name) }
    }

    /// `eras:`: a mapping of era names to `{notebook, evidence, code}`.
    private static func decodeEras(_ node: SuiteNode) throws -> [String: SuiteEra] {
        guard case let .mapping(pairs) = node.node, !pairs.isEmpty else {
            throw node.error(.wrongType, "expected a non-empty mapping of era names, found \(node.found)",
                             hint: "Write e.g. 'r3: {notebook: \"c6a179c:training.ipynb\", evidence: \"...\", code: {weight_decay: 1.0e-4}}'")
        }
        let names = pairs.compactMap { $0.key.scalar?.string }
        let checked = try node.mapping(allowed: names)
        var eras: [String: SuiteEra] = [:]
        for name in names {
            let child = checked.entries[name]!
            if let problem = RunName.problem(name) {
                throw child.error(.invalidValue, "era name '\(name)' \(problem)", hint: RunName.hint)
            }
            let map = try child.mapping(allowed: SuiteSchema.era)
            let code = try map.optional("code") { node -> EraCode in
                if node.isNull { return EraCode() }
                let map = try node.mapping(allowed: SuiteSchema.eraCode)
                return EraCode(epochs: try map.optional("epochs") { try $0.int(atLeast: 1) },
                               weightDecay: try map.optional("weight_decay") { try $0.double(in: 0...1) })
            }
            eras[name] = SuiteEra(notebook: try map.required("notebook", example: "22e50367:training.ipynb") { try $0.string() },
                                  evidence: try map.required("evidence", example: "README R3–R7 print the value ...") { try $0.string() },
                                  code: code ?? EraCode())
        }
        return eras
    }

    /// With `eras:`, every row names one of them; without, no row names one.
    private static func checkEras(_ experiments: [SuiteExperiment], items: [SuiteNode], eras: [String: SuiteEra],
                                  erasNode: SuiteNode?) throws {
        let names = eras.keys.sorted()
        for (experiment, item) in zip(experiments, items) {
            let map = try item.mapping(allowed: SuiteSchema.experiment)
            guard let era = experiment.era else {
                try item.require(eras.isEmpty, "experiment '\(experiment.id)' names no era, but the suite declares eras",
                                 hint: "Add 'era: <name>' (one of \(names.joined(separator: ", "))) with the notebook era that produced its published value")
                continue
            }
            let node = map.entries["era"] ?? item
            guard eras[era] != nil else {
                throw node.error(.badReference, eras.isEmpty ? "era '\(era)' but the suite declares no 'eras'"
                                                            : "era '\(era)' is not declared under 'eras'",
                                 hint: eras.isEmpty ? "Declare it under a top-level 'eras:' mapping, or remove 'era'"
                                                    : "Use one of: \(names.joined(separator: ", "))")
            }
        }
        if let erasNode {
            let used = Set(experiments.compactMap(\.era))
            for name in names where !used.contains(name) {
                throw (try erasNode.mapping(allowed: names)).entries[name]!.error(
                    .invalidValue, "era '\(name)' is declared but no experiment names it",
                    hint: "Remove it or name it in an experiment's 'era'")
            }
        }
    }

    /// Every `baseline` must name another experiment whose role is `baseline`.
    private static func checkReferences(_ experiments: [SuiteExperiment], items: [SuiteNode]) throws {
        let ids = experiments.map(\.id)
        for (experiment, item) in zip(experiments, items) {
            guard let baseline = experiment.baseline else { continue }
            let keyNode = (try? item.mapping(allowed: SuiteSchema.experiment))?.entries["baseline"] ?? item
            guard let target = experiments.first(where: { $0.id == baseline }) else {
                throw keyNode.error(.badReference, "baseline '\(baseline)' names no experiment of this suite",
                                    hint: "Use one of the experiment ids: \(ids.joined(separator: ", "))")
            }
            try keyNode.require(target.id != experiment.id, "an experiment cannot be its own baseline",
                                hint: "Name the plain backbone's experiment id")
            guard target.role == .baseline else {
                throw keyNode.error(.badReference, "baseline '\(baseline)' has role '\(target.role.rawValue)', not 'baseline'",
                                    hint: "Point 'baseline' at a plain backbone row")
            }
        }
    }
}

extension TrainingProtocol {
    init(node: SuiteNode) throws {
        let map = try node.mapping(allowed: SuiteSchema.protocol_)
        epochs = try map.required("epochs", example: "200") { try $0.int(atLeast: 1, atMost: SuiteLimits.epochs) }
        batchSize = try map.required("batch_size", example: "128") { try $0.int(in: 1...SizeLimits.batch) }
        optimizer = try map.required("optimizer", example: "{name: sgd, lr: 0.05, weight_decay: 5.0e-4}") {
            try OptimizerConfig(node: $0)
        }
        schedule = try map.required("schedule", example: "{name: warmup_cosine, warmup_epochs: 10, min_lr: 1.0e-5}") {
            try ScheduleConfig(node: $0)
        }
        labelSmoothing = try map.optional("label_smoothing") { try $0.double(in: 0...0.999) } ?? 0
        augment = try map.optional("augment") { try AugmentConfig(node: $0) } ?? .none
        start = try map.optional("start") { try $0.choice(StartWeights.self) }
        if let warmup = map.child("schedule") {
            try warmup.require(schedule.warmupEpochs <= epochs,
                               "warmup_epochs \(schedule.warmupEpochs) exceeds epochs \(epochs)",
                               hint: "Use warmup_epochs ≤ epochs")
        }
    }
}

extension OptimizerConfig {
    init(node: SuiteNode) throws {
        let map = try node.mapping(allowed: SuiteSchema.optimizer)
        name = try map.required("name", example: "sgd") { try $0.choice(Name.self) }
        lr = try map.required("lr", example: "0.05") { try $0.double(in: 0...10, openLower: true) }
        weightDecay = try map.required("weight_decay", example: "5.0e-4") { try $0.double(in: 0...1) }
        momentum = try map.optional("momentum") { try $0.double(in: 0...0.999) } ?? 0
        nesterov = try map.optional("nesterov") { try $0.bool() } ?? false
        betas = try map.optional("betas") { betasNode in
            let values = try betasNode.sequence().map { try $0.double(in: 0...0.9999) }
            try betasNode.require(values.count == 2, "betas needs two values, found \(values.count)",
                                  hint: "Write betas: [0.9, 0.999]")
            return values
        }
        switch name {
        case .sgd:
            if let betasNode = map.child("betas") {
                throw betasNode.error(.invalidValue, "betas apply to adamw, not sgd", hint: "Remove 'betas' or use name: adamw")
            }
            if nesterov, let node = map.child("nesterov") {
                try node.require(momentum > 0, "Nesterov needs momentum > 0", hint: "Add 'momentum: 0.9'")
            }
        case .adamw:
            for key in ["momentum", "nesterov"] {
                if let node = map.child(key) {
                    throw node.error(.invalidValue, "'\(key)' applies to sgd, not adamw", hint: "Remove '\(key)' or use 'betas'")
                }
            }
            betas = betas ?? [0.9, 0.999]
        }
    }
}

extension ScheduleConfig {
    init(node: SuiteNode) throws {
        let map = try node.mapping(allowed: SuiteSchema.schedule)
        name = try map.required("name", example: "warmup_cosine") { try $0.choice(Name.self) }
        warmupEpochs = try map.optional("warmup_epochs") { try $0.int(atLeast: 0, atMost: SuiteLimits.epochs) } ?? 0
        minLr = try map.optional("min_lr") { try $0.double(in: 0...10) } ?? 0
        milestones = try map.optional("milestones") { node in
            let values = try node.sequence().map { try $0.int(atLeast: 1, atMost: SuiteLimits.epochs) }
            try node.require(!values.isEmpty && values == values.sorted() && Set(values).count == values.count,
                             "milestones must be a non-empty increasing list", hint: "Write e.g. milestones: [8, 11]")
            return values
        }
        gamma = try map.optional("gamma") { try $0.double(in: 0...1, openLower: true) }
        if name == .multistep {
            _ = try map.required("milestones", example: "[8, 11]") { $0 }
            gamma = gamma ?? 0.1
        } else {
            for key in ["milestones", "gamma"] {
                if let node = map.child(key) {
                    throw node.error(.invalidValue, "'\(key)' applies to multistep, not \(name.rawValue)",
                                     hint: "Remove '\(key)' or use name: multistep")
                }
            }
        }
    }
}

extension AugmentConfig {
    init(node: SuiteNode) throws {
        let map = try node.mapping(allowed: SuiteSchema.augment)
        func mix(_ node: SuiteNode) throws -> Mix {
            let map = try node.mapping(allowed: SuiteSchema.mix)
            return Mix(p: try map.required("p", example: "0.5") { try $0.double(in: 0...1) },
                       alpha: try map.required("alpha", example: "1.0") { try $0.double(in: SuiteLimits.mixAlpha) })
        }
        self.init(
            hflip: try map.required("hflip", example: "true") { try $0.bool() },
            padCrop: try map.optional("pad_crop") { try $0.int(in: 0...SizeLimits.imageSide) },
            randaugment: try map.optional("randaugment") { node in
                let map = try node.mapping(allowed: SuiteSchema.randaugment)
                return RandAugment(n: try map.required("n", example: "2") { try $0.int(atLeast: 0, atMost: SuiteLimits.randAugmentOps) },
                                   m: try map.required("m", example: "9") { node in
                                       let m = try node.int(atLeast: 0)
                                       try node.require(m <= 30, "magnitude \(m) exceeds 30", hint: "Use m in 0...30")
                                       return m
                                   })
            },
            autoaugment: try map.optional("autoaugment") { try $0.choice(AutoAugmentPolicy.self) },
            cutmix: try map.optional("cutmix", mix),
            mixup: try map.optional("mixup", mix))
    }
}

extension SuiteProfile {
    init(node: SuiteNode) throws {
        let map = try node.mapping(allowed: SuiteSchema.profile)
        self.init(
            epochs: try map.optional("epochs") { try $0.int(atLeast: 1, atMost: SuiteLimits.epochs) },
            batchSize: try map.optional("batch_size") { try $0.int(in: 1...SizeLimits.batch) },
            trainSubset: try map.optional("train_subset") { try $0.int(atLeast: 1, atMost: SuiteLimits.samples) },
            testSubset: try map.optional("test_subset") { try $0.int(atLeast: 1, atMost: SuiteLimits.samples) },
            resolution: try map.optional("resolution") { try $0.int(in: 1...SizeLimits.imageSide) },
            width: try map.optional("width") { try $0.double(in: 0...4, openLower: true) },
            lr: try map.optional("lr") { try $0.double(in: 0...10, openLower: true) },
            warmupEpochs: try map.optional("warmup_epochs") { try $0.int(atLeast: 0, atMost: SuiteLimits.epochs) },
            seeds: try map.optional("seeds") { try $0.seeds() },
            augment: try map.optional("augment") { try AugmentConfig(node: $0) },
            bench: try map.optional("bench") { node in
                let map = try node.mapping(allowed: SuiteSchema.bench)
                return BenchSizes(batch: try map.optional("batch") { try $0.int(in: 1...SizeLimits.batch) },
                                  warmup: try map.optional("warmup") { try $0.int(atLeast: 0, atMost: SuiteLimits.benchSteps) },
                                  iterations: try map.optional("iterations") { try $0.int(atLeast: 1, atMost: SuiteLimits.benchSteps) },
                                  repeats: try map.optional("repeats") { try $0.int(atLeast: 1, atMost: SuiteLimits.benchSteps) })
            },
            follow: try map.optional("follow") { try $0.choice(ProtocolSource.self) },
            start: try map.optional("start") { try $0.choice(StartWeights.self) },
            shapes: try map.optional("shapes") { node in
                let map = try node.mapping(allowed: SuiteSchema.shapes)
                return ShapesData(images: try map.required("images", example: "400") { try $0.int(in: 2...ShapesData.maxImages) },
                                  size: try map.required("size", example: "128") { try $0.int(in: ShapesData.sizes) },
                                  seed: try map.optional("seed") { try $0.int(in: 0...Int(Int32.max)) } ?? 0)
            })
    }
}

extension SuiteExperiment {
    /// Decodes one experiment; also returns the `model` node for the spec check's line.
    static func decode(node: SuiteNode) throws -> (SuiteExperiment, SuiteNode) {
        let map = try node.mapping(allowed: SuiteSchema.experiment)
        let id = try map.required("id", example: "resnet18") { try $0.string() }
        if let problem = RunName.problem(id) {
            throw (map.child("id") ?? node).error(.invalidValue, "id '\(id)' \(problem)", hint: RunName.hint)
        }
        if id == RunTree.slurmName {
            throw (map.child("id") ?? node).error(.invalidValue, "id '\(id)' is reserved: OUT/SUITE/PROFILE/\(id)/ holds the Slurm plan, "
                + "so its run files and locks would be passed over", hint: "Rename the row")
        }
        let modelNode = try map.required("model", example: "resnet18(stem=small)") { $0 }
        let baseline = try map.optional("baseline") { try $0.string() }
        let role = try map.optional("role") { try $0.choice(ExperimentRole.self) }
        if role == .baseline, let node = map.child("baseline") {
            throw node.error(.invalidValue, "a row with role 'baseline' cannot name a baseline",
                             hint: "Remove 'baseline' or set role: rkan")
        }
        let paper = try map.optional("paper") { node -> PaperValues in
            let map = try node.mapping(allowed: SuiteSchema.paper)
            let values = PaperValues(top1: try map.optional("top1") { try $0.double(in: 0...100) },
                                     imgPerSec: try map.optional("img_s") { try $0.double(in: 0...1e9, openLower: true) },
                                     paramsM: try map.optional("params_m") { try $0.double(in: 0...1e6, openLower: true) },
                                     readme: try map.optional("readme") { node in
                                         let tags = try node.sequence().map { tag -> String in
                                             let text = try tag.string()
                                             try tag.require(text.count == 2 && text.first == "R" && text.last!.isNumber,
                                                             "README version '\(text)' is not a tag R1…R9",
                                                             hint: "Write the README versions as tags, e.g. [R3, R4, R5, R6, R7]")
                                             return text
                                         }
                                         try node.require(!tags.isEmpty && Set(tags).count == tags.count,
                                                          "the README version list is empty or repeats a tag",
                                                          hint: "List each version once, e.g. [R6, R7]")
                                         return tags
                                     },
                                     source: try map.optional("source") { try $0.string() },
                                     apBox: try map.optional("ap_box") { try $0.double(in: 0...100) },
                                     ap50Box: try map.optional("ap50_box") { try $0.double(in: 0...100) },
                                     apMask: try map.optional("ap_mask") { try $0.double(in: 0...100) },
                                     ap50Mask: try map.optional("ap50_mask") { try $0.double(in: 0...100) })
            try node.require(values.top1 != nil || values.imgPerSec != nil || values.paramsM != nil || values.hasDetectionValues,
                             "paper gives no value",
                             hint: "Give at least one of top1, img_s, params_m, ap_box, ap50_box, ap_mask, ap50_mask, or remove 'paper'")
            if values.top1 != nil && values.hasDetectionValues, let top1 = map.child("top1") {
                throw top1.error(.invalidValue, "a row has either a classification value (top1) or detection values (ap_box, ...), not both",
                                 hint: "Keep top1 for a classification table, ap_box/ap50_box/ap_mask/ap50_mask for a detection table")
            }
            return values
        }
        let text = try modelNode.string()
        let model: ModelSpec
        do { model = try ModelSpec(parsing: text) } catch {
            throw modelNode.error(.invalidModel, "invalid model spec '\(text)': \(error)",
                                  hint: "Write backbone[(opt=value,...)][+rkan[(opt=value,...)]], e.g. resnet18(stem=small)+rkan")
        }
        let era = try map.optional("era") { try $0.string() }
        let experiment = SuiteExperiment(id: id, model: model, baseline: baseline, role: role, era: era,
                                         paper: paper, note: try map.optional("note") { try $0.string() })
        return (experiment, modelNode)
    }
}
