/// Percentiles of a set of latencies (nanoseconds), nearest-rank.
struct LatencyStats: Sendable {
    let count: Int
    let p50: Double
    let p90: Double
    let p99: Double
    let p999: Double
    let max: Double
    let mean: Double

    /// All values in microseconds.
    init(nanos samples: [Int64]) {
        count = samples.count
        guard !samples.isEmpty else {
            p50 = .nan; p90 = .nan; p99 = .nan; p999 = .nan; max = .nan; mean = .nan
            return
        }
        let sorted = samples.sorted()
        func pick(_ q: Double) -> Double {
            let rank = Int((q * Double(sorted.count)).rounded(.up))
            return Double(sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]) / 1000
        }
        p50 = pick(0.50)
        p90 = pick(0.90)
        p99 = pick(0.99)
        p999 = pick(0.999)
        max = Double(sorted[sorted.count - 1]) / 1000
        mean = Double(samples.reduce(0, +)) / Double(samples.count) / 1000
    }
}
