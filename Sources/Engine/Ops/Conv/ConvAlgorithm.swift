import Foundation

/// Which algorithm `conv2dForward`/`conv2dBackward` use for 3×3 stride-1 convolutions.
///
/// The Winograd algorithms (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
/// 2016) run for every conv that `Winograd.isEligible` accepts; other convs always use im2col + GEMM.
/// - `winogradMixed` (`winograd-mixed`, the default): F(4×4) (`winograd-f4a`'s points)
///   in the inference forward and both gradients of convs whose output has at least
///   `Winograd.f4MinOutputPixels` (16×16) pixels, F(2×2) everywhere else: in every training-mode
///   forward, and in the other passes of smaller outputs.
///   *Why not F(4×4) in the training-mode forward:* it is the one pass whose rounding
///   BatchNorm's batch statistics amplify: at batch 8, a wide_resnet101_2 whose last stage is 1×1
///   normalises over 8 values, and F(4×4) there moved the train-mode loss 8.8e-4 from float64
///   (twice the reference's own float32 noise is 8.4e-4; F(2×2) 5.1e-5). The inference forward
///   (fixed statistics) and the gradients are not amplified that way, and
///   `Tools/parity/reference_parity.py` passes every spec with this split.
///   *Why not F(4×4) on small outputs:* a layer's GEMMs have one row per tile and batch shard
///   (16 images), and F(4×4) has a quarter of F(2×2)'s tiles: at 8×8 outputs its 36 GEMMs have 64
///   rows and at 4×4 16 rows, where OpenBLAS's packing dominates. `rkan-bench conv --batch 16`
///   (AMD EPYC, Cooperlake, 2 threads): forward + backward 15.2 → 10.8 ms at 32×32 (64 channels)
///   and 11.7 → 10.3 ms at 16×16, but 11.8 → 12.2 ms at 8×8 and 16.4 → 27.2 ms at 4×4.
/// - `winogradF2` (`winograd-f2`, the default of earlier versions): F(2×2, 3×3) everywhere, 16
///   multiplies per 2×2 tile instead of 36 (2.25× fewer GEMM flops), rounding error ≈ 2–3·10⁻⁷
///   of the largest output.
/// - `winogradF4` (`winograd-f4a`): F(4×4, 3×3) everywhere, 36 multiplies per 4×4
///   output tile and channel pair instead of 144 (4× fewer GEMM flops), with the interpolation
///   points 0, 1, −1, ½, −2, ∞ (Barabasz, Anderson,
///   Soodhalter & Gregg, "Error analysis and improving the accuracy of Winograd convolution for
///   deep neural networks", 2020) instead of Lavin & Gray's 0, ±1, ±2: the same multiplies, about
///   3× less rounding error (≤ 1.4·10⁻⁶ on WinogradTests' shapes, within F(2×2)'s bound).
///   It takes the place of `winograd-f4` (Lavin's points, 3–5·10⁻⁶), whose name is refused with
///   that explanation, since its run files were made with other bytes. With it in the
///   training-mode forward, `Tools/parity/reference_parity.py` fails wide_resnet101_2 (above).
/// - `im2col`: the plain im2col + GEMM path everywhere.
/// `RKAN_CONV_ALGO` picks one (`EngineContext.fromEnvironment`; a model uses its context's). All are deterministic; they round differently, so a run's bytes
/// depend on the choice (run files record it as `conv_algorithm`).
public enum ConvAlgorithm: String, Sendable, CaseIterable {
    case winogradMixed = "winograd-mixed", winogradF4 = "winograd-f4a", winogradF2 = "winograd-f2", im2col

    /// The algorithm used when `RKAN_CONV_ALGO` is unset or empty.
    public static let standard: ConvAlgorithm = .winogradMixed

    /// `RKAN_CONV_ALGO` parsed; nil when unset or empty.
    /// - Throws: `EngineError.invalidArgument` naming the variable and the accepted values (for
    ///   `winograd-f4`, also that it was replaced by `winograd-f4a`).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> ConvAlgorithm? {
        guard let v = env["RKAN_CONV_ALGO"], !v.isEmpty else { return nil }
        guard let a = ConvAlgorithm(rawValue: v) else {
            let replaced = v == "winograd-f4"
                ? " (winograd-f4, F(4×4) with Lavin & Gray's points, was replaced by winograd-f4a, F(4×4) with better-conditioned points and other bytes: run files made with winograd-f4 cannot be resumed or digest-checked by this build)"
                : ""
            throw EngineError.invalidArgument(op: "RKAN_CONV_ALGO", detail:
                "\"\(v)\" is not one of \(allCases.map(\.rawValue).joined(separator: ", "))\(replaced); unset it for the default (\(standard.rawValue))")
        }
        return a
    }

    /// The single-algorithm choice the kernels run for `stage` of the conv `g`: itself, except for
    /// `winogradMixed`, which is F(4×4) for `.inferenceForward` and `.backward` when `g`'s output
    /// has at least `Winograd.f4MinOutputPixels` pixels, and F(2×2) otherwise. A function of the
    /// stage and the geometry without the batch, so an image's bytes do not depend on the shards.
    public func resolved(for stage: ConvStage, _ g: Conv2dGeometry) -> ConvAlgorithm {
        guard self == .winogradMixed else { return self }
        return stage != .trainingForward && g.outHeight * g.outWidth >= Winograd.f4MinOutputPixels ? .winogradF4 : .winogradF2
    }

    /// Output tile size m of F(m×m, 3×3), or nil for im2col.
    var tile: Int? {
        switch self {
        case .winogradF4: 4
        case .winogradF2: 2
        case .im2col: nil
        case .winogradMixed:
            preconditionFailure("ConvAlgorithm.winogradMixed reached a kernel unresolved: pass tuning.resolved(for: stage, geometry) to conv2dForward/conv2dBackward")
        }
    }
}

/// Which pass of a convolution a kernel call serves; `ConvAlgorithm.resolved(for:)` may choose per stage.
public enum ConvStage: Sendable {
    /// The forward pass of a layer in training mode (its output feeds batch statistics).
    case trainingForward
    /// The forward pass in inference mode.
    case inferenceForward
    /// Input and weight gradients (`conv2dBackward`).
    case backward
}
