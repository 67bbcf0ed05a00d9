/// Call latencies counted in fixed bins, so a window's percentiles cost constant memory.
///
/// Bins 0...16 hold exactly 0...16 ms. Above that, bins are log-spaced with ratio 1.25 (bin `17 + k`
/// holds the integers in `(16 * 1.25^k, 16 * 1.25^(k+1)]`) up to about 111 minutes; the last bin
/// holds everything slower. A percentile is reported as the value that minimises the worst relative
/// error over the integers its bin holds (their harmonic middle, `2 * lo * hi / (lo + hi)`, rounded),
/// so **an estimate is within 12% of the exact nearest-rank percentile** (`(1.25 - 1) / (1.25 + 1) ≈ 11.1%`
/// plus integer rounding; checked exhaustively by the tests) and exact up to 16 ms. Latencies beyond
/// the last bound (~111 min) are reported as that bound.
public struct LatencyHistogram: Sendable, Hashable {
    /// Number of bins: 17 exact, 58 log-spaced and one for everything slower.
    public static let binCount = 76
    /// Ratio between consecutive log-spaced bin bounds.
    public static let ratio = 1.25
    /// The documented bound on a percentile estimate's relative error (for latencies up to ~111 min).
    public static let maxRelativeError = 0.12

    /// Bins `0..<exactBins` hold exactly their own index in ms.
    private static let exactBins = 17

    /// Largest latency (ms) each bin holds, increasing; the last is `Int64.max`.
    public static let upperBounds: [Int64] = {
        var bounds = (0..<Int64(exactBins)).map { $0 }
        var edge = Double(exactBins - 1)
        for _ in exactBins..<(binCount - 1) {
            edge *= ratio
            bounds.append(Int64(edge))
        }
        bounds.append(.max)
        return bounds
    }()

    /// Count of latencies per bin (`binCount` entries).
    public private(set) var bins: [UInt32]
    /// Total number of latencies counted.
    public private(set) var count: Int

    /// An empty histogram.
    public init() {
        bins = Array(repeating: 0, count: Self.binCount)
        count = 0
    }

    /// A histogram from persisted bin counts. Missing bins count as zero; counts beyond `binCount`
    /// (from a build with more bins) are added to the last bin.
    public init(bins: [UInt32]) {
        self.init()
        for (index, value) in bins.enumerated() {
            let target = min(index, Self.binCount - 1)
            self.bins[target] = Self.saturatingAdd(self.bins[target], value)
        }
        count = self.bins.reduce(0) { $0 + Int($1) }
    }

    /// Counts one latency (negative values count as 0 ms).
    public mutating func add(_ ms: Int64) {
        let index = Self.binIndex(ms)
        bins[index] = Self.saturatingAdd(bins[index], 1)
        count += 1
    }

    /// Adds every latency counted in `other` (bin counts saturate at `UInt32.max`).
    public mutating func merge(_ other: LatencyHistogram) {
        guard other.count > 0 else { return }
        for index in 0..<Self.binCount where other.bins[index] > 0 {
            bins[index] = Self.saturatingAdd(bins[index], other.bins[index])
        }
        count += other.count
    }

    /// The nearest-rank `p` percentile estimate, `p` a fraction in `0...1` (0.5 for p50, 0.99 for p99);
    /// within `maxRelativeError` of the exact value. 0 when empty.
    public func percentile(_ p: Double) -> Int64 {
        guard count > 0 else { return 0 }
        let fraction = p.isNaN ? 0 : min(1, max(0, p))
        let rank = min(count, max(1, Int((fraction * Double(count)).rounded(.up))))
        var seen = 0
        for index in 0..<Self.binCount {
            seen += Int(bins[index])
            if seen >= rank { return Self.estimate(bin: index) }
        }
        return Self.estimate(bin: Self.binCount - 1)
    }

    /// The bin holding `ms`: the first whose upper bound is at least `ms`.
    static func binIndex(_ ms: Int64) -> Int {
        let value = max(0, ms)
        if value < Int64(exactBins) { return Int(value) }
        var low = exactBins
        var high = binCount - 1
        while low < high {
            let middle = (low + high) / 2
            if upperBounds[middle] >= value { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The value reported for a percentile falling in each bin: the exact value for the exact bins;
    /// for the log-spaced ones, the harmonic middle of the integers `lo...hi` the bin holds (it
    /// minimises the worst relative error over them); the lower edge for the last.
    static let estimates: [Int64] = (0..<binCount).map { bin in
        if bin < exactBins { return Int64(bin) }
        let lowest = upperBounds[bin - 1] + 1
        if bin == binCount - 1 { return lowest }
        let (lo, hi) = (Double(lowest), Double(upperBounds[bin]))
        return Int64((2 * lo * hi / (lo + hi)).rounded())
    }

    static func estimate(bin: Int) -> Int64 { estimates[bin] }

    private static func saturatingAdd(_ lhs: UInt32, _ rhs: UInt32) -> UInt32 {
        let (sum, overflow) = lhs.addingReportingOverflow(rhs)
        return overflow ? .max : sum
    }
}
