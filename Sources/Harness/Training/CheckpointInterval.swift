import Foundation

/// How often `run` saves a checkpoint inside an epoch (`--checkpoint-every`): a run killed at
/// any moment loses at most this much training. Epoch ends are always saved.
public struct CheckpointInterval: Equatable, Sendable, CustomStringConvertible {
    /// Seconds between checkpoints; nil: only at epoch ends.
    public let seconds: TimeInterval?

    /// Every `seconds` (> 0), or never inside an epoch (nil).
    public init(seconds: TimeInterval?) {
        precondition(seconds.map { $0 > 0 && $0.isFinite } ?? true, "CheckpointInterval: \(seconds!) seconds")
        self.seconds = seconds
    }

    /// The default: 10 minutes (an ImageNet epoch on a 2-core machine takes days).
    public static let standard = CheckpointInterval(seconds: 600)
    /// Checkpoints at epoch ends only.
    public static let off = CheckpointInterval(seconds: nil)

    /// Parses `30s`, `10m`, `2h` (a positive number, decimals allowed, and a unit), or `0` /
    /// `off` for none inside an epoch.
    /// - Returns: nil for anything else (a number without a unit is refused: `10` could mean
    ///   seconds or minutes).
    public static func parse(_ text: String) -> CheckpointInterval? {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        if s == "off" || s == "0" { return .off }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        guard let last = s.last, let unit = units[last], let v = Double(s.dropLast()),
              v.isFinite, v >= 0, s.dropLast().allSatisfy({ $0.isNumber || $0 == "." }) else { return nil }
        return v == 0 ? .off : CheckpointInterval(seconds: v * unit)
    }

    /// The usage error for a value `parse` refuses (one paragraph, naming the option and the fix).
    public static func usage(_ text: String) -> String {
        "--checkpoint-every must be a time like 30s, 10m or 2h (a number and s, m or h), or 0 / off to save only at epoch ends; "
            + "got '\(text)'. The default, 10m, loses at most 10 minutes of training when a run is killed."
    }

    public var description: String {
        guard let s = seconds else { return "off" }
        if s >= 3600 && s.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(s / 3600))h" }
        if s >= 60 && s.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(s / 60))m" }
        return String(format: "%gs", s)
    }
}
