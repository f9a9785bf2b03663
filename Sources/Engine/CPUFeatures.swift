import CKernels

/// The x86-64 extensions this CPU has and the OS enables (CPUID, plus XGETBV for the AVX and
/// AVX-512 register state), read once by CKernels. They decide which OpenBLAS cores can run
/// here (`BLASCore`).
public struct CPUFeatures: OptionSet, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let sse2 = CPUFeatures(rawValue: UInt32(RKAN_CPU_SSE2))
    public static let sse3 = CPUFeatures(rawValue: UInt32(RKAN_CPU_SSE3))
    public static let ssse3 = CPUFeatures(rawValue: UInt32(RKAN_CPU_SSSE3))
    public static let sse41 = CPUFeatures(rawValue: UInt32(RKAN_CPU_SSE41))
    public static let sse42 = CPUFeatures(rawValue: UInt32(RKAN_CPU_SSE42))
    /// AVX with YMM state saved by the OS.
    public static let avx = CPUFeatures(rawValue: UInt32(RKAN_CPU_AVX))
    public static let avx2 = CPUFeatures(rawValue: UInt32(RKAN_CPU_AVX2))
    public static let fma = CPUFeatures(rawValue: UInt32(RKAN_CPU_FMA))
    /// AVX-512 F, DQ, CD, BW and VL with ZMM state saved by the OS (OpenBLAS's SkylakeX level).
    public static let avx512 = CPUFeatures(rawValue: UInt32(RKAN_CPU_AVX512))
    public static let avx512bf16 = CPUFeatures(rawValue: UInt32(RKAN_CPU_AVX512BF16))
    public static let amd = CPUFeatures(rawValue: UInt32(RKAN_CPU_AMD))
    public static let intel = CPUFeatures(rawValue: UInt32(RKAN_CPU_INTEL))

    /// This machine's features.
    public static var current: CPUFeatures { CPUFeatures(rawValue: UInt32(rkan_cpu_features())) }

    /// x86-64-v3's arithmetic (AVX2 and FMA): what the `portable` core needs.
    public var isV3: Bool { contains([.avx2, .fma]) }

    /// The highest level, in words ("AVX-512 + BF16", "AVX2 + FMA", …), for notices.
    public var level: String {
        if contains([.avx512, .avx512bf16]) { return "AVX-512 + BF16" }
        if contains(.avx512) { return "AVX-512" }
        if isV3 { return "AVX2 + FMA" }
        if contains(.avx) { return "AVX" }
        if contains(.sse42) { return "SSE4.2" }
        if contains(.ssse3) { return "SSSE3" }
        return contains(.sse3) ? "SSE3" : "SSE2"
    }

    public var description: String { level }
}

/// The builds of the engine's C kernels (CKernels: Winograd transforms, BatchNorm, ReLU, add):
/// baseline x86-64 (SSE2) and AVX2 on 8 floats at a time, AVX-512 on 16. Every build performs the
/// same IEEE operations in the same order on every value, so they give the same bytes; the widest
/// one this CPU and OS support runs unless `RKAN_KERNELS=sse2|avx2|avx512` in the environment or
/// `current` caps it.
public enum KernelBuild: Int, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    case sse2, avx2, avx512

    /// The widest build this CPU and OS run.
    public static var supported: KernelBuild { KernelBuild(rawValue: Int(rkan_kernels_isa_supported())) ?? .sse2 }

    /// The build that runs; setting it caps the builds at that one (for tests and A/B comparisons;
    /// `.avx512` restores the widest supported).
    public static var current: KernelBuild {
        get { KernelBuild(rawValue: Int(rkan_kernels_isa())) ?? .sse2 }
        set { rkan_kernels_limit_isa(Int32(newValue.rawValue)) }
    }

    /// The builds this machine can run, narrowest first.
    public static var runnable: [KernelBuild] { allCases.filter { $0 <= supported } }

    /// For tests on CPUs without AVX-512: while true, the AVX2 build runs the AVX-512 build's
    /// 16-float code (each 16-float operation as two 8-float ones), so its bytes can be checked
    /// where AVX-512 does not run.
    public static var sixteenLanesOnAVX2: Bool = false {
        didSet { rkan_kernels_wide_on_avx2(sixteenLanesOnAVX2 ? 1 : 0) }
    }

    public static func < (a: KernelBuild, b: KernelBuild) -> Bool { a.rawValue < b.rawValue }

    /// The environment variable that caps the build (`sse2`, `avx2` or `avx512`).
    public static let environmentVariable = "RKAN_KERNELS"

    /// The build named as `RKAN_KERNELS` names it (nil for any other text).
    public init?(name: String) {
        guard let b = KernelBuild.allCases.first(where: { $0.name == name }) else { return nil }
        self = b
    }

    /// `sse2`, `avx2` or `avx512`.
    public var name: String { ["sse2", "avx2", "avx512"][rawValue] }

    public var description: String { ["SSE2", "AVX2", "AVX-512"][rawValue] }
}
