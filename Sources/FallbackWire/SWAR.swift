/// Word-at-a-time byte tests (the classic bit tricks): exact as booleans.
enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always) static func hasZero(_ word: UInt64) -> Bool { (word &- ones) & ~word & highs != 0 }

    @inline(__always) static func has(_ word: UInt64, _ byte: UInt8) -> Bool { hasZero(word ^ (ones &* UInt64(byte))) }

    /// Some byte is below `limit` (at most 128).
    @inline(__always) static func hasLess(_ word: UInt64, than limit: UInt8) -> Bool {
        (word &- ones &* UInt64(limit)) & ~word & highs != 0
    }

    /// Some byte is a control character, a quote or a backslash.
    @inline(__always) static func needsEscape(_ word: UInt64) -> Bool {
        hasLess(word, than: 0x20) || has(word, 0x22) || has(word, 0x5C)
    }

    /// Some byte is not ASCII.
    @inline(__always) static func hasHigh(_ word: UInt64) -> Bool { word & highs != 0 }
}
