/// The product of sizes read from a file header, or nil when it exceeds `limit` (usually what
/// the file holds) or overflows: a header's sizes are believed only up to the data behind them.
/// - Parameters:
///   - sizes: the sizes (each ≥ 0).
///   - limit: the largest product accepted.
public func boundedProduct(_ sizes: [Int], limit: Int) -> Int? {
    if sizes.contains(0) { return 0 }
    var product = 1
    for s in sizes {
        guard s > 0 else { return nil }
        let (p, overflow) = product.multipliedReportingOverflow(by: s)
        guard !overflow, p <= limit else { return nil }
        product = p
    }
    return product
}
