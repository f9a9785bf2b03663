import Foundation

/// A terminal progress bar for one run (epoch, batch, loss, accuracy, img/s, ETA). On a
/// terminal it redraws one line; otherwise (CI logs, pipes) it prints a plain line at most
/// every `logInterval` seconds and at the end of every epoch.
public final class ProgressBar {
    public let title: String
    public let totalSteps: Int
    private let isTTY: Bool
    private let logInterval: Double
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var doneSteps = 0
    private var startSteps = 0
    private let out: FileHandle

    /// - Parameters:
    ///   - title: shown at the start of the line (e.g. `rkanet18 seed 0`).
    ///   - totalSteps: steps of the whole run (all epochs), for the ETA.
    ///   - alreadyDone: steps finished before a resume (not counted in the speed).
    public init(title: String, totalSteps: Int, alreadyDone: Int = 0, logInterval: Double = 10,
                output: FileHandle = .standardError) {
        self.title = title; self.totalSteps = max(totalSteps, 1)
        self.doneSteps = alreadyDone; self.startSteps = alreadyDone
        self.isTTY = isatty(output.fileDescriptor) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        self.logInterval = logInterval
        self.out = output
    }

    /// Reports one finished step.
    /// - Parameter accuracy: the training accuracy so far (a fraction), nil where there is none (detection).
    public func step(epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Double, accuracy: Double?, imagesPerSecond: Double) {
        doneSteps += 1
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(doneSteps - startSteps) / max(elapsed, 1e-9)
        let eta = Double(totalSteps - doneSteps) / max(rate, 1e-9)
        let acc = accuracy.map { String(format: " acc %5.1f%%", $0 * 100) } ?? ""
        // A detector trains a few images a second: two decimals there.
        let ips = String(format: accuracy == nil ? "%6.2f" : "%6.0f", imagesPerSecond)
        let fields = String(format: "epoch %d/%d batch %d/%d loss %.4f%@ %@ img/s ETA %@",
                            epoch + 1, epochs, batch + 1, batches, loss, acc, ips, ProgressBar.clock(eta))
        if isTTY {
            let width = 24
            let filled = Int(Double(width) * Double(doneSteps) / Double(totalSteps))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            write("\r\u{1B}[2K\(title) \(bar) \(fields)")
        } else if now.timeIntervalSince(lastPrint) >= logInterval || batch + 1 == batches {
            lastPrint = now
            write("\(title): \(fields)\n")
        }
    }

    /// Prints a message on its own line (e.g. the epoch's evaluation).
    public func message(_ text: String) {
        write(isTTY ? "\r\u{1B}[2K\(title) \(text)\n" : "\(title): \(text)\n")
    }

    private func write(_ s: String) { out.write(Data(s.utf8)) }

    /// `h:mm:ss` or `m:ss`.
    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
