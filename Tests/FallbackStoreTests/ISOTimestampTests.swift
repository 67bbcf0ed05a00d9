import Foundation
import Testing

@testable import FallbackStore

@Suite("ISO-8601 timestamps")
struct ISOTimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1_767_225_600_000, "2026-01-01T00:00:00.000Z"),
        (1_795_564_741_123, "2026-11-24T23:59:01.123Z"),
        (1_709_210_096_007, "2024-02-29T12:34:56.007Z"),   // leap day, 1-digit millis padded
        (951_782_400_050, "2000-02-29T00:00:00.050Z"),     // 400-year leap day, 2-digit millis padded
        (951_868_799_999, "2000-02-29T23:59:59.999Z"),
        (4_107_542_399_999, "2100-02-28T23:59:59.999Z"),   // 2100 is not a leap year
        (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-2_203_891_200_000, "1900-03-01T00:00:00.000Z"),  // 1900 is not a leap year
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ])
    func knownMillis(millis: Int64, expected: String) {
        #expect(ISOTimestamp.string(unixMillis: millis) == expected)
    }

    @Test func matchesFoundationOnASweep() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let millis = Int64.random(in: 0...4_102_444_800_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            // Foundation may round sub-millisecond float error; compare up to the second, then millis exactly.
            let ours = ISOTimestamp.string(unixMillis: millis)
            #expect(ours.count == 24)
            #expect(ours.prefix(19) == formatter.string(from: Date(timeIntervalSince1970: Double(millis / 1000))).prefix(19),
                    "millis \(millis) date \(date)")
            #expect(ours.dropFirst(20).prefix(3) == String(format: "%03d", Int(millis % 1000)))
        }
    }

    @Test func outsideFourDigitYears() {
        #expect(ISOTimestamp.string(unixMillis: 253_402_300_800_000) == "10000-01-01T00:00:00.000Z")
        #expect(ISOTimestamp.string(unixMillis: -62_167_219_200_001) == "-1-12-31T23:59:59.999Z")
    }
}
