/// The OpenBLAS kernel families (`OPENBLAS_CORETYPE` values) that rkan-repro chooses between, on
/// x86-64 builds of OpenBLAS with DYNAMIC_ARCH (Debian's): each name, the ISA level its kernels
/// need, and which one is best for a CPU.
///
/// OpenBLAS picks a core itself at load time from the CPU model; models it does not know fall
/// back hard (0.3.21 runs its SSE3 `Prescott` kernels on 5th-generation Xeons:
/// https://github.com/OpenMathLib/OpenBLAS/issues/4267), which costs 3–5× in GEMM speed. `best(for:)` picks from the CPU's features instead.
public enum BLASCore: String, CaseIterable, Sendable {
    case prescott = "Prescott", core2 = "Core2", nehalem = "Nehalem", sandybridge = "Sandybridge"
    case haswell = "Haswell", zen = "Zen", skylakeX = "SkylakeX", cooperlake = "Cooperlake"

    /// The core of `portable` runs: AVX2 + FMA kernels that every x86-64-v3 CPU (Intel and AMD)
    /// runs with the same blocking, so a seed gives the same bytes on all of them.
    public static let portable = BLASCore.haswell

    /// The ISA level of the kernels: a core runs faster than any of a lower tier.
    public var tier: Int {
        switch self {
        case .prescott, .core2, .nehalem: 0
        case .sandybridge: 1
        case .haswell, .zen: 2
        case .skylakeX: 3
        case .cooperlake: 4
        }
    }

    /// What the CPU (and OS) must support to run these kernels.
    public var requires: CPUFeatures {
        switch self {
        case .prescott: [.sse3]
        case .core2: [.sse3, .ssse3]
        case .nehalem: [.sse3, .ssse3, .sse41, .sse42]
        case .sandybridge: [.avx]
        case .haswell, .zen: [.avx, .avx2, .fma]
        case .skylakeX: [.avx2, .fma, .avx512]
        case .cooperlake: [.avx2, .fma, .avx512, .avx512bf16]
        }
    }

    /// Whether a CPU with `features` runs these kernels.
    public func runs(on features: CPUFeatures) -> Bool { features.isSuperset(of: requires) }

    /// The fastest core for a CPU with `features` (AMD's AVX2 CPUs get OpenBLAS's Zen blocking).
    public static func best(for features: CPUFeatures) -> BLASCore {
        if cooperlake.runs(on: features) { return .cooperlake }
        if skylakeX.runs(on: features) { return .skylakeX }
        if haswell.runs(on: features) { return features.contains(.amd) ? .zen : .haswell }
        if sandybridge.runs(on: features) { return .sandybridge }
        if nehalem.runs(on: features) { return .nehalem }
        if core2.runs(on: features) { return .core2 }
        return .prescott
    }

    /// The core named `name` as OpenBLAS spells it (case-insensitive), nil for any other.
    public init?(openBLASName name: String) {
        guard let c = BLASCore.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else { return nil }
        self = c
    }

    /// The core OpenBLAS runs in this process (nil when it is none of these, e.g. a newer
    /// OpenBLAS's Sapphirerapids, or a non-x86 build).
    public static var loaded: BLASCore? { BLASCore(openBLASName: BLAS.coreName) }
}
