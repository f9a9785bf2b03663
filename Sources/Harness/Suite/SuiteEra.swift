/// Where a row's published value comes from: the notebook era that trained it, and what that
/// notebook's code applied where it differs from the suite's protocol (`eras:` in a suite).
///
/// The README tables of withray/residualKAN carry values of several code versions: a row first
/// printed in README R3 and unchanged since was trained by an R3-era notebook, whatever the
/// README text of a later version says. A suite names each era once and every row names its era;
/// the `paper` profile follows the README text for every row, a profile with `follow: notebook`
/// applies each row's era code instead, so both readings can be run.
public struct SuiteEra: Codable, Equatable, Sendable {
    /// The notebook the era's rows come from, `commit:path` (or a sentence when none is stored).
    public var notebook: String
    /// Why this era and these values: which README versions print the rows, what the notebook's
    /// code says (e.g. its hard-coded `weight_decay`), what is not applied and why.
    public var evidence: String
    /// The notebook's own values where they differ from the suite's protocol (README text).
    public var code: EraCode

    /// Creates an era.
    public init(notebook: String, evidence: String, code: EraCode = EraCode()) {
        self.notebook = notebook
        self.evidence = evidence
        self.code = code
    }
}

/// Protocol values of an era's notebook code; nil keeps the suite's protocol value.
public struct EraCode: Codable, Equatable, Sendable {
    /// The notebook's `num_epochs`.
    public var epochs: Int?
    /// The notebook's `weight_decay`.
    public var weightDecay: Double?

    /// Creates the values; each defaults to the protocol's.
    public init(epochs: Int? = nil, weightDecay: Double? = nil) {
        self.epochs = epochs
        self.weightDecay = weightDecay
    }

    /// Whether the notebook agrees with the protocol on everything this records.
    public var isEmpty: Bool { epochs == nil && weightDecay == nil }

    /// The protocol with these values applied.
    public func applied(to training: TrainingProtocol) -> TrainingProtocol {
        var t = training
        t.epochs = epochs ?? t.epochs
        t.optimizer.weightDecay = weightDecay ?? t.optimizer.weightDecay
        return t
    }

    enum CodingKeys: String, CodingKey {
        case epochs
        case weightDecay = "weight_decay"
    }
}

/// Which source a profile's protocol follows where the README text and a row's era notebook
/// disagree (`follow:` in a profile; the `paper` profile follows the README).
public enum ProtocolSource: String, Codable, CaseIterable, Sendable {
    /// The suite's protocol (the README text and the latest notebook) for every row.
    case readme
    /// Each row's era notebook code (`eras.<era>.code`) over the protocol.
    case notebook
}
