import XCTest
@testable import Engine
import TestSupport

// Helpers shared by the pointwise-op tests (BatchNorm, activations, elementwise, KAN conv, loss).

/// A fixture tensor in the engine's layout: rank-4 NCHW becomes NHWC, others unchanged.
func engineTensor(_ f: FixtureTensor) -> Tensor {
    f.shape.count == 4 ? LayoutConversion.nhwc(fromNCHW: f.data, shape: f.shape) : Tensor(shape: f.shape, values: f.data)
}

/// The values of a fixture tensor in the engine's element order.
func engineValues(_ f: FixtureTensor) -> [Float] { engineTensor(f).array }

/// A tensor of deterministic values in [-scale, scale).
func randomTensor(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor {
    Tensor(shape: shape, values: testValues(shape.reduce(1, *), seed: seed).map { Float($0 * scale) })
}

/// Max-normalised relative error `max|a − e| / max|e|` must be ≤ tol.
func assertRelative(_ actual: [Float], _ expected: [Double], _ tol: Double, _ what: String,
                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
    guard actual.count == expected.count else { return }
    var num = 0.0, den = 0.0, worst = 0
    for i in actual.indices {
        let d = abs(Double(actual[i]) - expected[i])
        if d > num { num = d; worst = i }
        den = max(den, abs(expected[i]))
    }
    let rel = den == 0 ? num : num / den
    XCTAssertLessThanOrEqual(rel, tol, "\(what): max relative error \(rel) at [\(worst)] (\(actual[worst]) vs \(expected[worst]))",
                             file: file, line: line)
}

func assertRelative(_ actual: [Float], _ expected: [Float], _ tol: Double, _ what: String,
                    file: StaticString = #filePath, line: UInt = #line) {
    assertRelative(actual, expected.map(Double.init), tol, what, file: file, line: line)
}

/// Runs `body` with `Parallel.threads = n`, restoring the previous value.
func withThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
    let old = Parallel.threads
    Parallel.threads = n
    defer { Parallel.threads = old }
    return try body()
}

/// Byte-exact comparison of two float arrays (determinism tests).
func assertSameBytes(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "\(what) differs between thread counts", file: file, line: line)
}

/// `body` must throw an `EngineError` whose message contains every string of `parts`.
func assertThrowsMessage(_ parts: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected an error mentioning \(parts)", file: file, line: line)
    } catch {
        let message = "\(error)"
        XCTAssertTrue(error is EngineError, "not an EngineError: \(message)", file: file, line: line)
        for p in parts { XCTAssertTrue(message.contains(p), "message \"\(message)\" lacks \"\(p)\"", file: file, line: line) }
    }
}

/// Σ y·g: the scalar whose gradient w.r.t. y is g (finite-difference tests).
func dot(_ y: [Double], _ g: [Double]) -> Double { zip(y, g).reduce(0) { $0 + $1.0 * $1.1 } }

extension Array where Element == Float { var doubles: [Double] { map(Double.init) } }

/// Runs `body` once under every build of the C kernels (CKernels) this CPU runs, SSE2 first, then,
/// where AVX2 runs, once more with the AVX-512 build's 16-float code compiled for AVX2
/// (`KernelBuild.sixteenLanesOnAVX2`), so that code is checked on CPUs without AVX-512 too.
/// `body` gets the variant's name; the widest build is restored afterwards.
func forEachKernelBuild(file: StaticString = #filePath, line: UInt = #line, _ body: (String) throws -> Void) rethrows {
    defer { KernelBuild.current = .avx512; KernelBuild.sixteenLanesOnAVX2 = false }
    for build in KernelBuild.runnable {
        KernelBuild.current = build
        XCTAssertEqual(KernelBuild.current, build, "RKAN_KERNELS caps the builds: unset it for the tests", file: file, line: line)
        try body("\(build)")
    }
    if KernelBuild.supported >= .avx2 {
        KernelBuild.current = .avx2
        KernelBuild.sixteenLanesOnAVX2 = true
        try body("AVX-512 code on AVX2")
    }
}
