/// SplitMix64 (Steele, Lea and Flood), the same small generator FallbackProviders uses for simulation,
/// kept internal to FallbackCore so shadow sampling is reproducible from a seed without a dependency.
///
/// It is not cryptographic; it is fast, passes BigCrush, and every seed (0 included) gives a full-period
/// sequence. Value type: callers that share one keep it under a lock.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double uniformly in `0..<1`, from the top 53 bits of one draw.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Whether one draw falls under `probability`: never for 0 (or less, or NaN), always for 1 (or more).
    mutating func chance(_ probability: Double) -> Bool {
        nextUnit() < probability
    }
}
