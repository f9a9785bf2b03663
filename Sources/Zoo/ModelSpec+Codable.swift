/// A spec is stored as its canonical text (`resnet18(stem=small,width=0.125)+rkan`): that is
/// what run files, suite JSON and reports hold, so encoding it changes no byte of them.
extension ModelSpec: Codable {
    /// Parses the text with `init(parsing:)`.
    /// - Throws: `DecodingError.dataCorrupted` carrying the `SpecError`'s message.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { self = try ModelSpec(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    /// Encodes `description`.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
