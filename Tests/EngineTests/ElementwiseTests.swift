import XCTest
@testable import Engine
import TestSupport

final class ElementwiseTests: XCTestCase {
    func testAddAndAccumulate() throws {
        let a = randomTensor([2, 3, 4, 5], seed: 1), b = randomTensor([2, 3, 4, 5], seed: 2)
        let y = try addForward(a, b)
        XCTAssertEqual(y.array, zip(a.array, b.array).map { $0 + $1 })
        let g = a.copy()
        accumulate(into: g, b)
        XCTAssertEqual(g.array, y.array)
        assertThrowsMessage(["add", "[2, 3, 4, 5]", "[2, 3, 5, 4]"]) { _ = try addForward(a, Tensor(zeros: [2, 3, 5, 4])) }
    }

    func testChannelMulReferenceMatchesFiniteDifferences() {
        let (n, c) = (2, 3)
        let x = testValues(n * 5 * c, seed: 3), s = testValues(n * c, seed: 4), g = testValues(n * 5 * c, seed: 5)
        let (dx, ds) = PointwiseReference.channelMulBackward(dy: g, x: x, s: s, n: n, c: c)
        assertClose(dx, numericalGradient(x) { dot(PointwiseReference.channelMulForward(x: $0, s: s, n: n, c: c), g) }, rtol: 1e-7, atol: 1e-9, "dx")
        assertClose(ds, numericalGradient(s) { dot(PointwiseReference.channelMulForward(x: x, s: $0, n: n, c: c), g) }, rtol: 1e-7, atol: 1e-9, "ds")
    }

    func testChannelMulMatchesReference() throws {
        for sShape in [[3, 7], [3, 1, 1, 7]] {
            let x = randomTensor([3, 5, 6, 7], seed: 6), s = randomTensor(sShape, seed: 7), dy = randomTensor([3, 5, 6, 7], seed: 8)
            let y = try channelMulForward(x, s)
            let (dx, ds) = channelMulBackward(dy: dy, x: x, s: s)
            XCTAssertEqual(ds.shape, sShape)
            assertRelative(y.array, PointwiseReference.channelMulForward(x: x.array.doubles, s: s.array.doubles, n: 3, c: 7), 1e-6, "y")
            let ref = PointwiseReference.channelMulBackward(dy: dy.array.doubles, x: x.array.doubles, s: s.array.doubles, n: 3, c: 7)
            assertRelative(dx.array, ref.dx, 1e-6, "dx")
            assertRelative(ds.array, ref.ds, 1e-6, "ds")
        }
    }

    func testChannelMulShapeErrors() {
        let x = Tensor(zeros: [2, 4, 4, 8])
        assertThrowsMessage(["channelMul", "[2, 4, 4, 8]", "[2, 6]"]) { _ = try channelMulForward(x, Tensor(zeros: [2, 6])) }
        assertThrowsMessage(["channelMul", "[2, 8]"]) { _ = try channelMulForward(Tensor(zeros: [2, 8]), Tensor(zeros: [2, 8])) }
    }

    func testConcatAndSplitAreInverse() throws {
        let a = randomTensor([2, 3, 4, 5], seed: 9), b = randomTensor([2, 3, 4, 2], seed: 10), c = randomTensor([2, 3, 4, 1], seed: 11)
        let y = try concatChannels([a, b, c])
        XCTAssertEqual(y.shape, [2, 3, 4, 8])
        // Element (row r, channel j) comes from the piece holding channel j.
        for r in 0..<24 {
            XCTAssertEqual(Array(y.array[(r * 8)..<(r * 8 + 5)]), Array(a.array[(r * 5)..<(r * 5 + 5)]))
            XCTAssertEqual(Array(y.array[(r * 8 + 5)..<(r * 8 + 7)]), Array(b.array[(r * 2)..<(r * 2 + 2)]))
            XCTAssertEqual(y.array[r * 8 + 7], c.array[r])
        }
        let parts = splitChannels(y, sizes: [5, 2, 1])
        XCTAssertEqual(parts.map(\.shape), [a.shape, b.shape, c.shape])
        XCTAssertEqual(parts.map(\.array), [a.array, b.array, c.array])
        assertThrowsMessage(["concatChannels", "[2, 3, 4, 5]", "[2, 4, 4, 2]"]) { _ = try concatChannels([a, Tensor(zeros: [2, 4, 4, 2])]) }
        assertThrowsMessage(["concatChannels"]) { _ = try concatChannels([]) }
    }

    func testPyTorchFixtures() throws {
        let cases = Dictionary(uniqueKeysWithValues: try loadFixtureCases("elementwise").map { ($0.name, $0) })
        let mul = try XCTUnwrap(cases["channel_mul"])
        let x = engineTensor(mul.tensor("x")), s = engineTensor(mul.tensor("s"))
        let y = try channelMulForward(x, s)
        let (dx, ds) = channelMulBackward(dy: engineTensor(mul.tensor("dy")), x: x, s: s)
        assertRelative(y.array, engineValues(mul.tensor("y")), 1e-5, "channel_mul y")
        assertRelative(dx.array, engineValues(mul.tensor("dx")), 1e-4, "channel_mul dx")
        assertRelative(ds.array, mul.tensor("ds").data, 1e-4, "channel_mul ds")

        let add = try XCTUnwrap(cases["add"])
        assertRelative(try addForward(engineTensor(add.tensor("a")), engineTensor(add.tensor("b"))).array,
                       engineValues(add.tensor("y")), 1e-6, "add y")

        let cat = try XCTUnwrap(cases["concat"])
        let yc = try concatChannels([engineTensor(cat.tensor("a")), engineTensor(cat.tensor("b"))])
        XCTAssertEqual(yc.array, engineValues(cat.tensor("y")), "concat y (NCHW dim 1 = NHWC last dim)")
    }

    func testSameBytesForOneAndTwoThreads() throws {
        let x = randomTensor([9, 8, 8, 64], seed: 12), s = randomTensor([9, 64], seed: 13), dy = randomTensor([9, 8, 8, 64], seed: 14)
        let run = { (t: Int) -> [Float] in
            withThreads(t) { let r = channelMulBackward(dy: dy, x: x, s: s); return r.dx.array + r.ds.array }
        }
        assertSameBytes(run(1), run(2), "channelMulBackward")
    }
}
