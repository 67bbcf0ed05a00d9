import Testing

@testable import FallbackCore

@Suite("Health: latency histogram")
struct HealthLatencyHistogramTests {
    /// Whether `estimate` is within the documented relative error of `exact`.
    func withinBinError(_ estimate: Int64, _ exact: Int64) -> Bool {
        Double(abs(estimate - exact)) <= LatencyHistogram.maxRelativeError * Double(exact)
    }

    @Test("bins are fixed: 76 of them, bounds strictly increasing, the last open-ended")
    func binLayout() {
        let bounds = LatencyHistogram.upperBounds
        #expect(bounds.count == LatencyHistogram.binCount)
        #expect(LatencyHistogram().bins.count == LatencyHistogram.binCount)
        #expect(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 })
        #expect(Array(bounds.prefix(17)) == Array(0...16))
        #expect(bounds[17] == 20)
        #expect(bounds[LatencyHistogram.binCount - 1] == .max)
        // The last bounded bin reaches past 110 minutes (16 ms * 1.25^58).
        #expect(bounds[LatencyHistogram.binCount - 2] > 110 * 60_000)
    }

    @Test("every latency up to the last bound is estimated within the documented error; exact up to 16 ms")
    func estimateErrorBound() {
        for ms in Int64(0)...16 {
            #expect(LatencyHistogram.estimate(bin: LatencyHistogram.binIndex(ms)) == ms)
        }
        var worst = 0.0
        let last = LatencyHistogram.upperBounds[LatencyHistogram.binCount - 2]
        var values = Array(Int64(17)...50_000)
        values += stride(from: Int64(50_001), through: last, by: 7_919)
        for bound in LatencyHistogram.upperBounds.dropLast() where bound >= 17 { values += [bound, bound + 1] }
        for ms in values where ms <= last {
            let index = LatencyHistogram.binIndex(ms)
            #expect(ms <= LatencyHistogram.upperBounds[index])
            #expect(index == 0 || ms > LatencyHistogram.upperBounds[index - 1])
            let estimate = LatencyHistogram.estimate(bin: index)
            worst = max(worst, Double(abs(estimate - ms)) / Double(ms))
        }
        #expect(worst <= LatencyHistogram.maxRelativeError, "worst relative error \(worst)")
        #expect(worst > 0.05)  // the bound is not vacuous: bins really are ~25% wide
    }

    @Test("uniform 1...1000 ms: p50 ~ 500, p95 ~ 950, p99 ~ 990 within bin error")
    func uniformPercentiles() {
        var histogram = LatencyHistogram()
        for ms in Int64(1)...1_000 { histogram.add(ms) }
        #expect(histogram.count == 1_000)
        #expect(withinBinError(histogram.percentile(0.50), 500))
        #expect(withinBinError(histogram.percentile(0.95), 950))
        #expect(withinBinError(histogram.percentile(0.99), 990))
        #expect(withinBinError(histogram.percentile(1.0), 1_000))
        #expect(histogram.percentile(0) == 1)
    }

    @Test("skewed distribution: 90 fast calls and 10 slow ones")
    func skewedPercentiles() {
        var histogram = LatencyHistogram()
        for _ in 0..<90 { histogram.add(200) }
        for _ in 0..<10 { histogram.add(30_000) }
        #expect(withinBinError(histogram.percentile(0.50), 200))
        #expect(withinBinError(histogram.percentile(0.90), 200))
        #expect(withinBinError(histogram.percentile(0.91), 30_000))
        #expect(withinBinError(histogram.percentile(0.99), 30_000))
    }

    @Test("empty histogram reports 0; negative latencies count as 0; p is clamped to 0...1")
    func edges() {
        var histogram = LatencyHistogram()
        #expect(histogram.percentile(0.5) == 0)
        histogram.add(-40)
        #expect(histogram.count == 1)
        #expect(histogram.bins[0] == 1)
        histogram.add(7)
        #expect(histogram.percentile(-3) == 0)
        #expect(histogram.percentile(7) == 7)
    }

    @Test("latencies beyond the last bound land in the overflow bin and report its lower edge")
    func overflowBin() {
        var histogram = LatencyHistogram()
        histogram.add(10 * 3_600_000)
        #expect(histogram.bins[LatencyHistogram.binCount - 1] == 1)
        #expect(histogram.percentile(0.5) == LatencyHistogram.upperBounds[LatencyHistogram.binCount - 2] + 1)
    }

    @Test("merge equals adding everything to one histogram")
    func merge() {
        var left = LatencyHistogram()
        var right = LatencyHistogram()
        var both = LatencyHistogram()
        for ms in Int64(1)...300 {
            if ms % 3 == 0 { left.add(ms * 7) } else { right.add(ms * 7) }
            both.add(ms * 7)
        }
        left.merge(right)
        #expect(left == both)
        left.merge(LatencyHistogram())
        #expect(left == both)
    }

    @Test("init(bins:) round-trips and folds unknown extra bins into the last one")
    func persistedBins() {
        var histogram = LatencyHistogram()
        for ms: Int64 in [3, 250, 250, 9_000] { histogram.add(ms) }
        #expect(LatencyHistogram(bins: histogram.bins) == histogram)
        let short = LatencyHistogram(bins: [2, 1])
        #expect(short.count == 3)
        #expect(short.bins.count == LatencyHistogram.binCount)
        let long = LatencyHistogram(bins: Array(repeating: 1, count: LatencyHistogram.binCount + 3))
        #expect(long.count == LatencyHistogram.binCount + 3)
        #expect(long.bins[LatencyHistogram.binCount - 1] == 4)
    }
}
