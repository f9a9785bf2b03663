import Engine

extension Model {
    /// MACs of one image at `size`×`size` (thop's convention; eval-mode forward at batch 1).
    public func macs(size: Int) throws -> Int {
        let x = Tensor(zeros: [1, size, size, inChannels])
        return try MACCounter.count { _ = try forward(x, mode: .eval) }
    }
}
