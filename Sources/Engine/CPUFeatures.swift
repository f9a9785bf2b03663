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
