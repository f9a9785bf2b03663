/// Geometry of a 2-D convolution on NHWC activations with OHWI weights.
///
/// Legend: N batch, H/W input size, C input channels, O output channels, k kernel, s stride,
/// p padding, G groups, Cg = C/G, Og = O/G, Ho/Wo output size, M = N·Ho·Wo output pixels,
/// Kg = k·k·Cg patch length of one group, K = k·k·C patch length of all groups.
public struct Conv2dGeometry: Equatable, Sendable {
    public let batch, height, width, inChannels, outChannels, kernel, stride, padding, groups: Int

    public init(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int,
                kernel: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1) {
        self.batch = batch; self.height = height; self.width = width
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.groups = groups
    }

    /// The same layer on `n` images (one batch shard).
    public func with(batch n: Int) -> Conv2dGeometry {
        Conv2dGeometry(batch: n, height: height, width: width, inChannels: inChannels, outChannels: outChannels,
                       kernel: kernel, stride: stride, padding: padding, groups: groups)
    }

    /// PyTorch's output size: ⌊(H + 2p − k) / s⌋ + 1.
    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// Cg: input channels per group.
    public var groupInChannels: Int { inChannels / groups }
    /// Og: output channels per group.
    public var groupOutChannels: Int { outChannels / groups }
    /// Kg = k·k·Cg: one group's patch length (a row of the OHWI weight).
    public var groupPatch: Int { kernel * kernel * groupInChannels }
    /// K = k·k·C: width of the col matrix.
    public var patch: Int { kernel * kernel * inChannels }
    /// M = N·Ho·Wo: rows of the col and output matrices.
    public var rows: Int { batch * outHeight * outWidth }
    public var inputShape: [Int] { [batch, height, width, inChannels] }
    public var outputShape: [Int] { [batch, outHeight, outWidth, outChannels] }
    /// Weight shape in engine order (O, k, k, Cg).
    public var weightShape: [Int] { [outChannels, kernel, kernel, groupInChannels] }
    /// Multiply-adds of the forward pass.
    public var macs: Int { rows * outChannels * groupPatch }
    /// Sizes positive, channels divisible by groups, output at least 1×1.
    public var isValid: Bool {
        batch >= 0 && height > 0 && width > 0 && kernel > 0 && stride > 0 && padding >= 0 && groups > 0
            && inChannels > 0 && outChannels > 0 && inChannels % groups == 0 && outChannels % groups == 0
            && height + 2 * padding >= kernel && width + 2 * padding >= kernel
    }
    /// 1×1, stride 1, no padding: the input already is the col matrix.
    var isDirectGEMM: Bool { kernel == 1 && stride == 1 && padding == 0 }
}
