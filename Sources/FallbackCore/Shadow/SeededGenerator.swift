/// SplitMix64 (Steele, Lea and Flood): the one seeded generator of the project. Shadow sampling and
/// the simulated provider draw from it, so both are reproducible from a seed; tests use it for
/// repeatable mutations and generated data.
///
/// It is not cryptographic; it is fast, passes BigCrush, and every seed (0 included) gives a full-period
/// sequence. Value type: callers that share one keep it under a lock.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The generator for request `index` of a stream seeded with `seed` (one per simulated request).
    public init(seed: UInt64, requestIndex index: UInt64) {
        state = seed ^ (index &* 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double uniformly in `0..<1`, from the top 53 bits of one draw.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Whether one draw falls under `probability`: never for 0 (or less, or NaN), always for 1 (or more).
    public mutating func chance(_ probability: Double) -> Bool {
        nextUnit() < probability
    }

    /// An integer uniformly in `lower...upper` (`lower` when the range is empty).
    public mutating func nextInt(in lower: Int64, _ upper: Int64) -> Int64 {
        guard upper > lower else { return lower }
        let span = UInt64(bitPattern: upper &- lower) &+ 1
        let offset = span == 0 ? next() : next() % span
        return lower &+ Int64(bitPattern: offset)
    }
}
