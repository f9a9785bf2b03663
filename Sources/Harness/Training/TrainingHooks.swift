import Foundation

/// Test hooks of a training run, handed to `Trainer` by its caller (nothing reads the environment
/// below the command line). They let the CLI tests reach the paths a healthy run never takes: a
/// crash at an exact step, a non-finite loss, a non-finite validation logit.
public struct TrainingHooks: Sendable {
    /// Called after each optimizer step (and after a checkpoint that step triggered) with the
    /// 0-based epoch and batch; may end the process.
    public var afterStep: (@Sendable (_ epoch: Int, _ batch: Int) -> Void)?
    /// Treat the loss of this optimizer step (0-based, counted over the run) as NaN, to exercise
    /// the divergence path without waiting for a real blow-up.
    public var nanLossAtStep: Int?
    /// Put a NaN into the validation logits of this evaluation (0-based count of the
    /// evaluations this process makes for the run), to exercise the validation check.
    public var nanLogitsAtEvaluation: Int?
    /// A detector's loss weights (classifier, box_reg, mask, objectness, rpn_box_reg) instead of
    /// all ones: a deliberately broken training (e.g. no box regression) for the check that a
    /// broken loss cannot reach the AP of the real one. Nil in every real run.
    public var detectionLossWeights: [Float]?

    /// No hooks: a normal run.
    public init(afterStep: (@Sendable (Int, Int) -> Void)? = nil, nanLossAtStep: Int? = nil, nanLogitsAtEvaluation: Int? = nil) {
        self.afterStep = afterStep; self.nanLossAtStep = nanLossAtStep; self.nanLogitsAtEvaluation = nanLogitsAtEvaluation
    }

    /// The hooks the CLI tests ask for through the environment of a child process (read once,
    /// by the command line, at the edge):
    /// - `RKAN_CRASH_AFTER_STEPS=N`: SIGKILL this process after N optimizer steps, counted
    ///   across every run of the process (`crashing(afterSteps:)`); with `RKAN_CRASH_SIGNAL=STOP`
    ///   SIGSTOP instead (a process alive but silent), and with `RKAN_CRASH_RANK=r` only in rank r
    ///   of a data-parallel run (the launcher's rank variable: the others must fail cleanly);
    /// - `RKAN_INJECT_NAN_AT_STEP=S`: `nanLossAtStep`;
    /// - `RKAN_INJECT_NAN_LOGITS_AT_EVAL=E`: `nanLogitsAtEvaluation`;
    /// - `RKAN_DETECTION_LOSS_WEIGHTS=a,b,c,d,e`: `detectionLossWeights` (five numbers, else ignored).
    /// A variable that is not an integer is ignored, as before.
    public init(environment: [String: String]) {
        let launcherRank = ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID"].lazy.compactMap { environment[$0].flatMap(Int.init) }.first ?? 0
        let thisRank = environment["RKAN_CRASH_RANK"].flatMap(Int.init).map { $0 == launcherRank } ?? true
        let signal = environment["RKAN_CRASH_SIGNAL"] == "STOP" ? SIGSTOP : SIGKILL
        self.init(afterStep: environment["RKAN_CRASH_AFTER_STEPS"].flatMap { Int($0) }.flatMap { n in
                      thisRank ? Self.crashing(afterSteps: n, signal: signal) : nil },
                  nanLossAtStep: environment["RKAN_INJECT_NAN_AT_STEP"].flatMap { Int($0) },
                  nanLogitsAtEvaluation: environment["RKAN_INJECT_NAN_LOGITS_AT_EVAL"].flatMap { Int($0) })
        let weights = environment["RKAN_DETECTION_LOSS_WEIGHTS"]?.split(separator: ",").compactMap { Float($0) }
        detectionLossWeights = weights?.count == 5 ? weights : nil
    }

    /// An `afterStep` hook that sends `signal` (SIGKILL) to the process at its `n`-th call: one counter shared by
    /// every trainer given the same hooks, so a crash can be placed in a later run of a suite.
    public static func crashing(afterSteps n: Int, signal: Int32 = SIGKILL) -> @Sendable (Int, Int) -> Void {
        let count = StepCount()
        return { _, _ in if count.increment() >= n { kill(getpid(), signal) } }
    }

    /// A step counter shared by the copies of one hook (training runs on one thread; the lock
    /// only makes that safe to state).
    private final class StepCount: @unchecked Sendable {
        private let lock = NSLock()
        private var steps = 0
        func increment() -> Int { lock.lock(); defer { lock.unlock() }; steps += 1; return steps }
    }
}
