import Foundation

/// An inference-mode BatchNorm, optionally followed by a residual add and ReLU, to be applied by a
/// conv to its output as it is written (`Conv2d.forward(_:mode:then:)`); made by
/// `BatchNorm2d.epilogue(adding:relu:)` with the coefficients BatchNorm's own eval forward uses.
public final class ConvEpilogue {
    public let channels: Int
    let coefficients: UnsafeMutablePointer<Float>   // (3, C): mean, scale, shift
    let residual: Tensor?
    let relu: Bool
    private let macs: MACCounter
    private let macsPerElement: Int

    init(channels: Int, residual: Tensor?, relu: Bool, macs: MACCounter, macsPerElement: Int) {
        self.channels = channels; self.residual = residual; self.relu = relu
        self.macs = macs; self.macsPerElement = macsPerElement
        coefficients = .allocate(capacity: 3 * channels)
    }
    deinit { coefficients.deallocate() }

    var mean: UnsafePointer<Float> { UnsafePointer(coefficients) }
    var scale: UnsafePointer<Float> { UnsafePointer(coefficients + channels) }
    var shift: UnsafePointer<Float> { UnsafePointer(coefficients + 2 * channels) }

    /// Counts what the BatchNorm layer would have counted for `elements` values.
    func countMACs(elements: Int) { macs.add(macsPerElement * elements) }
}
