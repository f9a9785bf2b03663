import Foundation

/// A parsed model spec: `backbone[(opt=value,...)][+rkan[(opt=value,...)]]`, or a detector around
/// such a backbone, `maskrcnn(backbone…)` (docs/design.md).
///
/// Examples: `resnet101+rkan` (RKANet-101), `resnet101+rkan(stages=3/4)` (RKANet-E-101),
/// `resnet101+rkan(inv=4)` (RKANet-101-4×L), `resnet18(stem=small,width=0.25)+rkan`,
/// `maskrcnn(resnet50+rkan(inv=2))` (Mask R-CNN with an RKANet-50-2×L backbone).
public struct ModelSpec: Hashable, Sendable, CustomStringConvertible {
    public var backbone: Backbone
    public var stem: Stem = .standard
    /// Channel multiplier for scaled profiles (1 = the paper's widths).
    public var width: Double = 1
    /// RKAN options, or nil for the plain backbone.
    public var rkan: RKANOptions?
    /// The detector built around the backbone, or nil for a classifier. A detector's backbone is
    /// the same spec with `detector` nil (`classifierSpec`); `width` scales its heads too.
    public var detector: Detector?

    public enum Stem: String, Sendable, CaseIterable { case standard, small }
    /// Detection architectures: Mask R-CNN as the reference's RKAN_RCNN builds it.
    public enum Detector: String, Sendable, CaseIterable { case maskrcnn }

    public init(backbone: Backbone, stem: Stem = .standard, width: Double = 1, rkan: RKANOptions? = nil, detector: Detector? = nil) {
        self.backbone = backbone; self.stem = stem; self.width = width; self.rkan = rkan; self.detector = detector
    }

    /// The backbone as a classifier (the same spec without its detector).
    public var classifierSpec: ModelSpec {
        var s = self
        s.detector = nil
        return s
    }

    /// Canonical text: options in a fixed order, defaults omitted (stable for file names and reports).
    public var description: String {
        var s = backbone.rawValue
        var opts: [String] = []
        if stem != .standard { opts.append("stem=\(stem.rawValue)") }
        if width != 1 { opts.append("width=\(formatNumber(width))") }
        if !opts.isEmpty { s += "(" + opts.joined(separator: ",") + ")" }
        if let r = rkan { s += "+rkan" + r.optionText }
        if let d = detector { s = d.rawValue + "(" + s + ")" }
        return s
    }
}

/// RKAN block options (docs/design.md "Model specs").
public struct RKANOptions: Hashable, Sendable {
    /// 1-based stages that carry an RKAN block (default: stage 4 only).
    public var stages: [Int] = [4]
    /// Bottleneck reduction: M = C_in / reduce (ignored when `inv` is set).
    public var reduce: Int = 2
    /// RKAN-L inverse bottleneck expansion: M = C_in · inv.
    public var inv: Int? = nil
    /// KAN of the RKAN convolutions: Chebyshev (degree `degree`), RBF (FastKAN, G centres on
    /// [−1, 1]) or B-spline (KANLinear, G intervals on [−1, 1], order `degree`), G = the reference's
    /// `grid_size`: 3 for kan_conv1, 2 for kan_conv2 (3 on SE-ResNet and ResNet-D).
    public var kan: KANType = .chebyshev
    /// Chebyshev degree of kan_conv1 (the spline order for `kan=b_spline`): the reference's
    /// `spline_order[0]` (fe63108:residual_networks/RKAN_ResNet.py `spline_order = (3, 2)`).
    public var degree: Int = 3
    /// Degree of kan_conv2 (stage 4 only): the reference's `spline_order[1]` = 2 (same file; hard-coded
    /// `spline_order = 2` in 815a357:residual_networks/RKAN_SENet.py and RKAN_ResNet_D.py).
    public var degree2: Int = 2
    public var mech: Mechanism = .addition

    public enum KANType: String, Sendable, CaseIterable { case chebyshev, rbf, b_spline }
    public enum Mechanism: String, Sendable, CaseIterable { case addition, gating, se }

    public init() {}

    var optionText: String {
        var o: [String] = []
        if stages != [4] { o.append("stages=" + stages.map(String.init).joined(separator: "/")) }
        if let inv { o.append("inv=\(inv)") } else if reduce != 2 { o.append("reduce=\(reduce)") }
        if kan != .chebyshev { o.append("kan=\(kan.rawValue)") }
        if (degree, degree2) != (3, 2) { o.append(degree == degree2 ? "degree=\(degree)" : "degree=\(degree)/\(degree2)") }
        if mech != .addition { o.append("mech=\(mech.rawValue)") }
        return o.isEmpty ? "" : "(" + o.joined(separator: ",") + ")"
    }
}

/// The backbones of the paper's tables: torchvision names where torchvision has the model,
/// otherwise the reference code's names.
public enum Backbone: String, Sendable, CaseIterable {
    case resnet18, resnet34, resnet50, resnet101, resnet152
    case wide_resnet50_2, wide_resnet101_2, resnext50_32x4d, resnext101_32x8d
    case resnet101d, seresnet50, seresnet101, ela_l_resnet50
    case regnet_y_400mf, regnet_y_3_2gf, regnet_y_8gf, regnet_y_32gf
    case densenet121, densenet161, densenet169, densenet201
}

/// A model spec that cannot be parsed or names something unknown.
public struct SpecError: Error, CustomStringConvertible, Equatable {
    public let spec: String
    public let problem: String
    public init(spec: String, problem: String) { self.spec = spec; self.problem = problem }
    public var description: String { "model spec '\(spec)': \(problem)" }
}

func formatNumber(_ x: Double) -> String {
    x == x.rounded() ? String(Int(x)) : String(x)
}
